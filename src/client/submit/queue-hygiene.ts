/**
 * @module
 * Glideins that wait too long in a queue: a partition's `max_queued_hours` removes this
 * config's glideins still queued after that long (a queue that never starts them only holds
 * the site's place in line for demand that has long gone elsewhere). Only journaled jobs are
 * touched, only those the batch system lists as waiting (never a running one), and an array
 * task by its own id, so its running siblings stay.
 */

import { commandTrouble } from "../lib/run-command.ts"
import type { SiteWorld } from "../lib/world.ts"
import { readSmallFile, writeIfChanged } from "../lib/write-if-changed.ts"
import { appendJournal, type JournalRecord, jobNumber, readJournal } from "../site/journal.ts"
import { plural } from "./plan-report.ts"
import type { PartitionRound } from "./plan-round.ts"

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

/** Rounds in a row with a surplus before any glidein is removed, so a burst that drains
 *  between two rounds does not make the queue swing. */
export const SURPLUS_ROUNDS = 3

/** Queued glideins kept beyond the server's share anyway: a tenth of those queued, at least one. */
export function surplusMargin(idle: number): number {
  return Math.max(1, Math.ceil(idle / 10))
}

/**
 * The newest `n` of the waiting glideins this config journaled (`idleIds` per partition):
 * those that would start last. Pure.
 */
export function newestQueued(
  records: JournalRecord[],
  idleIds: Map<string, string[]>,
  n: number,
): { partition: string; id: string }[] {
  if (n <= 0) return []
  const submitted = new Map<string, number>()
  records.forEach((r, order) => {
    if (r.kind !== "submit") return
    for (const id of r.jobIds) submitted.set(`${r.partition}\0${id}`, order)
  })
  const candidates: { partition: string; id: string; order: number }[] = []
  for (const [partition, ids] of idleIds) {
    for (const id of ids) {
      const order =
        submitted.get(`${partition}\0${id}`) ?? submitted.get(`${partition}\0${jobNumber(id)}`)
      if (order !== undefined) candidates.push({ partition, id, order })
    }
  }
  candidates.sort((a, b) => b.order - a.order)
  return candidates.slice(0, n).map(({ partition, id }) => ({ partition, id }))
}

/** The world queue hygiene talks to. */
type TidyDeps = Pick<SiteWorld, "run" | "env" | "now">

/**
 * Queue hygiene at the end of a round, with one read of the journal: first each partition's
 * glideins waiting longer than its `max_queued_hours`; then, when the server's allotment has
 * said for SURPLUS_ROUNDS rounds in a row that more glideins are queued here than this site's
 * share needs (`surplus`), the newest waiting ones beyond a margin. Journaled glideins only,
 * waiting ones only (never a running one), none removed twice. The count of rounds is kept in
 * `roundsFile` in the state folder. Returns one line per removal or failure.
 */
export async function tidyQueue(
  journalFile: string,
  roundsFile: string,
  counted: PartitionRound[],
  surplus: number | undefined,
  deps: TidyDeps,
): Promise<{ said: string[]; failed: boolean }> {
  const said: string[] = []
  let failed = false
  const waiting = new Map(counted.map((c) => [c.partition.name, c.idleIds ?? []]))
  const idle = counted.reduce((n, c) => n + (c.counts?.idle ?? 0), 0)
  const excess = (surplus ?? 0) - surplusMargin(idle)
  const rounds = excess > 0 ? readRounds(roundsFile) + 1 : 0
  const due = counted.some(
    (c) => c.partition.settings.max_queued_hours !== undefined && (c.idleIds?.length ?? 0) > 0,
  )
  if (!due && rounds < SURPLUS_ROUNDS) {
    writeRounds(roundsFile, rounds)
    return { said, failed }
  }
  const records = readJournal(journalFile)
  /** `what(n)` names the removed glideins: `2 glideins queued longer than …`. */
  const remove = async (c: PartitionRound, ids: string[], what: (n: number) => string) => {
    const done = await cancelIds(journalFile, c, ids, deps)
    if (done.trouble !== undefined) {
      said.push(`[${c.partition.name}] ${done.trouble}; they stay queued`)
      failed = true
    }
    if (done.removed.length > 0) {
      said.push(
        `[${c.partition.name}] removed ${what(done.removed.length)}: ${done.removed.join(" ")}`,
      )
      const gone = new Set(done.removed)
      waiting.set(
        c.partition.name,
        (waiting.get(c.partition.name) ?? []).filter((id) => !gone.has(id)),
      )
    }
  }
  for (const c of counted) {
    const hours = c.partition.settings.max_queued_hours
    if (hours === undefined) continue
    const ids = longQueued(
      records,
      c.partition.name,
      waiting.get(c.partition.name) ?? [],
      deps.now(),
      hours,
    )
    if (ids.length > 0) {
      await remove(
        c,
        ids,
        (n) => `${plural(n, "glidein")} queued longer than ${hours} h (max_queued_hours)`,
      )
    }
  }
  if (rounds >= SURPLUS_ROUNDS) {
    const picked = newestQueued(records, waiting, excess)
    for (const c of counted) {
      const ids = picked.filter((p) => p.partition === c.partition.name).map((p) => p.id)
      if (ids.length > 0) {
        await remove(
          c,
          ids,
          (n) =>
            `${plural(n, "queued glidein")} beyond this site's share (the server's allotment said so ${rounds} rounds in a row)`,
        )
      }
    }
  }
  // A surplus acted on starts the count again; one that could not be removed is tried again.
  writeRounds(roundsFile, rounds >= SURPLUS_ROUNDS && !failed ? 0 : rounds)
  return { said, failed }
}

/** Cancels `ids` of the partition in chunks and journals those cancelled. */
async function cancelIds(
  journalFile: string,
  c: PartitionRound,
  ids: string[],
  deps: TidyDeps,
): Promise<{ removed: string[]; trouble?: string }> {
  const removed: string[] = []
  for (let i = 0; i < ids.length; i += CHUNK) {
    const chunk = ids.slice(i, i + CHUNK)
    const argv = c.partition.scheduler.cancelArgv(chunk)
    const result = await deps
      .run(argv, { timeoutMs: CANCEL_TIMEOUT_MS, env: deps.env })
      .catch((e: Error) => e)
    const trouble = commandTrouble(result, CANCEL_TIMEOUT_MS)
    if (trouble !== undefined)
      return { removed: record(removed), trouble: `"${argv.join(" ")}" ${trouble}` }
    removed.push(...chunk)
  }
  return { removed: record(removed) }

  // Journaled as cancelled: the next count no longer asks for them by id once they are gone.
  function record(jobIds: string[]): string[] {
    if (jobIds.length > 0) {
      appendJournal(journalFile, {
        kind: "cancel",
        time: deps.now().toISOString(),
        partition: c.partition.name,
        jobIds,
      })
    }
    return jobIds
  }
}

function readRounds(file: string): number {
  const n = Number(readSmallFile(file, 32)?.trim() ?? 0)
  return Number.isInteger(n) && n >= 0 && n < 1_000_000 ? n : 0
}

function writeRounds(file: string, rounds: number): void {
  try {
    writeIfChanged(file, `${rounds}\n`, 0o600)
  } catch {
    // Counting starts again next run; nothing is removed early.
  }
}
