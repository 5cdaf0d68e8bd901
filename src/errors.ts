/**
 * @module
 * Domain errors. Code anywhere throws these with the data a user needs; only `src/main.ts`
 * turns them into a line of text and an exit code.
 */

/** Exit codes of the contract in DESIGN.md. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const

/** Base class: an error whose message is written for the user, with its exit code. */
export class GlideinError extends Error {
  readonly exitCode: number
  constructor(message: string, exitCode: number = EXIT.failure, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
    this.exitCode = exitCode
  }
}

/** Bad command line: unknown flag, missing argument, wrong value. Exit 2. */
export class UsageError extends GlideinError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, EXIT.usage, options)
  }
}

/** Where in a config file something is; every field optional because not every error has all. */
export interface ConfigPlace {
  file?: string
  line?: number
  section?: string
  key?: string
}

/** Formats a place as `file:line: [section] key`, leaving out what is unknown. */
export function formatPlace(place: ConfigPlace): string {
  const parts: string[] = []
  if (place.file !== undefined)
    parts.push(place.line !== undefined ? `${place.file}:${place.line}:` : `${place.file}:`)
  if (place.section !== undefined) parts.push(`[${place.section}]`)
  if (place.key !== undefined) parts.push(`${place.key}:`)
  return parts.join(" ")
}

/** A configuration that cannot be used. Exit 2. The message names the place. */
export class ConfigError extends GlideinError {
  readonly place: ConfigPlace
  readonly detail: string
  constructor(place: ConfigPlace, detail: string, options?: ErrorOptions) {
    const where = formatPlace(place)
    super(where ? `${where} ${detail}` : detail, EXIT.usage, options)
    this.place = place
    this.detail = detail
  }
}

/** What a failed system call says, for a message: its code (ENOENT, EACCES, …) or its text. */
export function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message
}

/** What the system's error codes mean, in the words a message to a user needs. */
const REASONS: Record<string, string> = {
  ENOENT: "no such file",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EISDIR: "it is a directory",
  ENOTDIR: "a parent is not a directory",
  ELOOP: "too many symbolic links",
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  EROFS: "read-only file system",
  EMFILE: "too many open files",
  ENAMETOOLONG: "name too long",
  EIO: "input/output error",
  EBUSY: "busy",
  ENXIO: "no such device (a FIFO nobody reads?)",
}

/** Why a system call failed, in a few words (`no such file` rather than "ENOENT: no such
 *  file or directory, open '/x'"), for messages that name the file; an unknown code is given
 *  as it is, and an error without one by its message. */
export function errorReason(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === "string" && code !== "") return REASONS[code] ?? code
  return error instanceof Error ? error.message : String(error)
}
