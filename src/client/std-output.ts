/**
 * @module
 * Writing to stdout and stderr with `write(2)`. `process.stdout`/`process.stderr` are streams
 * whose first use loads Node's stream machinery, a large share of a cron run's time; a plain
 * write is synchronous, ordered, and done before `process.exit`.
 */
import { readlinkSync, writeSync } from "node:fs"

function write(fd: number, text: string): void {
  try {
    writeSync(fd, text)
  } catch (error) {
    // A reader that went away (`glidein submit --dry-run | head`) is not a failure of ours.
    if ((error as NodeJS.ErrnoException).code !== "EPIPE") throw error
  }
}

/** Writes `text` to stdout. */
export function writeStdout(text: string): void {
  write(1, text)
}

/** Writes `text` to stderr. */
export function writeStderr(text: string): void {
  write(2, text)
}

/** Whether stderr is a terminal (Linux: /proc), without loading node:tty's streams. */
export function stderrIsTerminal(): boolean {
  try {
    return /^\/dev\/(pts\/|tty)/.test(readlinkSync("/proc/self/fd/2"))
  } catch {
    return false
  }
}
