// The files of templates/ are embedded in the binary as text (`import t from "…" with { type:
// "text" }`): the job templates here, glidein_start.sh and the HTCondor config in src/runtime.
declare module "*.sh" {
  const text: string
  export default text
}

declare module "*.submit" {
  const text: string
  export default text
}

declare module "*/glidein_condor_config" {
  const text: string
  export default text
}
