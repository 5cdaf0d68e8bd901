// Text imports of the runtime templates (`with { type: "text" }` makes them strings).
declare module "*.sh" {
  const text: string
  export default text
}
declare module "*/glidein_condor_config" {
  const text: string
  export default text
}
