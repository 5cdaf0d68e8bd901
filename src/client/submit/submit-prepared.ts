/**
 * @module
 * The edge of a submit run: writing a prepared submission's files (each atomically, by
 * rename, and only when changed) and running its submit command. A failing command is
 * reported with its output; whatever it did submit before failing is still counted. A command
 * killed at its timeout may have submitted anyway (the batch system took the job, the answer
 * never came): its glideins are of unknown outcome, neither counted nor forgotten. A command
 * that printed a job id submitted that job, whatever its exit status. Each run is journaled as
 * soon as its command returns, so a run killed half-way loses at most the command in flight.
 */
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import { type CommandRunner, commandTrouble } from "../lib/run-command.ts"
import { writeIfChanged } from "../lib/write-if-changed.ts"
import type { PreparedSubmission } from "../site/prepare-submissions.ts"
import { plural } from "./plan-report.ts"

/** Limit for one submit command. */
const SUBMIT_TIMEOUT_MS = 120_000

/** Writes glidein_start.sh and the rendered files into the submission's directory. */
export function writeSubmissionFiles(
  p: PreparedSubmission,
  startScript: string,
  outputDir: string,
): void {
  mkdirSync(p.submitDir, { recursive: true, mode: 0o700 })
  mkdirSync(outputDir, { recursive: true, mode: 0o700 })
  writeIfChanged(p.spec.paths.startScript, startScript, 0o755)
  for (const [name, text] of Object.entries(p.rendered.files)) {
    writeIfChanged(join(p.submitDir, name), text, text.startsWith("#!") ? 0o755 : 0o644)
  }
}

/** What running one submission achieved. */
export interface SubmitOutcome {
  /** Glideins created by the runs that printed a job id or succeeded. */
  created: number
  jobIds: string[]
  /** One line, when a run failed without submitting (later runs are then not tried). */
  error?: string
  /** The run that timed out without a job id: the glideins it was to create. */
  unknown?: { count: number; journaled: boolean }
  /** Runs whose command failed after printing a job id: the job was submitted all the same. */
  warnings: string[]
  /** True when runs were left out because the process was asked to stop. */
  stopped?: true
}

/** How one submission's runs are made and journaled. */
export interface RunOptions {
  timeoutMs?: number
  /** Tripped by SIGTERM/SIGHUP: no further run starts. */
  signal?: AbortSignal
  /**
   * Called as soon as a run's command has returned, before the next starts, so a process
   * killed half-way has journaled every glidein submitted before; `unknown` when the command
   * timed out without a job id. Returns an error line when the journal cannot be written
   * (no further run is then made: it could not be journaled either).
   */
  journal(count: number, jobIds: string[], unknown: boolean): string | undefined
}

/** Runs the submission's command `runs` times, stopping at the first failure. */
export async function runSubmission(
  p: PreparedSubmission,
  run: CommandRunner,
  env: Record<string, string | undefined>,
  options: RunOptions,
): Promise<SubmitOutcome> {
  const timeoutMs = options.timeoutMs ?? SUBMIT_TIMEOUT_MS
  const perRun = p.rendered.jobs / p.rendered.runs
  const outcome: SubmitOutcome = { created: 0, jobIds: [], warnings: [] }
  for (let i = 0; i < p.rendered.runs; i++) {
    if (options.signal?.aborted) {
      outcome.stopped = true
      return outcome
    }
    const commandOptions = {
      cwd: p.submitDir,
      timeoutMs,
      env,
      ...(p.stdinFile ? { stdinFile: p.stdinFile } : {}),
    }
    const result = await run(p.argv, commandOptions).catch((e: Error) => e)
    const trouble = commandTrouble(result, timeoutMs)
    const jobIds = result instanceof Error ? [] : p.scheduler.parseJobIds(result.stdout)
    if (trouble !== undefined && jobIds.length === 0) {
      outcome.error = `${describeCommand(p)} ${trouble}`
      const timedOut = !(result instanceof Error) && result.timedOut
      if (timedOut) {
        const failed = options.journal(perRun, [], true)
        outcome.unknown = { count: perRun, journaled: failed === undefined }
        if (failed !== undefined) outcome.warnings.push(failed)
      }
      return outcome
    }
    // A job id printed is a job submitted, whatever the command did next (sbatch prints the
    // id, then may exit 1 with "Socket timed out on send/recv").
    if (trouble !== undefined) {
      outcome.warnings.push(
        `${describeCommand(p)} ${trouble}, but printed job id ${jobIds.join(" ")}: the batch system took ${plural(perRun, "glidein")}, and the journal has ${jobIds.length === 1 ? "it" : "them"}`,
      )
    }
    outcome.created += perRun
    outcome.jobIds.push(...jobIds)
    const failed = options.journal(perRun, jobIds, false)
    if (failed !== undefined) {
      outcome.error = failed
      return outcome
    }
  }
  return outcome
}

/** The command as a user would type it, for messages. */
export function describeCommand(p: PreparedSubmission): string {
  const line = p.siteCommand ? (p.argv[2] ?? "") : p.argv.join(" ")
  return `"${line}${p.stdinFile ? ` < ${p.rendered.stdinFile}` : ""}"`
}
