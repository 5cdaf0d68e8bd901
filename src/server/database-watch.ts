/**
 * Notices when serve's database file is deleted or replaced while serving. SQLite keeps
 * writing to the file it opened, so reports would be acknowledged and then lost when the
 * server stops, with nothing said; the watch says it in the log and on /api instead.
 */
import { type Stats, statSync } from "node:fs"

/** A file as the system knows it: the same path may later name another one. */
interface FileIdentity {
  dev: number
  ino: number
}

/** How often a problem still there is said again in the log. */
const REMIND_EVERY_MS = 3_600_000

/** Watches the database at `path` as it was when created; `check()` it now and then. */
export class DatabaseWatch {
  private readonly opened: FileIdentity | undefined
  private current: string | undefined
  private saidAt = Number.NEGATIVE_INFINITY

  constructor(
    readonly path: string,
    private readonly log: (line: string) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.opened = path === ":memory:" ? undefined : identity(statSync(path))
  }

  /** What is wrong with the database file now, saying it when it changes (and hourly). */
  check(): string | undefined {
    const problem = this.opened === undefined ? undefined : fileProblem(this.path, this.opened)
    const at = this.now()
    if (
      problem !== this.current ||
      (problem !== undefined && at - this.saidAt >= REMIND_EVERY_MS)
    ) {
      if (problem !== undefined) this.log(`ERROR: ${problem}`)
      else this.log(`database "${this.path}" is back: reports are kept again`)
      this.saidAt = at
    }
    this.current = problem
    return problem
  }

  /** The problem found by the last check, without looking again. */
  get problem(): string | undefined {
    return this.current
  }
}

function identity(stats: Stats): FileIdentity {
  return { dev: stats.dev, ino: stats.ino }
}

/** Why the file at `path` is not the one opened, or undefined when it is. */
function fileProblem(path: string, opened: FileIdentity): string | undefined {
  let stats: Stats
  try {
    stats = statSync(path)
  } catch {
    return `database "${path}" was deleted while serving: new reports go to the deleted file and are lost when the server stops; restart glidein serve to start a new database (or put the file back)`
  }
  const now = identity(stats)
  if (now.dev === opened.dev && now.ino === opened.ino) return undefined
  return `database "${path}" was replaced while serving: new reports go to the file opened at start-up, not to the one now at that path, and are lost when the server stops; restart glidein serve to use the new file`
}
