/**
 * @module
 * `glidein status --config X`: per partition, the glideins running and idle now, the limits,
 * and what a submit run would do at this moment — computed exactly as a run computes it, but
 * nothing is written or submitted. The journal adds what was submitted last.
 */
import { loadSiteConfig, type SiteConfig } from "../../config/index.ts"
import { EXIT } from "../../errors.ts"
import { type Demand, type SkippedRows, skippedNote } from "../../protocol/demand.ts"
import type { RpcOptions } from "../lib/json-rpc.ts"
import { withLoginName } from "../lib/login-name.ts"
import { type CommandRunner, runCommand } from "../lib/run-command.ts"
import { writeStderr, writeStdout } from "../lib/std-output.ts"
import {
  type JournalRecord,
  outstandingJobs,
  readJournal,
  type SubmitRecord,
} from "../site/journal.ts"
import type { Unplaced } from "../site/plan-submissions.ts"
import { siteSetup } from "../site/site-setup.ts"
import { demandOrigin, describeOrigin, fetchDemand, SERVER_ENV } from "../submit/demand-origin.ts"
import { describeShape, diskMb, partitionJson, plural, requestJson } from "../submit/plan-report.ts"
import { countPartitions, planRound } from "../submit/plan-round.ts"

/** The world `status --config` talks to. */
export interface StatusDeps {
  run: CommandRunner
  env: Record<string, string | undefined>
  stdout: (text: string) => void
  /** Warnings about the config; unset, they are not shown. */
  stderr?: (text: string) => void
  rpc?: Partial<RpcOptions>
  stateRoot?: string
  countTimeoutMs?: number
}

/** Prints the site's status (text or `json`); exit 1 when demand or a count was unavailable. */
export async function siteStatus(
  config: SiteConfig,
  options: { json: boolean; server?: string },
  deps: StatusDeps,
): Promise<number> {
  const setup = siteSetup(config, deps.env, deps.stateRoot)
  for (const w of setup.warnings) deps.stderr?.(`glidein status: warning: ${w.message}\n`)
  const origin = demandOrigin(options, config.glidein, deps.env)
  const [demandResult, counted] = await Promise.all([
    fetchDemand(origin, deps.rpc).then(
      (demand): Demand & { error?: string } => demand,
      (error: Error): Demand & { error?: string } => ({ rows: [], error: error.message }),
    ),
    countPartitions(setup, false, deps),
  ])
  const { plan, partitions: round, prepared } = planRound(setup, demandResult.rows, counted)
  const journal = readJournal(setup.paths.journal)
  const outstanding = outstandingJobs(journal)
  const partitions = round.map((line) => {
    const p = line.partition
    const s = p.settings
    return {
      ...partitionJson(line),
      limit_per_submit: s.limit_per_submit,
      max_total_jobs: s.max_total_jobs,
      max_idle_jobs: s.max_idle_jobs,
      would_submit: prepared.filter((x) => x.planned.partition === p.name).map(requestJson),
      last_submit: lastSubmit(journal, p.name),
      journaled_not_cancelled: outstanding.get(p.name)?.length ?? 0,
    }
  })
  const status: Status = {
    config: config.file,
    demand_source: describeOrigin(origin),
    ...(demandResult.error !== undefined ? { demand_error: demandResult.error } : {}),
    demand_jobs: demandResult.rows.reduce((n, r) => n + r.count, 0),
    ...(demandResult.skipped !== undefined ? { demand_skipped: demandResult.skipped } : {}),
    partitions,
    unplaced: plan.unplaced,
  }
  deps.stdout(
    options.json ? `${JSON.stringify(status, null, 2)}\n` : statusText(status, outstanding),
  )
  const failed = demandResult.error !== undefined || round.some((l) => l.error !== undefined)
  return failed ? EXIT.failure : EXIT.ok
}

/** `glidein status --config FILE`: loads the config and prints its status to stdout. */
export async function configStatus(
  configPath: string,
  options: { json: boolean; server?: string },
): Promise<number> {
  const env = withLoginName(process.env as Record<string, string | undefined>)
  const demandFromCommandLine = options.server !== undefined || Boolean(env[SERVER_ENV])
  const config = await loadSiteConfig(configPath, { demandFromCommandLine })
  return siteStatus(config, options, {
    run: runCommand,
    env,
    stdout: writeStdout,
    stderr: writeStderr,
  })
}

function lastSubmit(journal: JournalRecord[], partition: string): SubmitRecord | undefined {
  for (let i = journal.length - 1; i >= 0; i--) {
    const r = journal[i]!
    if (r.kind === "submit" && r.partition === partition) return r
  }
  return undefined
}

/** What `status --config --json` prints. */
interface Status {
  config: string
  demand_source: string
  demand_error?: string
  demand_jobs: number
  /** Rows of the reply no site could run, left out. */
  demand_skipped?: SkippedRows
  partitions: (ReturnType<typeof partitionJson> & {
    limit_per_submit: number
    max_total_jobs: number
    max_idle_jobs: number
    would_submit: {
      count: number
      cpus: number
      memory_mb: number
      disk_kb: number
      gpus: number
      walltime_s: number
    }[]
    last_submit: SubmitRecord | undefined
    journaled_not_cancelled: number
  })[]
  unplaced: Unplaced[]
}

/** The status for a terminal. */
function statusText(status: Status, outstanding: Map<string, string[]>): string {
  const out: string[] = [
    status.demand_error !== undefined
      ? `${status.config}: demand unavailable: ${status.demand_error}`
      : `${status.config}: ${plural(status.demand_jobs, "idle job")} wanted, from ${status.demand_source}`,
  ]
  if (status.demand_skipped) out.push(`note: ${skippedNote(status.demand_skipped)}`)
  for (const p of status.partitions) {
    out.push("", `[${p.partition}] ${p.scheduler}`)
    if (p.error !== undefined) out.push(`  counts unavailable: ${p.error}`)
    else out.push(`  ${p.running} running, ${p.idle} idle`)
    out.push(
      `  limits: limit_per_submit ${p.limit_per_submit}, max_total_jobs ${p.max_total_jobs}, max_idle_jobs ${p.max_idle_jobs}${
        p.limit !== undefined ? `; now ${p.limit} (${p.limit_by})` : ""
      }`,
    )
    if (p.would_submit.length === 0) out.push("  a run now would submit nothing")
    for (const w of p.would_submit) {
      out.push(
        `  a run now would submit ${plural(w.count, "glidein")} of ${plural(w.cpus, "cpu")}, ${w.memory_mb} MB, disk ${diskMb(w.disk_kb)} MB, ${plural(w.gpus, "gpu")}`,
      )
    }
    if (p.last_submit)
      out.push(
        `  last submitted ${plural(p.last_submit.count, "glidein")} at ${p.last_submit.time}`,
      )
    const ids = outstanding.get(p.partition) ?? []
    if (ids.length > 0) {
      const shown =
        ids.length > 20
          ? `${ids.slice(-20).join(" ")} and ${ids.length - 20} earlier`
          : ids.join(" ")
      out.push(`  journal: ${plural(ids.length, "job")} not cancelled: ${shown}`)
    }
  }
  const unplaced = status.unplaced.filter((u) => u.kind === "refused")
  if (unplaced.length > 0) {
    out.push("", "Cannot place:")
    for (const u of unplaced)
      out.push(`  ${plural(u.count, "job")} of ${describeShape(u.shape)}: ${u.reason}`)
  }
  return `${out.join("\n")}\n`
}
