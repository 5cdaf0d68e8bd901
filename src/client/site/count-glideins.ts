/**
 * @module
 * How many of this site's glideins are running, idle and stuck in one partition: the site's
 * own `running_cmd` / `idle_cmd` (shell, `$VARS` expanded as pyglidein did), else the
 * scheduler adapter's default commands (argv) and parser, which keep to the partition's queue
 * when it has one and also find glideins that are held, suspended or in an error state. The
 * default commands list the user's glideins and, by id, the glideins the journal holds: a
 * `user =` naming someone else must not hide this config's own glideins (every run would then
 * see none and submit more).
 */
import type { PartitionSettings } from "../../config/schema.ts"
import type { GlideinFilter, GlideinState, Scheduler } from "../../schedulers/types.ts"
import {
  type CommandResult,
  type CommandRunner,
  commandTrouble,
  expandVars,
  shellArgv,
} from "../lib/run-command.ts"
import { partitionQueue } from "./job-spec.ts"
import { jobNumber } from "./journal.ts"
import type { PartitionCounts } from "./plan-submissions.ts"

/** More glideins than any batch system holds for one user: a count above it is a wrong
 *  command (`squeue | wc -c`), not a count, and would silently stop every submission. */
const MAX_COUNT = 1_000_000

/** Limit for one counting command. */
const COUNT_TIMEOUT_MS = 60_000

/** What counting needs besides the partition. */
export interface CountContext {
  run: CommandRunner
  env: Record<string, string | undefined>
  /** Login name for the default commands (PBS lists only this user's jobs). */
  user: string
  /**
   * Job numbers the journal holds for the partition: asked for by id as well, so a glidein
   * filed under another name than `user` is never left out of the counts.
   */
  jobs?: string[]
  timeoutMs?: number
}

/** Job numbers per listing command; keeps argv far below the kernel's limit. */
export const JOBS_PER_LISTING = 200

/** A partition's counts and the ids of its stuck glideins. */
export interface GlideinCounts {
  counts: PartitionCounts
  /** Glideins held, suspended or in an error state (empty with the site's own commands). */
  heldIds: string[]
  /** Glideins waiting to run (empty with the site's own commands, which print a number). */
  idleIds: string[]
}

/** Counts the partition's glideins, or says in one line why it could not. */
export async function countGlideins(
  partition: string,
  settings: PartitionSettings,
  scheduler: Scheduler,
  ctx: CountContext,
): Promise<GlideinCounts | { error: string }> {
  const queue = partitionQueue(settings)
  const filter: GlideinFilter = {
    user: ctx.user,
    partition,
    ...(queue !== undefined ? { queue } : {}),
  }
  // Adapters whose one listing serves every state (qstat, bjobs) are asked once.
  const listings = new Map<string, Promise<Listing>>()
  const list = async (state: GlideinState, f: GlideinFilter): Promise<string[] | string> => {
    const argv = scheduler.countArgv(state, f)
    const key = argv.join("\0")
    let listing = listings.get(key)
    if (!listing) {
      listing = runOne(argv, `"${argv.join(" ")}"`, partition, ctx, scheduler)
      listings.set(key, listing)
    }
    const result = await listing
    return typeof result === "string" ? result : scheduler.parseGlideins(result.stdout, state, f)
  }
  const journaled = new Set(ctx.jobs ?? [])
  const byDefault = async (state: GlideinState): Promise<string[] | string> => {
    const lists = await Promise.all([
      list(state, filter),
      ...chunks([...journaled], JOBS_PER_LISTING).map((jobs) => list(state, { ...filter, jobs })),
    ])
    const failed = lists.find((l) => typeof l === "string")
    if (failed !== undefined) return failed
    const [byUser, ...byId] = lists as string[][]
    // A listing of named jobs may hold other users' glideins too (qselect, qstat -u *).
    const ours = byId.flat().filter((id) => journaled.has(jobNumber(id)))
    return [...new Set([...byUser!, ...ours])]
  }
  const count = (state: "running" | "idle", commandLine: string | undefined) =>
    commandLine !== undefined ? countByShell(state, commandLine, partition, ctx) : byDefault(state)
  // A site with its own commands counts its own way; a default command for stuck glideins
  // might not even work there, so none is run.
  const own = settings.running_cmd !== undefined || settings.idle_cmd !== undefined
  const [running, idle, held] = await Promise.all([
    count("running", settings.running_cmd),
    count("idle", settings.idle_cmd),
    own ? [] : byDefault("held"),
  ])
  if (typeof running === "string") return { error: running }
  if (typeof idle === "string") return { error: idle }
  if (typeof held === "string") return { error: held }
  const size = (r: string[] | number) => (typeof r === "number" ? r : r.length)
  return {
    counts: { running: size(running), idle: size(idle), held: held.length },
    heldIds: held,
    idleIds: typeof idle === "number" ? [] : idle,
  }
}

/** pyglidein read a site command's whole output as one integer; so do we. */
async function countByShell(
  state: GlideinState,
  commandLine: string,
  partition: string,
  ctx: CountContext,
): Promise<number | string> {
  const key = state === "running" ? "running_cmd" : "idle_cmd"
  const result = await runOne(
    shellArgv(expandVars(commandLine, ctx.env)),
    `${key} "${commandLine}"`,
    partition,
    ctx,
  )
  if (typeof result === "string") return result
  const text = result.stdout.trim()
  if (!/^\d+$/.test(text) || Number(text) > MAX_COUNT) {
    const shown = text.length > 60 ? `${text.slice(0, 57)}…` : text
    return `[${partition}] ${key} printed ${JSON.stringify(shown)}, expected one whole number of glideins up to ${MAX_COUNT.toLocaleString("en-US")}`
  }
  return Number(text)
}

/** What a counting command printed, or why it could not count. */
type Listing = { stdout: string } | string

/**
 * Runs one counting command: its output, or one line (`[partition] what …`) saying why there
 * is none. With `scheduler`, a batch listing whose "no job found" message counts as empty.
 */
async function runOne(
  argv: string[],
  what: string,
  partition: string,
  ctx: CountContext,
  scheduler?: Scheduler,
): Promise<Listing> {
  const timeoutMs = ctx.timeoutMs ?? COUNT_TIMEOUT_MS
  const result = await ctx.run(argv, { timeoutMs, env: ctx.env }).catch((e: Error) => e)
  if (!(result instanceof Error)) {
    const ok = !result.timedOut && result.exitCode === 0
    const stdout = scheduler ? batchListing(result, scheduler) : ok ? result.stdout : undefined
    if (stdout !== undefined) return { stdout }
  }
  return `[${partition}] ${what} ${commandTrouble(result, timeoutMs)}`
}

/**
 * What a batch system's listing command printed, or undefined when it failed. A "no job
 * found" message (LSF's bjobs says it on stderr and may exit 1 for it) is an empty listing.
 */
export function batchListing(result: CommandResult, scheduler: Scheduler): string | undefined {
  if (result.timedOut) return undefined
  // Asked for several jobs, bjobs lists those it knows and names the others on stderr.
  if (scheduler.noJobs?.test(`${result.stdout}\n${result.stderr}`)) return result.stdout
  return result.exitCode === 0 ? result.stdout : undefined
}

/** `items` in runs of at most `size`. */
export function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}
