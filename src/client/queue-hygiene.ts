/**
 * @module
 * Glideins that wait too long in a queue: a partition's `max_queued_hours` removes this
 * config's glideins still queued after that long (a queue that never starts them only holds
 * the site's place in line for demand that has long gone elsewhere). Only journaled jobs are
 * touched, only those the batch system lists as waiting (never a running one), and an array
 * task by its own id, so its running siblings stay.
 */

import { appendJournal, type JournalRecord, jobNumber, readJournal } from "./journal.ts"
import { plural } from "./plan-report.ts"
import type { Counted } from "./plan-round.ts"
import { type CommandRunner, commandTrouble } from "./run-command.ts"

/** Limit for one cancel command. */
const CANCEL_TIMEOUT_MS = 60_000
/** Ids per cancel command. */
const CHUNK = 200

/**
 * The waiting glideins of a partition (`idleIds`) that its journal says were submitted more
 * than `maxHours` ago (`now`). An id counts by its own journal entry, or by its job's (an
 * array task `123_4` by job `123`). Pure.
 */
export function longQueued(
  records: JournalRecord[],
  partition: string,
  idleIds: string[],
  now: Date,
  maxHours: number,
): string[] {
  const submitted = new Map<string, number>()
  for (const r of records) {
    if (r.kind !== "submit" || r.partition !== partition) continue
    const at = Date.parse(r.time)
    if (!Number.isFinite(at)) continue
    for (const id of r.jobIds) {
      for (const key of [id, jobNumber(id)]) {
        if (!submitted.has(key) || submitted.get(key)! > at) submitted.set(key, at)
      }
    }
  }
  const limit = now.getTime() - maxHours * 3600_000
  return idleIds.filter((id) => {
    const at = submitted.get(id) ?? submitted.get(jobNumber(id))
    return at !== undefined && at < limit
  })
}

/** Removes each partition's long-queued glideins; returns one line per partition acted on. */
export async function removeLongQueued(
  journalFile: string,
  counted: Counted[],
  deps: { run: CommandRunner; env: Record<string, string | undefined>; now: () => Date },
): Promise<{ said: string[]; failed: boolean }> {
  const said: string[] = []
  let failed = false
  const due = counted.filter(
    (c) => c.partition.settings.max_queued_hours !== undefined && (c.idleIds?.length ?? 0) > 0,
  )
  if (due.length === 0) return { said, failed }
  const records = readJournal(journalFile)
  for (const c of due) {
    const hours = c.partition.settings.max_queued_hours!
    const ids = longQueued(records, c.partition.name, c.idleIds ?? [], deps.now(), hours)
    if (ids.length === 0) continue
    const removed: string[] = []
    for (let i = 0; i < ids.length; i += CHUNK) {
      const chunk = ids.slice(i, i + CHUNK)
      const argv = c.partition.scheduler.cancelArgv(chunk)
      const result = await deps
        .run(argv, { timeoutMs: CANCEL_TIMEOUT_MS, env: deps.env })
        .catch((e: Error) => e)
      const trouble = commandTrouble(result, CANCEL_TIMEOUT_MS)
      if (trouble !== undefined) {
        said.push(
          `[${c.partition.name}] "${argv.join(" ")}" ${trouble}; the glideins queued longer than ${hours} h stay`,
        )
        failed = true
        continue
      }
      removed.push(...chunk)
    }
    if (removed.length === 0) continue
    // Journaled as cancelled: the next count no longer asks for them by id once they are gone.
    appendJournal(journalFile, {
      kind: "cancel",
      time: deps.now().toISOString(),
      partition: c.partition.name,
      jobIds: removed,
    })
    said.push(
      `[${c.partition.name}] removed ${plural(removed.length, "glidein")} queued longer than ${hours} h (max_queued_hours): ${removed.join(" ")}`,
    )
  }
  return { said, failed }
}
