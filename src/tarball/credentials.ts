/**
 * The pool credentials a tarball carries: the PASSWORD-method pool password file (binary, copied
 * byte for byte) and IDTOKENS (JWT text, one per line). Reading checks what can be checked
 * without the pool; nothing here ever puts credential bytes into a message.
 */
import { readFile, stat } from "node:fs/promises"
import { errorReason, UsageError } from "../errors.ts"

/** Credentials to put into a tarball. */
export interface Credentials {
  /** Pool password file as written by `condor_store_cred add -c -f FILE`. */
  password?: Uint8Array
  /** IDTOKEN file (one or more JWTs, one per line). */
  token?: Uint8Array
}

/** Paths given on the command line. */
export interface CredentialPaths {
  password?: string
  token?: string
}

/** Facts about a token file that are safe to print. */
export interface TokenSummary {
  /** Number of tokens in the file. */
  count: number
  /** Earliest `exp` claim (seconds since the epoch), if any token has one. */
  expires?: number
}

const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/

/** The JWT lines of a token file; comments and blank lines are skipped, as HTCondor does. */
function tokenLines(bytes: Uint8Array): string[] | undefined {
  let text: string
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes)
  } catch {
    return undefined
  }
  const lines = text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
  return lines.length > 0 && lines.every((line) => JWT.test(line)) ? lines : undefined
}

/** Count and earliest expiry of the tokens in a file; undefined when it holds no JWT. */
export function summarizeTokens(bytes: Uint8Array): TokenSummary | undefined {
  const lines = tokenLines(bytes)
  if (!lines) return undefined
  let expires: number | undefined
  for (const line of lines) {
    const exp = expiryOf(line)
    if (exp !== undefined && (expires === undefined || exp < expires)) expires = exp
  }
  return expires === undefined ? { count: lines.length } : { count: lines.length, expires }
}

function expiryOf(jwt: string): number | undefined {
  const payload = jwt.split(".")[1] ?? ""
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"))
    if (typeof claims === "object" && claims !== null && "exp" in claims) {
      const exp = (claims as { exp: unknown }).exp
      if (typeof exp === "number" && Number.isFinite(exp)) return exp
    }
  } catch {
    // a payload that is not JSON is the pool's business; HTCondor will say so
  }
  return undefined
}

/**
 * Warnings about credentials that are usable but probably not what was meant. `now` is seconds
 * since the epoch.
 */
export function credentialWarnings(
  flag: "--password" | "--token",
  file: string,
  bytes: Uint8Array,
  mode: number,
  now: number,
): string[] {
  const warnings: string[] = []
  if (mode & 0o077) {
    warnings.push(
      `${flag} "${file}" is readable by others (mode ${(mode & 0o777).toString(8).padStart(4, "0")}); consider chmod 600`,
    )
  }
  if (flag === "--password" && tokenLines(bytes)) {
    warnings.push(`${flag} "${file}" looks like an IDTOKEN; did you mean --token?`)
  }
  if (flag === "--token") {
    const expires = summarizeTokens(bytes)?.expires
    if (expires !== undefined && expires <= now) {
      warnings.push(`${flag} "${file}" expired on ${new Date(expires * 1000).toISOString()}`)
    }
  }
  return warnings
}

/**
 * Reads the credential files named by `--password` and `--token`. Refuses a file that cannot be
 * read, is not a regular file or is empty, and a token file without a JWT.
 */
export async function readCredentials(
  paths: CredentialPaths,
): Promise<{ credentials: Credentials; warnings: string[] }> {
  const credentials: Credentials = {}
  const warnings: string[] = []
  const now = Math.floor(Date.now() / 1000)
  for (const [key, flag] of [
    ["password", "--password"],
    ["token", "--token"],
  ] as const) {
    const file = paths[key]
    if (file === undefined) continue
    let bytes: Uint8Array
    let mode: number
    try {
      const info = await stat(file)
      if (!info.isFile()) throw new UsageError(`${flag} "${file}" is not a regular file`)
      mode = info.mode
      bytes = new Uint8Array(await readFile(file))
    } catch (error) {
      if (error instanceof UsageError) throw error
      throw new UsageError(`${flag} "${file}": cannot read it (${errorReason(error)})`, {
        cause: error,
      })
    }
    if (bytes.length === 0) throw new UsageError(`${flag} "${file}" is empty`)
    if (key === "token" && !tokenLines(bytes)) {
      throw new UsageError(
        `${flag} "${file}" does not hold an IDTOKEN (expected lines of the form header.payload.signature)`,
      )
    }
    credentials[key] = bytes
    warnings.push(...credentialWarnings(flag, file, bytes, mode, now))
  }
  return { credentials, warnings }
}
