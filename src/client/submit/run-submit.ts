/**
 * @module
 * One `glidein submit` run: lock → prune → demand → counts → plan → render → submit → journal
 * → report → unlock, once, or every `delay` seconds (the lock is free between rounds, so
 * `glidein cancel` can run while a looping submit waits). Everything outside the process
 * (commands, the server, the clock, output) comes in through `SubmitDeps`, so tests drive
 * whole runs.
 */
import { existsSync } from "node:fs"
import type { SiteConfig } from "../../config/index.ts"
import { ConfigError, type ConfigPlace, EXIT, GlideinError } from "../../errors.ts"
import { skippedNote } from "../../protocol/demand.ts"
import { monitoringParams, type PartitionReport } from "../../protocol/monitoring.ts"
import { callJsonRpc, type RpcOptions } from "../lib/json-rpc.ts"
import type { CommandRunner } from "../lib/run-command.ts"
import { tryLock } from "../site/config-lock.ts"
import { glideinSite } from "../site/job-spec.ts"
import { appendJournal } from "../site/journal.ts"
import {
  checkLogBucket,
  type LogBucket,
  logKeyPrefix,
  logUploadEnv,
  logUploadForm,
  MAX_FORM_LIFETIME_S,
} from "../site/log-upload.ts"
import type { PreparedSubmission } from "../site/prepare-submissions.ts"
import { settleJournal } from "../site/settle-journal.ts"
import { type SiteSetup, siteSetup, startScriptText } from "../site/site-setup.ts"
import { ensureStateDir } from "../site/state-dir.ts"
import { allotmentLines, askAllotment } from "./allotment.ts"
import { type DemandOrigin, demandOrigin, describeOrigin, fetchDemand } from "./demand-origin.ts"
import { defaultUuid } from "./monitoring.ts"
import { Notices } from "./notices.ts"
import { describeShape, plural, reportJson, reportText } from "./plan-report.ts"
import { type Counted, countPartitions, planRound } from "./plan-round.ts"
import { pruneOutput } from "./prune-output.ts"
import { tidyQueue } from "./queue-hygiene.ts"
import { describeCommand, runSubmission, writeSubmissionFiles } from "./submit-prepared.ts"
import { tarballProblems } from "./tarball-check.ts"

/** The flags of one `glidein submit`. */
export interface SubmitOptions {
  dryRun: boolean
  json: boolean
  /** Take every partition's running and idle counts as 0 instead of asking the batch system. */
  assumeEmpty: boolean
  stateFile?: string
  server?: string
  uuid?: string
}

/** The world a run talks to. */
export interface SubmitDeps {
  run: CommandRunner
  env: Record<string, string | undefined>
  now: () => Date
  sleep: (ms: number) => Promise<void>
  stdout: (text: string) => void
  stderr: (text: string) => void
  /** Tripped by SIGTERM or SIGHUP: the submit commands in flight finish and are journaled,
   *  no other starts, and the run ends. */
  signal?: AbortSignal
  /** The built-in glidein_start.sh. */
  startScript: string
  rpc?: Partial<RpcOptions>
  /** The secrets file's [StartdLogging] keys, for `send_startd_logs`. */
  s3Keys?: S3Keys
  stateRoot?: string
  countTimeoutMs?: number
  submitTimeoutMs?: number
}

/** Runs `glidein submit` for a loaded config and returns the exit code. */
export async function runSubmit(
  config: SiteConfig,
  options: SubmitOptions,
  deps: SubmitDeps,
): Promise<number> {
  const logBucket = checkedLogBucket(config, deps.s3Keys)
  const setup = { ...siteSetup(config, deps.env, deps.stateRoot), ...(logBucket && { logBucket }) }
  const source = demandOrigin(options, config.glidein, deps.env)
  for (const warning of setup.warnings) deps.stderr(`glidein submit: warning: ${warning.message}\n`)
  const dryRun = options.dryRun || config.mode.dryrun
  // A dry run is read by someone at a terminal: it says everything.
  const notices = new Notices(dryRun ? undefined : setup.paths.notices)
  if (!logBucket && config.startdLogging.send_startd_logs && notices.fresh("note:no-log-keys")) {
    // pyglidein stopped here; the glideins can run without shipping their logs.
    deps.stderr(
      "glidein submit: note: send_startd_logs = True, but no [StartdLogging] access_key and secret_key came with --secrets; glidein logs stay in the batch output files\n",
    )
  }
  if (dryRun) return dryRunPlan(setup, source, options, notices, deps)
  const startScript = startScriptText(setup, deps.startScript, deps.env)
  if (!existsSync(setup.tarball)) {
    throw new ConfigError(
      config.place(
        "Glidein",
        config.glidein.loc !== undefined && config.glidein.tarball === undefined
          ? "loc"
          : "tarball",
      ),
      `the glidein tarball "${setup.tarball}" does not exist (make it with glidein tarball build)`,
    )
  }
  ensureStateDir(setup.paths, config.file)
  const round = () => lockedRound(setup, source, options, startScript, notices, deps)
  const delay = config.glidein.delay ?? 0
  if (delay < 1) return stoppedCode(deps) ?? (await round())
  // pyglidein's daemon mode: keep going through a bad round, as it did.
  for (;;) {
    try {
      await round()
    } catch (error) {
      if (!(error instanceof GlideinError) || error instanceof ConfigError) throw error
      deps.stderr(`glidein submit: ${error.message}\n`)
    }
    const stopped = stoppedCode(deps)
    if (stopped !== undefined) return stopped
    await deps.sleep(delay * 1000)
    const slept = stoppedCode(deps)
    if (slept !== undefined) return slept
  }
}

/** Exit statuses of a run stopped by a signal, as a shell reports them (128 + number). */
const SIGNAL_EXIT: Record<string, number> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 }

/** The exit code of a run asked to stop, or undefined when it was not. */
function stoppedCode(deps: SubmitDeps): number | undefined {
  if (!deps.signal?.aborted) return undefined
  const reason = deps.signal.reason
  return typeof reason === "string" && reason in SIGNAL_EXIT ? SIGNAL_EXIT[reason] : EXIT.failure
}

/** One round under the config's lock; a round that finds the lock taken does nothing. */
async function lockedRound(
  setup: SiteSetup,
  source: DemandOrigin,
  options: SubmitOptions,
  startScript: string,
  notices: Notices,
  deps: SubmitDeps,
): Promise<number> {
  const lock = await tryLock(setup.paths.lock)
  if (!lock) {
    const what = (setup.config.glidein.delay ?? 0) >= 1 ? "round" : "one"
    deps.stderr(
      `glidein submit: another run for ${setup.config.file} is still active (lock ${setup.paths.lock}); this ${what} does nothing\n`,
    )
    return EXIT.ok
  }
  try {
    // Glideins from a tarball that cannot work would only burn the site's allocation; the
    // check reads the tarball once per change of the file.
    const problems = await tarballProblems(setup.tarball, setup.paths.tarballCheck, deps.now())
    if (problems.length > 0) {
      throw new GlideinError(`${problems.join("; ")}; nothing submitted`)
    }
    pruneOutput(setup.paths.outputDir, setup.paths.pruneStamp, deps.now())
    try {
      await settleJournal(setup, deps)
    } catch (error) {
      // The counts still ask for every journaled job by id; the journal is only longer.
      deps.stderr(
        `glidein submit: warning: cannot mark finished glideins in the journal ${setup.paths.journal}: ${(error as Error).message}\n`,
      )
    }
    const code = await submitRound(setup, source, options, startScript, notices, deps)
    notices.save()
    return code
  } finally {
    lock.release()
  }
}

/** Demand, counts, the server's allotment, plan and rendered submissions of one round. */
async function gather(
  setup: SiteSetup,
  source: DemandOrigin,
  options: SubmitOptions,
  notices: Notices,
  deps: SubmitDeps,
) {
  // The server and the batch system are asked at the same time; when the server fails, the
  // counts (read-only) are waited for, so no command outlives the run.
  const [demandResult, countedResult] = await Promise.allSettled([
    fetchDemand(source, deps.rpc),
    countPartitions(setup, options.assumeEmpty, deps),
  ])
  if (demandResult.status === "rejected") throw demandResult.reason
  if (countedResult.status === "rejected") throw countedResult.reason
  const { rows: demand, skipped } = demandResult.value
  const counted = countedResult.value
  const allotment = await allotmentFor(setup, source, options, counted, notices, deps)
  // Glideins advertise the name their site reports under (GLIDEIN_Client).
  const sections = { ...setup.sections, client: siteUuid(setup, options, deps) }
  const planned = planRound(
    { ...setup, sections },
    demand,
    counted,
    logEnv(setup, deps.now()),
    allotment,
  )
  return { demand, skipped, counted, allotment, ...planned }
}

/**
 * The server's allotment for the partitions that could be counted; undefined (plan against
 * the whole table, as before) from a state file, a server without `get_allotment` (said
 * once), or a failed request (warned).
 */
async function allotmentFor(
  setup: SiteSetup,
  source: DemandOrigin,
  options: SubmitOptions,
  counted: Counted[],
  notices: Notices,
  deps: SubmitDeps,
) {
  if (source.kind !== "server") return undefined
  const partitions = counted.flatMap((c) =>
    c.counts ? [{ policy: c.partition.policy, counts: c.counts }] : [],
  )
  if (partitions.length === 0) return undefined
  try {
    const answer = await askAllotment(
      source.url,
      siteUuid(setup, options, deps),
      partitions,
      options.dryRun || setup.config.mode.dryrun,
      deps.rpc,
    )
    if (answer !== "unsupported") return answer
    if (notices.fresh("note:no-allotment")) {
      deps.stderr(
        `glidein submit: note: ${describeOrigin(source)} has no get_allotment (a pyglidein server?); planning against its whole demand table\n`,
      )
    }
  } catch (error) {
    deps.stderr(
      `glidein submit: warning: ${(error as Error).message}; planning against the whole demand table\n`,
    )
  }
  return undefined
}

/** The name this site reports under. */
function siteUuid(setup: SiteSetup, options: SubmitOptions, deps: SubmitDeps): string {
  return options.uuid ?? setup.config.glidein.uuid ?? defaultUuid(setup.config.file, deps.env)
}

/** The S3 keys of a secrets file, and the file for messages about them. */
export interface S3Keys {
  accessKey: string
  secretKey: string
  file: string
}

/** The bucket of `[StartdLogging]` when send_startd_logs is on (the schema then requires
 *  url and bucket). */
function bucketSettings(config: SiteConfig) {
  const s = config.startdLogging
  if (!s.send_startd_logs || s.url === undefined || s.bucket === undefined) return undefined
  return { url: s.url, bucket: s.bucket, region: s.region ?? DEFAULT_REGION }
}

/** S3's original region, and what MinIO and most other S3 services answer to. */
const DEFAULT_REGION = "us-east-1"

/**
 * The log bucket, checked (ConfigError naming the config or secrets line otherwise, also
 * when the keys are missing); undefined when logs are not shipped or the keys are missing.
 */
export function checkedLogBucket(
  config: SiteConfig,
  keys: S3Keys | undefined,
): LogBucket | undefined {
  const settings = bucketSettings(config)
  if (!settings) return undefined
  const place = (key: string): ConfigPlace =>
    key === "access_key" || key === "secret_key"
      ? { ...(keys ? { file: keys.file } : {}), section: "StartdLogging", key }
      : config.place("StartdLogging", key)
  if (!keys) {
    checkLogBucket(settings, place)
    return undefined
  }
  const bucket = { ...settings, accessKey: keys.accessKey, secretKey: keys.secretKey }
  checkLogBucket(bucket, place)
  return bucket
}

/**
 * This round's upload form as job environment, signed now for the longest time S3 allows: a
 * glidein may wait in the queue for days before it starts, and uploads when it ends.
 */
function logEnv(setup: SiteSetup, now: Date): Record<string, string> | undefined {
  if (!setup.logBucket) return undefined
  const prefix = logKeyPrefix(glideinSite(setup.sections) ?? "glidein")
  return logUploadEnv(logUploadForm(setup.logBucket, prefix, now, MAX_FORM_LIFETIME_S))
}

async function dryRunPlan(
  setup: SiteSetup,
  source: DemandOrigin,
  options: SubmitOptions,
  notices: Notices,
  deps: SubmitDeps,
): Promise<number> {
  const { demand, skipped, counted, allotment, plan, lines, prepared } = await gather(
    setup,
    source,
    options,
    notices,
    deps,
  )
  warnStuck(counted, notices, deps)
  const notes: string[] = []
  // A real run refuses these; a dry run still shows its plan, and says so where it is read.
  for (const problem of setup.problems) {
    const note = `${problem.message}; a real run refuses this config`
    deps.stderr(`glidein submit: note: ${note}\n`)
    notes.push(note)
  }
  // A real run refuses these too; a dry run shows its plan all the same.
  for (const problem of await tarballProblems(setup.tarball, undefined, deps.now())) {
    const note = `${problem}; a real run refuses this`
    deps.stderr(`glidein submit: note: ${note}\n`)
    notes.push(note)
  }
  if (skipped) notes.push(skippedNote(skipped))
  if (allotment) notes.push(...allotmentLines(allotment))
  const report = {
    source: describeOrigin(source),
    demand,
    partitions: lines,
    prepared,
    unplaced: plan.unplaced,
    notes,
  }
  deps.stdout(
    options.json
      ? `${JSON.stringify(reportJson(report), null, 2)}\n`
      : reportText(report, { files: true }),
  )
  return lines.some((l) => l.error !== undefined) ? EXIT.failure : EXIT.ok
}

/** One round of a real run; returns its exit code. */
async function submitRound(
  setup: SiteSetup,
  source: DemandOrigin,
  options: SubmitOptions,
  startScript: string,
  notices: Notices,
  deps: SubmitDeps,
): Promise<number> {
  const { skipped, counted, allotment, plan, lines, prepared } = await gather(
    setup,
    source,
    options,
    notices,
    deps,
  )
  warnStuck(counted, notices, deps)
  // Rows of the pool no site could run are the same on every run: said when they change.
  if (skipped && notices.fresh(`skipped\0${skippedNote(skipped)}`))
    deps.stderr(`glidein submit: note: ${skippedNote(skipped)}\n`)
  let code: number = EXIT.ok
  for (const line of lines) {
    if (line.error === undefined) continue
    deps.stderr(`glidein submit: ${line.error}; nothing submitted there\n`)
    code = EXIT.failure
  }
  const launched = new Map<string, number>()
  const outcomes = await inParallel(prepared, SUBMIT_CONCURRENCY, (p) =>
    submitOne(p, setup, startScript, deps),
  )
  prepared.forEach((p, i) => {
    const outcome = outcomes[i]!
    for (const message of outcome.messages)
      deps.stderr(`glidein submit: [${p.planned.partition}] ${message}\n`)
    launched.set(p.planned.partition, (launched.get(p.planned.partition) ?? 0) + outcome.created)
    if (outcome.error !== undefined) code = EXIT.failure
  })
  for (const u of plan.unplaced) {
    // Demand this site can never run is the same on every run: said when it changes.
    if (u.kind === "refused" && notices.fresh(`unplaced\0${describeShape(u.shape)}\0${u.reason}`)) {
      deps.stderr(
        `glidein submit: cannot place ${plural(u.count, "job")} of ${describeShape(u.shape)}: ${u.reason}\n`,
      )
    }
  }
  if (stoppedCode(deps) === undefined) {
    // Glideins queued past max_queued_hours, or beyond this site's share as the server's
    // allotment says several rounds in a row: the waiting ones go.
    const tidied = await tidyQueue(
      setup.paths.journal,
      setup.paths.surplusRounds,
      counted,
      allotment?.surplus,
      deps,
    )
    for (const line of tidied.said) deps.stderr(`glidein submit: ${line}\n`)
    if (tidied.failed) code = EXIT.failure
  }
  const stopped = stoppedCode(deps)
  if (stopped !== undefined) {
    // Whoever sent the signal wants the process gone; the report can wait for the next run.
    deps.stderr(
      `glidein submit: stopped by ${String(deps.signal?.reason)}; every glidein submitted before it is in the journal ${setup.paths.journal}\n`,
    )
    return stopped
  }
  if (source.kind === "server") {
    // A partition that could not be counted is reported as such, never as 0 running, 0 idle.
    const reports: PartitionReport[] = lines.map((line) => {
      const o = plan.partitions.find((x) => x.partition === line.partition)
      return {
        partition: line.partition,
        ...(o && line.error === undefined ? { running: o.running, idle: o.idle } : {}),
        launched: launched.get(line.partition) ?? 0,
      }
    })
    await report(source.url, siteUuid(setup, options, deps), reports, deps)
  }
  return code
}

/** Most ids named in one warning about stuck glideins. */
const SHOWN_IDS = 20

/** Names a partition's held, suspended and failed glideins when they are not the ones the last
 *  run (or round) named. */
function warnStuck(counted: Counted[], notices: Notices, deps: SubmitDeps): void {
  for (const c of counted) {
    const ids = c.heldIds ?? []
    if (ids.length === 0) continue
    if (!notices.fresh(`stuck\0${c.partition.name}\0${[...ids].sort().join(" ")}`)) continue
    const shown = ids.slice(0, SHOWN_IDS).join(" ")
    const more = ids.length > SHOWN_IDS ? ` and ${ids.length - SHOWN_IDS} more` : ""
    deps.stderr(
      `glidein submit: [${c.partition.name}] warning: ${plural(ids.length, "glidein")} held, suspended or in an error state (${shown}${more}); they count toward max_total_jobs until released or removed\n`,
    )
  }
}

/** Submit commands running at once: batch systems take a few, and a cron run gets faster. */
const SUBMIT_CONCURRENCY = 4

/** Maps `items` through `work`, at most `limit` at a time; results in input order. */
async function inParallel<T, R>(
  items: T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      results[i] = await work(items[i]!)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}

/** Writes, submits and journals one submission; its messages are printed in plan order. */
async function submitOne(
  p: PreparedSubmission,
  setup: SiteSetup,
  startScript: string,
  deps: SubmitDeps,
): Promise<{ created: number; error?: string; messages: string[] }> {
  try {
    writeSubmissionFiles(p, startScript, setup.paths.outputDir)
  } catch (error) {
    const message = `cannot write the submit files in ${p.submitDir}: ${(error as Error).message}`
    return { created: 0, error: message, messages: [message] }
  }
  const journal = (count: number, jobIds: string[], unknown: boolean): string | undefined => {
    try {
      appendJournal(setup.paths.journal, {
        kind: "submit",
        time: deps.now().toISOString(),
        partition: p.planned.partition,
        scheduler: p.scheduler.name,
        count,
        resources: p.planned.resources,
        jobIds,
        ...(unknown ? { outcome: "unknown" as const } : {}),
      })
      return undefined
    } catch (error) {
      return `cannot record ${plural(count, "glidein")}${jobIds.length > 0 ? ` (${jobIds.join(" ")})` : ""} in the journal ${setup.paths.journal}: ${(error as Error).message}; glidein cancel will not know them, and nothing more is submitted`
    }
  }
  const outcome = await runSubmission(p, deps.run, deps.env, {
    journal,
    ...(deps.submitTimeoutMs !== undefined ? { timeoutMs: deps.submitTimeoutMs } : {}),
    ...(deps.signal ? { signal: deps.signal } : {}),
  })
  const messages: string[] = [...outcome.warnings]
  if (outcome.created > 0) {
    messages.push(
      outcome.jobIds.length > 0
        ? `submitted ${plural(outcome.created, "glidein")} as ${outcome.jobIds.join(" ")}`
        : `submitted ${plural(outcome.created, "glidein")}, but ${describeCommand(p)} printed no job id: glidein cancel cannot remove them by id`,
    )
  }
  const unknown = outcome.unknown?.count ?? 0
  const left = p.rendered.jobs - outcome.created - unknown
  if (outcome.stopped) {
    messages.push(`stopped by a signal; ${plural(left, "glidein")} not submitted`)
  } else if (outcome.error !== undefined) {
    const notSubmitted = left > 0 ? `; ${plural(left, "glidein")} not submitted` : ""
    if (outcome.unknown) {
      // The batch system may have taken the job before the command was killed.
      messages.push(
        `${outcome.error} (it may have submitted ${plural(unknown, "glidein")} all the same${notSubmitted})`,
      )
      if (outcome.unknown.journaled) {
        messages.push(
          "recorded in the journal as of unknown outcome: if they exist, the next run counts them and glidein cancel lists them for removal",
        )
      }
    } else {
      messages.push(
        left > 0 ? `${outcome.error} (${plural(left, "glidein")} not submitted)` : outcome.error,
      )
    }
  }
  const error = outcome.error
  return { created: outcome.created, messages, ...(error === undefined ? {} : { error }) }
}

async function report(
  url: string,
  uuid: string,
  partitions: PartitionReport[],
  deps: SubmitDeps,
): Promise<void> {
  try {
    await callJsonRpc(url, "monitoring", monitoringParams(uuid, deps.now(), partitions), deps.rpc)
  } catch (error) {
    deps.stderr(`glidein submit: warning: ${(error as Error).message}\n`)
  }
}
