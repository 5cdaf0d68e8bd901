/**
 * @module
 * Batch output files pile up: every glidein leaves an output and an error file in the state
 * folder's `out/`. Once a day a submit run removes the ones older than two weeks, so a site
 * that runs thousands of glideins does not fill its home directory.
 */
import { lstatSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs"
import { join } from "node:path"

/** Output files older than this are removed. */
const KEEP_OUTPUT_MS = 14 * 24 * 3600 * 1000
const PRUNE_EVERY_MS = 24 * 3600 * 1000

/**
 * Removes files in `dir` older than `KEEP_OUTPUT_MS`, at most once per day (the time of the
 * last pass is the mtime of `stamp`). Returns how many were removed; never throws.
 */
export function pruneOutput(dir: string, stamp: string, now: Date): number {
  try {
    if (now.getTime() - lstatSync(stamp).mtimeMs < PRUNE_EVERY_MS) return 0
  } catch {
    // No stamp yet: prune now.
  }
  let removed = 0
  try {
    // Made anew, never written through: a symlink planted as the stamp would have its target
    // truncated by an ordinary write.
    rmSync(stamp, { force: true })
    writeFileSync(stamp, "", { flag: "wx", mode: 0o600 })
    utimesSync(stamp, now, now)
    for (const name of readdirSync(dir)) {
      const path = join(dir, name)
      const info = statSync(path)
      if (info.isFile() && now.getTime() - info.mtimeMs > KEEP_OUTPUT_MS) {
        rmSync(path)
        removed++
      }
    }
  } catch {
    // Housekeeping only: a file that vanished or a folder not made yet is no error.
  }
  return removed
}
