/**
 * @module
 * `glidein cancel --config X`: remove the glideins this config submitted that are still in the
 * batch system. The journal names the jobs; the batch system's list of the user's live jobs
 * named `glidein`, and the journal's own ids asked for by id (whoever the batch system files
 * them under), say which of them are still there. Only a journaled id that is also listed is
 * cancelled: batch systems reuse the ids of finished jobs (LSF wraps at 999,999), so
 * an old id may belong to one of the user's other jobs by now. Ids no longer listed leave the
 * journal as finished; a cancelled id leaves it once the batch system no longer lists it.
 * Holds the config's lock so that no submit run adds glideins half-way through.
 */

import { existsSync } from "node:fs"
import type { SiteConfig } from "../../config/index.ts"
import { EXIT, GlideinError } from "../../errors.ts"
import { schedulerFor } from "../../schedulers/index.ts"
import { JOB_NAME } from "../../schedulers/job-script.ts"
import type { Scheduler } from "../../schedulers/types.ts"
import { type CommandResult, commandTrouble } from "../lib/run-command.ts"
import type { SiteWorld } from "../lib/world.ts"
import { tryLock } from "../site/config-lock.ts"
import { batchListing } from "../site/count-glideins.ts"
import {
  appendJournal,
  type JournalRecord,
  jobNumber,
  outstandingJobs,
  readJournal,
  type SubmitRecord,
  withoutIds,
} from "../site/journal.ts"
import { liveByIds } from "../site/settle-journal.ts"
import { siteSetup } from "../site/site-setup.ts"
import { checkStateDir } from "../site/state-dir.ts"
import { plural } from "../submit/plan-report.ts"

/** Job ids per cancel command; keeps argv far below the kernel's limit. */
const CHUNK = 200
/** Limit for one cancel or listing command. */
const CANCEL_TIMEOUT_MS = 120_000
/** Pauses before each look at whether cancelled jobs are gone (15 s in all at most). */
const CHECK_DELAYS_MS = [1000, 2000, 4000, 8000]

/** The world `cancel` talks to. */
export interface CancelDeps extends SiteWorld {
  stateRoot?: string
  timeoutMs?: number
  /** This process's login name (tests give their own). */
  login?: () => string | undefined
}

/** Where a partition's glideins are listed and removed. */
interface Place {
  scheduler: Scheduler
  /** The partition's login name; unset for a partition no longer in the config. */
  user?: string
}

/** Cancels (or with `dryRun` lists) the config's live glideins; returns the exit code. */
export async function cancelGlideins(
  config: SiteConfig,
  options: { dryRun: boolean },
  deps: CancelDeps,
): Promise<number> {
  const setup = siteSetup(config, deps.env, deps.stateRoot, deps.login)
  for (const w of setup.warnings) deps.stderr(`glidein cancel: warning: ${w.message}\n`)
  if (!existsSync(setup.paths.dir)) {
    deps.stdout(`No glideins of ${config.file} to cancel (no state folder ${setup.paths.dir}).\n`)
    return EXIT.ok
  }
  // The journal names the jobs to remove: it must not be someone else's to write.
  checkStateDir(setup.paths)
  const lock = options.dryRun ? undefined : await tryLock(setup.paths.lock)
  if (!options.dryRun && !lock) {
    throw new GlideinError(
      `a submit run for ${config.file} is active (lock ${setup.paths.lock}); try again when it has finished`,
    )
  }
  const timeoutMs = deps.timeoutMs ?? CANCEL_TIMEOUT_MS
  const say = (partition: string, text: string) => deps.stdout(`[${partition}] ${text}\n`)
  const warn = (partition: string, text: string) =>
    deps.stderr(`glidein cancel: [${partition}] ${text}\n`)
  try {
    const records = readJournal(setup.paths.journal)
    const places = new Map<string, Place>(
      setup.partitions.map((p) => [p.name, { scheduler: p.scheduler, user: p.user }]),
    )
    // A partition dropped from the config since still has its glideins in the journal.
    for (const r of records) {
      if (r.kind === "submit" && !places.has(r.partition)) {
        const scheduler = schedulerFor(r.scheduler)
        if (scheduler) places.set(r.partition, { scheduler })
      }
    }
    // Parallel submissions journal in the order they finished; speak in the config's order.
    const order = [...places.keys()]
    const rank = (name: string) => (order.includes(name) ? order.indexOf(name) : order.length)
    const byRank = (a: string, b: string) => rank(a) - rank(b)
    const noIds = withoutIds(records)
    for (const partition of [...noIds.keys()].sort(byRank)) {
      const count = noIds.get(partition)!
      warn(
        partition,
        `${plural(count, "glidein")} went out without a job id and cannot be removed by id; they are named "${JOB_NAME}" in the batch system`,
      )
    }
    const outstanding = outstandingJobs(records)
    const unknown = records.filter(
      (r): r is SubmitRecord => r.kind === "submit" && r.outcome === "unknown",
    )
    const partitions = [
      ...new Set([...outstanding.keys(), ...unknown.map((r) => r.partition)]),
    ].sort(byRank)
    if (partitions.length === 0) {
      deps.stdout(`No glideins of ${config.file} to cancel (journal ${setup.paths.journal}).\n`)
      return EXIT.ok
    }
    let code: number = EXIT.ok
    for (const partition of partitions) {
      const place = places.get(partition)
      const ids = outstanding.get(partition) ?? []
      if (!place) {
        warn(partition, `no scheduler known for ${plural(ids.length, "job")}`)
        code = EXIT.failure
        continue
      }
      const live = await listLive(place, ids)
      if (typeof live === "string") {
        warn(partition, `${live}; nothing is cancelled and the journal is left as it was`)
        code = EXIT.failure
        continue
      }
      const alive = ids.filter((id) => live.has(jobNumber(id)))
      const finished = ids.filter((id) => !live.has(jobNumber(id)))
      if (finished.length > 0) {
        if (!options.dryRun) record(partition, finished, true)
        say(
          partition,
          `${plural(finished.length, "journaled glidein job")} no longer in the batch system${options.dryRun ? "" : ", marked finished"}`,
        )
      }
      if (alive.length > 0 && !(await remove(partition, place, alive))) code = EXIT.failure
      const mayBeOurs = unaccounted(partition, unknown, records, live)
      if (mayBeOurs.length > 0) {
        const when = unknown
          .filter((r) => r.partition === partition)
          .map((r) => `${r.time} (${plural(r.count, "glidein")})`)
          .join(", ")
        warn(
          partition,
          `a submit command timed out at ${when} and may have submitted anyway; no journal names the live glidein jobs ${mayBeOurs.join(" ")}: if they are this config's, remove them with "${place.scheduler.cancelArgv(mayBeOurs).join(" ")}"`,
        )
      }
    }
    return code
  } finally {
    lock?.release()
  }

  /**
   * Job numbers of the place's live glideins: the user's, and the journaled `ids` asked for by
   * id (a job filed under another name than `user` is still found, so it is never taken for
   * finished); or why they could not be listed.
   */
  async function listLive(place: Place, ids: string[]): Promise<Set<string> | string> {
    const live = new Set<string>()
    // Without a user (a partition no longer in the config) the listing by id is all there is:
    // a listing without -u would be everyone's (qselect), and no other glidein is this config's.
    if (place.user !== undefined) {
      const argv = place.scheduler.liveArgv({ user: place.user })
      const result = await run(argv)
      if (typeof result === "string") return result
      const listing = batchListing(result, place.scheduler)
      if (listing === undefined) return failed(argv, result)
      for (const n of place.scheduler.parseLive(listing)) live.add(n)
    }
    const byId = await liveByIds(place.scheduler, ids, deps, timeoutMs)
    if (typeof byId === "string") return byId
    for (const n of byId) live.add(n)
    return live
  }

  /** Cancels `ids` (or says how it would) and journals those the batch system then lacks. */
  async function remove(partition: string, place: Place, ids: string[]): Promise<boolean> {
    const complaints: string[] = []
    for (let i = 0; i < ids.length; i += CHUNK) {
      const argv = place.scheduler.cancelArgv(ids.slice(i, i + CHUNK))
      if (options.dryRun) {
        say(partition, `would run: ${argv.join(" ")}`)
        continue
      }
      const result = await run(argv)
      if (typeof result === "string") complaints.push(result)
      else if (result.exitCode !== 0) complaints.push(failed(argv, result))
    }
    if (options.dryRun) return true
    let left = ids
    let listError: string | undefined
    for (const delay of CHECK_DELAYS_MS) {
      await deps.sleep(delay)
      const live = await listLive(place, ids)
      if (typeof live === "string") {
        listError = live
        break
      }
      left = ids.filter((id) => live.has(jobNumber(id)))
      if (left.length === 0) break
    }
    const removed = ids.filter((id) => !left.includes(id))
    if (removed.length > 0) {
      record(partition, removed, false)
      say(partition, `removed ${plural(removed.length, "glidein job")}: ${removed.join(" ")}`)
    }
    for (const complaint of complaints) warn(partition, complaint)
    if (left.length === 0) return true
    const why = listError ?? "the batch system still lists them"
    warn(
      partition,
      `${plural(left.length, "glidein job")} not confirmed removed (${why}): ${left.join(" ")}; they stay in the journal, run glidein cancel again`,
    )
    return false
  }

  function record(partition: string, jobIds: string[], finished: boolean): void {
    appendJournal(setup.paths.journal, {
      kind: "cancel",
      time: deps.now().toISOString(),
      partition,
      jobIds,
      ...(finished ? { finished: true as const } : {}),
    })
  }

  /** The command's result, or why it did not run to its end. */
  async function run(argv: string[]): Promise<CommandResult | string> {
    const result = await deps.run(argv, { timeoutMs, env: deps.env }).catch((e: Error) => e)
    if (result instanceof Error || result.timedOut) return failed(argv, result)
    return result
  }

  function failed(argv: string[], outcome: CommandResult | Error): string {
    return `"${argv.join(" ")}" ${commandTrouble(outcome, timeoutMs)}`
  }
}

/** Live glidein jobs no journal record of this partition names, when a submit of unknown
 *  outcome might have made them. */
function unaccounted(
  partition: string,
  unknown: SubmitRecord[],
  records: JournalRecord[],
  live: Set<string>,
): string[] {
  if (!unknown.some((r) => r.partition === partition)) return []
  const named = new Set(
    records.flatMap((r) => (r.kind === "submit" ? r.jobIds.map(jobNumber) : [])),
  )
  return [...live].filter((n) => !named.has(n))
}
