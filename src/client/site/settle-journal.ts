/**
 * @module
 * Keeping the journal to the glideins that still exist: before a real round counts, the
 * journal's jobs are asked for by id, and those the batch system no longer lists leave the
 * journal as finished (as `glidein cancel` does). Only a listing by id may say a job is gone —
 * a listing by user does not show jobs filed under another name — and a listing that fails
 * leaves the journal as it was. This keeps the by-id counts of every round small.
 */
import type { Scheduler } from "../../schedulers/types.ts"
import { type CommandRunner, commandTrouble } from "../lib/run-command.ts"
import { batchListing, chunks, JOBS_PER_LISTING } from "./count-glideins.ts"
import { appendJournal, jobNumber, outstandingJobs, readJournal } from "./journal.ts"
import { type SiteSetup, usesDefaultCount } from "./site-setup.ts"

/** Limit for one listing command. */
const LIST_TIMEOUT_MS = 60_000

/** Journals as finished the outstanding jobs of each partition that the batch system, asked
 *  by id, no longer lists; returns how many per partition. Call under the config's lock. */
export async function settleJournal(
  setup: SiteSetup,
  deps: {
    run: CommandRunner
    env: Record<string, string | undefined>
    now: () => Date
    countTimeoutMs?: number
  },
): Promise<Map<string, number>> {
  const outstanding = outstandingJobs(readJournal(setup.paths.journal))
  const settled = new Map<string, number>()
  for (const partition of setup.partitions) {
    const ids = outstanding.get(partition.name) ?? []
    // A site that counts with its own commands may have no working default listing.
    if (ids.length === 0 || !usesDefaultCount(partition.settings)) continue
    const live = await liveByIds(
      partition.scheduler,
      ids,
      deps,
      deps.countTimeoutMs ?? LIST_TIMEOUT_MS,
    )
    // A listing that failed says nothing: the counts say so in their own words.
    if (typeof live === "string") continue
    const finished = ids.filter((id) => !live.has(jobNumber(id)))
    if (finished.length === 0) continue
    appendJournal(setup.paths.journal, {
      kind: "cancel",
      time: deps.now().toISOString(),
      partition: partition.name,
      jobIds: finished,
      finished: true,
    })
    settled.set(partition.name, finished.length)
  }
  return settled
}

/**
 * The job numbers among `ids` that the batch system, asked by id (whoever it files them
 * under), lists as live; or, in one line, why a listing failed. Shared by the settling here
 * and by `glidein cancel`.
 */
export async function liveByIds(
  scheduler: Scheduler,
  ids: string[],
  deps: { run: CommandRunner; env: Record<string, string | undefined> },
  timeoutMs: number,
): Promise<Set<string> | string> {
  const journaled = new Set(ids.map(jobNumber))
  const live = new Set<string>()
  for (const jobs of chunks([...journaled], JOBS_PER_LISTING)) {
    const argv = scheduler.liveArgv({ jobs })
    const result = await deps.run(argv, { timeoutMs, env: deps.env }).catch((e: Error) => e)
    const listing = result instanceof Error ? undefined : batchListing(result, scheduler)
    if (listing === undefined) {
      return `"${argv.join(" ")}" ${commandTrouble(result, timeoutMs) ?? "printed no listing"}`
    }
    // The listing may hold other users' glideins too (qselect, qstat -u *).
    for (const n of scheduler.parseLive(listing)) if (journaled.has(n)) live.add(n)
  }
  return live
}
