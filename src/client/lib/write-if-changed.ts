/**
 * Writing a file so that it is whole or not there: the text goes to a new temporary file
 * beside it (created exclusively, under a random name, so nothing planted there is followed),
 * which is then renamed over the target. A full disk leaves the old file as it was and no
 * temporary file behind.
 */
import { lstatSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { basename, dirname, join } from "node:path"

/** Writes `text` to `path` with `mode` through a temporary file and a rename, unless it is already there. */
export function writeIfChanged(path: string, text: string, mode: number): void {
  try {
    // Only a plain file is compared: reading a FIFO planted there would hang the run (the
    // rename below replaces whatever is there, a symlink included, without following it).
    const info = lstatSync(path)
    if (
      info.isFile() &&
      info.size === Buffer.byteLength(text) &&
      readFileSync(path, "utf8") === text
    )
      return
  } catch {
    // Not there yet.
  }
  const temporary = join(
    dirname(path),
    `.${basename(path)}.${Buffer.from(crypto.getRandomValues(new Uint8Array(6))).toString("hex")}.tmp`,
  )
  try {
    writeFileSync(temporary, text, { mode, flag: "wx" })
    renameSync(temporary, path)
  } catch (error) {
    rmSync(temporary, { force: true })
    throw error
  }
}

/**
 * The text of a small state file of ours, or undefined when it is missing, not a plain file
 * (a planted FIFO would hang the run, a link leads elsewhere) or larger than `maxBytes`.
 */
export function readSmallFile(path: string, maxBytes: number): string | undefined {
  try {
    const info = lstatSync(path)
    if (!info.isFile() || info.size > maxBytes) return undefined
    return readFileSync(path, "utf8")
  } catch {
    return undefined
  }
}
