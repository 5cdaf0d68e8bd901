/**
 * @module
 * Files that hold secrets (the secrets file, serve's tokens file): read only when they are
 * regular files no other user can read, as pyglidein refused them. Messages name the file
 * and never quote its content.
 */
// node:fs, not node:fs/promises: the secrets file is read on every submit run, and loading
// node:fs/promises as well costs ~0.6 ms of it (measured in a compiled binary).
import { readFileSync, type Stats, statSync } from "node:fs"
import { ConfigError, errorReason } from "./errors.ts"

/**
 * The text of the file at `path`, or a ConfigError naming it as `what` (e.g. "secrets file")
 * unless it is a regular file of mode 0600 or stricter.
 * @example
 * readPrivateFile("/etc/glidein/tokens", "tokens file")
 * // ConfigError: /etc/glidein/tokens: the tokens file has mode 0644, so other users can read it; run: chmod 600 /etc/glidein/tokens
 */
export function readPrivateFile(path: string, what: string): string {
  let info: Stats
  try {
    info = statSync(path)
  } catch (error) {
    throw unreadable(path, what, error)
  }
  if (!info.isFile()) throw new ConfigError({ file: path }, `the ${what} is not a regular file`)
  const mode = info.mode & 0o777
  if ((mode & 0o077) !== 0) {
    throw new ConfigError(
      { file: path },
      `the ${what} has mode ${mode.toString(8).padStart(4, "0")}, so other users can read it; run: chmod 600 ${path}`,
    )
  }
  try {
    return readFileSync(path, "utf8")
  } catch (error) {
    // Stat needs no read permission: a 0600 file of another user fails here (EACCES).
    throw unreadable(path, what, error)
  }
}

function unreadable(path: string, what: string, error: unknown): ConfigError {
  return new ConfigError({ file: path }, `cannot read the ${what} (${errorReason(error)})`)
}
