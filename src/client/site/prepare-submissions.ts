/**
 * @module
 * From a plan to submissions ready to run: the job spec, the adapter's rendered files, the
 * directory they go in and the exact command. Pure — nothing is written or run here, so the
 * same values serve `--dry-run`, `status --config` and a real run, and a rendering error stops
 * a run before its first submission.
 */
import { join } from "node:path"
import type { JobSpec, RenderedJob, Scheduler } from "../../schedulers/types.ts"
import { shellArgv, shellQuote } from "../lib/run-command.ts"
import { buildJobSpec, type SiteSections } from "./job-spec.ts"
import type { Partition } from "./partition.ts"
import type { PlannedSubmission } from "./plan-submissions.ts"
import { safeName } from "./state-dir.ts"

/** One submission, rendered, with the command that submits it. */
export interface PreparedSubmission {
  planned: PlannedSubmission
  scheduler: Scheduler
  spec: JobSpec
  rendered: RenderedJob
  /** Where the files are written and the command runs. */
  submitDir: string
  /** The command, run `rendered.runs` times. */
  argv: string[]
  /** Absolute path of a file fed on stdin, if any. */
  stdinFile?: string
  /** True when `argv` is the site's own `submit_command` through /bin/sh. */
  siteCommand: boolean
}

/** Paths shared by every submission of one config. */
export interface PrepareContext {
  site: SiteSections
  partitions: Map<string, Partition>
  /** Root of the per-partition submit directories. */
  submitRoot: string
  outputDir: string
  tarball: string
  template?: { text: string; file: string }
}

/** Renders every planned submission. Throws (ConfigError, GlideinError) before anything runs. */
export function prepareSubmissions(
  submissions: PlannedSubmission[],
  ctx: PrepareContext,
): PreparedSubmission[] {
  return submissions.map((planned) => {
    const partition = ctx.partitions.get(planned.partition)
    if (!partition)
      throw new Error(`planned a submission for unknown partition ${planned.partition}`)
    const submitDir = join(ctx.submitRoot, safeName(planned.partition), sizeDirName(planned))
    const files = {
      submitDir,
      startScript: join(submitDir, "glidein_start.sh"),
      tarball: ctx.tarball,
      outputDir: ctx.outputDir,
      ...(ctx.template ? { template: ctx.template } : {}),
    }
    const spec = buildJobSpec(planned, partition.settings, ctx.site, files)
    const rendered = partition.scheduler.render(spec)
    const command = partition.settings.submit_command
    const prepared: PreparedSubmission = {
      planned,
      scheduler: partition.scheduler,
      spec,
      rendered,
      submitDir,
      argv:
        command !== undefined
          ? shellArgv(`${command} ${shellQuote(rendered.submitFile)}`)
          : rendered.argv,
      siteCommand: command !== undefined,
    }
    // The site's own command (`bsub <`) does its own redirection.
    if (command === undefined && rendered.stdinFile !== undefined) {
      prepared.stdinFile = join(submitDir, rendered.stdinFile)
    }
    return prepared
  })
}

/** One directory per glidein size, so a pending job's files are never rewritten with others. */
function sizeDirName(planned: PlannedSubmission): string {
  const r = planned.resources
  return `c${r.cpus}-m${r.memoryMb}-d${r.diskKb}-g${r.gpus}-w${r.walltimeS}`
}
