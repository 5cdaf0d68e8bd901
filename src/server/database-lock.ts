/**
 * A lock beside serve's database (`serve.db.lock`), so a second `glidein serve` on the same
 * file is told: both would write reports, prune history and poll condor_q. The lock is an
 * SQLite exclusive transaction left open on that small file: SQLite's own file locks, which
 * the system drops when the holder exits however it exits, with no native code of ours.
 */
import { Database } from "bun:sqlite"

/** A held lock, or why it could not be taken. */
export type DatabaseLock = { held: true; release(): void } | { held: false; why: string }

/** Takes the lock beside `path` without waiting; `:memory:` needs none. */
export function lockDatabase(path: string): DatabaseLock {
  if (path === ":memory:") return { held: true, release() {} }
  const lockPath = `${path}.lock`
  let db: Database | undefined
  try {
    db = new Database(lockPath, { create: true })
    db.exec("PRAGMA busy_timeout = 0")
    db.exec("BEGIN EXCLUSIVE")
    const held = db
    return { held: true, release: () => held.close() }
  } catch (error) {
    db?.close()
    const code = (error as { code?: unknown }).code
    const why =
      code === "SQLITE_BUSY"
        ? `another glidein serve has database "${path}" open (it holds "${lockPath}"); both write reports to it and poll condor_q: stop one of them`
        : `cannot take the lock "${lockPath}" (${error instanceof Error ? error.message : String(error)}), so a second glidein serve on this database would not be noticed`
    return { held: false, why }
  }
}
