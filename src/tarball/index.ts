/**
 * @module
 * glidein.tar.gz: the archive every glidein unpacks (HTCondor's startd side under
 * glideinExec/, the runtime files, the pool credential, a SHA256SUMS manifest; see layout.ts).
 * Data flows one way: input archive or directory → stream of tar entries → filtered or added
 * entries → gzip in worker threads → temporary file → rename.
 *
 * - buildTarball: a reproducible archive from an HTCondor release tarball or install.
 * - injectCredentials: swaps in the pool password or an IDTOKEN in one streaming pass that
 *   leaves every other member's bytes untouched.
 * - inspectTarball: layout, credential facts (never content) and manifest check.
 *
 * @example
 * ```ts
 * const { credentials } = await readCredentials({ password: "pool_password" })
 * await injectCredentials({ input: "glidein.tar.gz", output: "site.tar.gz", credentials })
 * const report = await inspectTarball("site.tar.gz") // report.manifest.status === "verified"
 * ```
 */
export { type BuildOptions, type BuildReport, buildTarball } from "./build-tarball.ts"
export { type CredentialPaths, type Credentials, readCredentials } from "./credentials.ts"
export { type InjectOptions, type InjectReport, injectCredentials } from "./inject-credentials.ts"
export { type InspectReport, inspectTarball } from "./inspect-tarball.ts"
export * from "./layout.ts"
