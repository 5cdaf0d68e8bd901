/**
 * @module
 * Whether the glidein tarball a config names can make working glideins, checked where the
 * site can still fix it: on the login node, before anything is submitted, not hours later on a
 * batch node. The check is `glidein tarball inspect`'s (made by `glidein tarball build`,
 * HTCondor can run from it, its files match SHA256SUMS) plus a usable pool credential that
 * has not expired. Reading a tarball takes a while, so a run checks it once per change: the
 * result is kept in the state folder under the file's identity (device, inode, size, mtime),
 * and only the token's expiry is looked at anew each time.
 */
import { closeSync, existsSync, openSync, statSync } from "node:fs"
import { ConfigError, errorCode, errorReason } from "../../errors.ts"
import type { InspectReport } from "../../tarball/index.ts"
import { readSmallFile, writeIfChanged } from "../lib/write-if-changed.ts"
import type { SiteSetup } from "../site/site-setup.ts"

/** Refuses a real run whose tarball is not there, naming the config line that says where. */
export function requireTarball({ config, tarball }: SiteSetup): void {
  if (existsSync(tarball)) return
  const key =
    config.glidein.loc !== undefined && config.glidein.tarball === undefined ? "loc" : "tarball"
  throw new ConfigError(
    config.place("Glidein", key),
    `the glidein tarball "${tarball}" does not exist (make it with glidein tarball build)`,
  )
}

/** What a check keeps between runs. */
interface Verdict {
  /** The file's identity when it was read. */
  key: string
  /** Problems that do not change with time. */
  problems: string[]
  /** Expiry (seconds) of each valid token; null for one that never expires. */
  tokens: (number | null)[]
  /** A pool password HTCondor can use. */
  password: boolean
  /** A pool password HTCondor would read as empty (its first byte unscrambles to NUL). */
  emptyPassword?: boolean
}

/** Why glideins from `tarball` could not join the pool; empty when it is fine. `cache` keeps
 *  the verdict between runs (a file in the state folder), `now` is the time of the run. */
export async function tarballProblems(
  tarball: string,
  cache: string | undefined,
  now: Date,
): Promise<string[]> {
  return (await tarballCheck(tarball, cache, now)).problems
}

/**
 * tarballProblems(), and when the newest valid token of the tarball expires (Unix seconds):
 * undefined when its credential does not expire (a pool password, a token without an
 * expiry) or the tarball could not be read. The site reports it, so the server can warn.
 */
export async function tarballCheck(
  tarball: string,
  cache: string | undefined,
  now: Date,
): Promise<{ problems: string[]; tokenExpires?: number }> {
  const unread = (problem: string) => ({ problems: [problem] })
  let key: string
  try {
    const info = statSync(tarball)
    if (!info.isFile()) return unread(`the glidein tarball ${tarball} is not a file`)
    key = `${info.dev}:${info.ino}:${info.size}:${info.mtimeMs}`
  } catch (error) {
    return unread(
      errorCode(error) === "ENOENT"
        ? `the glidein tarball ${tarball} does not exist (make it with glidein tarball build)`
        : `cannot read the glidein tarball ${tarball} (${errorReason(error)})`,
    )
  }
  try {
    // Not readable now (a chmod away from fine): said, never kept as the file's verdict.
    closeSync(openSync(tarball, "r"))
  } catch (error) {
    return unread(`cannot read the glidein tarball ${tarball} (${errorReason(error)})`)
  }
  let verdict = cache === undefined ? undefined : readVerdict(cache, key)
  if (!verdict) {
    const read = await inspect(tarball, key)
    verdict = read.verdict
    // A file the system could not read (EACCES, an NFS hiccup) is read again next time: a
    // chmod changes no part of the key, and the verdict would outlive the fault.
    if (cache !== undefined && !read.systemError) saveVerdict(cache, verdict)
  }
  const problems = [...verdict.problems, ...credentialProblems(tarball, verdict, now)]
  const { tokens, password } = verdict
  const expires = password || tokens.length === 0 || tokens.includes(null) ? undefined : tokens
  return expires ? { problems, tokenExpires: Math.max(...(expires as number[])) } : { problems }
}

/** Reads the tarball through `tarball inspect`'s check; `systemError` when a system call
 *  failed rather than the file being wrong. */
async function inspect(
  tarball: string,
  key: string,
): Promise<{ verdict: Verdict; systemError: boolean }> {
  let report: InspectReport
  try {
    // Loaded only when the file changed: a cron run that finds its verdict kept does not
    // pay for the tar, gzip and ELF code.
    const { inspectTarball } = await import("../../tarball/inspect-tarball.ts")
    report = await inspectTarball(tarball)
  } catch (error) {
    const systemError = typeof (error as NodeJS.ErrnoException).code === "string"
    const verdict = { key, problems: [(error as Error).message], tokens: [], password: false }
    return { verdict, systemError }
  }
  const problems: string[] = []
  if (report.foreign !== undefined) {
    problems.push(
      `${tarball} is not a glidein tarball (${report.foreign}); make one with glidein tarball build`,
    )
  } else {
    if (report.missing.length > 0)
      problems.push(
        `${tarball} lacks ${report.missing.join(", ")} (rebuild it with glidein tarball build)`,
      )
    for (const p of report.problems) problems.push(`HTCondor cannot run from ${tarball}: ${p}`)
    if (report.manifest.status === "failed")
      problems.push(
        `the files of ${tarball} do not match its SHA256SUMS (changed after glidein tarball build; rebuild it)`,
      )
  }
  const verdict: Verdict = {
    key,
    problems,
    tokens: report.tokens.filter((t) => t.valid).map((t) => t.expires ?? null),
    password: report.password?.usable === true,
    ...(report.password !== undefined && !report.password.usable ? { emptyPassword: true } : {}),
  }
  return { verdict, systemError: false }
}

/** No credential, or only expired tokens: the collector would turn every glidein away. */
function credentialProblems(tarball: string, v: Verdict, now: Date): string[] {
  if (v.problems.length > 0 && v.tokens.length === 0 && !v.password) return []
  if (v.password) return []
  if (v.tokens.length === 0 && v.emptyPassword) {
    return [
      `the pool password in ${tarball} is empty as HTCondor reads it (its first byte unscrambles to NUL), so no glidein could join the pool (write it with condor_store_cred -c add -f FILE, then glidein tarball inject-password)`,
    ]
  }
  if (v.tokens.length === 0) {
    return [
      `${tarball} carries no pool credential, so no glidein could join the pool (add one with glidein tarball inject-password)`,
    ]
  }
  const seconds = now.getTime() / 1000
  const live = v.tokens.filter((t) => t === null || t > seconds)
  if (live.length > 0) return []
  const last = Math.max(...(v.tokens as number[]))
  return [
    `the token in ${tarball} expired at ${new Date(last * 1000).toISOString()}, so no glidein could join the pool (inject a new one with glidein tarball inject-password)`,
  ]
}

/** The kept verdict for `key`, or undefined when there is none (or the file changed). */
function readVerdict(file: string, key: string): Verdict | undefined {
  const text = readSmallFile(file, 1 << 20)
  if (text === undefined) return undefined
  try {
    const v = JSON.parse(text) as Verdict
    const ok =
      v.key === key &&
      Array.isArray(v.problems) &&
      v.problems.every((p) => typeof p === "string") &&
      Array.isArray(v.tokens) &&
      v.tokens.every((t) => t === null || typeof t === "number") &&
      typeof v.password === "boolean" &&
      (v.emptyPassword === undefined || typeof v.emptyPassword === "boolean")
    return ok ? v : undefined
  } catch {
    return undefined
  }
}

function saveVerdict(file: string, v: Verdict): void {
  try {
    writeIfChanged(file, `${JSON.stringify(v)}\n`, 0o600)
  } catch {
    // The next run reads the tarball again; nothing is lost.
  }
}
