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

/**
 * `write` with every line it is given starting with the time, as `2026-12-07T17:45:01+01:00`:
 * cron mails a run's lines without saying when they were printed, and a looping submit's
 * rounds run together without it.
 */
export function timestamped(
  write: (text: string) => void,
  now: () => Date = () => new Date(),
): (text: string) => void {
  return (text) => {
    const stamp = localTime(now())
    write(text.replace(/^(?=.)/gm, `${stamp} `))
  }
}

/** ISO 8601 local time to the second, with the offset. */
export function localTime(t: Date): string {
  const pad = (n: number) => String(Math.trunc(Math.abs(n))).padStart(2, "0")
  const offset = -t.getTimezoneOffset()
  const sign = offset < 0 ? "-" : "+"
  return `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())}T${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}${sign}${pad(offset / 60)}:${pad(offset % 60)}`
}
