// Job templates are embedded in the binary as text (`import t from "…" with { type: "text" }`).
declare module "*.sh" {
  const text: string
  export default text
}

declare module "*.submit" {
  const text: string
  export default text
}
