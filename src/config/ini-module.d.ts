// The built-in defaults are an INI file embedded as text (`import t from "…" with { type: "text" }`).
declare module "*.ini" {
  const text: string
  export default text
}
