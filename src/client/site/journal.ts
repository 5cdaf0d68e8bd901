/**
 * @module
 * The local journal of what this config submitted and cancelled: JSON lines appended with one
 * `write(2)` each (O_APPEND), so a line is whole or absent. A write cut short (a full disk) is
 * taken back by truncating to the size before it, so the next line never joins a broken one;
 * only the holder of the config's lock appends, so nobody else's line is in between.
 * `glidein cancel` reads it to find every glidein still to remove; `glidein status --config`
 * reads it for the last run.
 */
import { closeSync, fstatSync, ftruncateSync, openSync, readFileSync, writeSync } from "node:fs"
import type { GlideinResources, SchedulerName } from "../../schedulers/types.ts"

/** One submit command that succeeded, or timed out (and may have submitted anyway). */
export interface SubmitRecord {
  kind: "submit"
  /** ISO 8601 */
  time: string
  partition: string
  scheduler: SchedulerName
  /** Glideins this command created (timed out: was to create). */
  count: number
  resources: GlideinResources
  /** Batch job ids from the submit command's output (empty if none could be read). */
  jobIds: string[]
  /** "unknown": the command gave no answer in time; its glideins may or may not exist. */
  outcome?: "unknown"
}

/** Jobs the journal stops carrying: removed by a cancel command, or found gone already. */
export interface CancelRecord {
  kind: "cancel"
  time: string
  partition: string
  jobIds: string[]
  /** The batch system no longer listed these jobs; nothing was removed. */
  finished?: true
}

export type JournalRecord = SubmitRecord | CancelRecord

/** Appends one record as one line, or throws and leaves the journal as it was. */
export function appendJournal(path: string, record: JournalRecord): void {
  const line = Buffer.from(`${JSON.stringify(record)}\n`)
  const fd = openSync(path, "a", 0o600)
  try {
    const before = fstatSync(fd).size
    try {
      const written = writeSync(fd, line)
      if (written !== line.length) {
        throw new Error(`only ${written} of ${line.length} bytes could be written (disk full?)`)
      }
    } catch (error) {
      try {
        ftruncateSync(fd, before)
      } catch {
        // Nothing more to do; readJournal() skips a line it cannot parse.
      }
      throw error
    }
  } finally {
    closeSync(fd)
  }
}

/** Every whole record in the journal; a missing file is an empty journal. */
export function readJournal(path: string): JournalRecord[] {
  let text: string
  try {
    text = readFileSync(path, "utf8")
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return []
    throw error
  }
  const records: JournalRecord[] = []
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch {
      continue // a line cut short by a full disk; the rest of the journal still counts
    }
    if (isRecord(value)) records.push(value)
  }
  return records
}

function isRecord(value: unknown): value is JournalRecord {
  if (typeof value !== "object" || value === null) return false
  const r = value as Record<string, unknown>
  return (
    (r.kind === "submit" || r.kind === "cancel") &&
    typeof r.partition === "string" &&
    Array.isArray(r.jobIds) &&
    r.jobIds.every((id) => typeof id === "string")
  )
}

/** Job ids submitted per partition and not cancelled since, oldest first. */
export function outstandingJobs(records: JournalRecord[]): Map<string, string[]> {
  const cancelled = new Set<string>()
  for (const r of records) {
    if (r.kind === "cancel") for (const id of r.jobIds) cancelled.add(`${r.partition}\0${id}`)
  }
  const byPartition = new Map<string, Set<string>>()
  for (const r of records) {
    if (r.kind !== "submit") continue
    for (const id of r.jobIds) {
      if (cancelled.has(`${r.partition}\0${id}`)) continue
      const ids = byPartition.get(r.partition) ?? new Set()
      ids.add(id)
      byPartition.set(r.partition, ids)
    }
  }
  return new Map([...byPartition].map(([partition, ids]) => [partition, [...ids]]))
}

/** Glideins per partition whose submit command printed no job id (cancel cannot name them);
 *  submissions of unknown outcome are not among them. */
export function withoutIds(records: JournalRecord[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const r of records) {
    if (
      r.kind === "submit" &&
      r.outcome === undefined &&
      r.jobIds.length === 0 &&
      typeof r.count === "number"
    ) {
      counts.set(r.partition, (counts.get(r.partition) ?? 0) + r.count)
    }
  }
  return counts
}

/** The leading integer of a batch job id, which names the whole job (`123_[1-5]`, `123.1`,
 *  `123[1]`, `548.server` and `548[].server` are all job 123 or 548). */
export function jobNumber(id: string): string {
  return /^\d+/.exec(id)?.[0] ?? id
}
