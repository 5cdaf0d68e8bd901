/**
 * @module
 * The edge of a submit run: writing a prepared submission's files (each atomically, by
 * rename, and only when changed) and running its submit command. A failing command is
 * reported with its output; whatever it did submit before failing is still counted. A command
 * killed at its timeout may have submitted anyway (the batch system took the job, the answer
 * never came): its glideins are of unknown outcome, neither counted nor forgotten.
 */
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import type { PreparedSubmission } from "./prepare-submissions.ts"
import { type CommandRunner, commandTrouble } from "./run-command.ts"
import { writeIfChanged } from "./write-if-changed.ts"

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
  /** Glideins created by the runs that succeeded. */
  created: number
  jobIds: string[]
  /** One line, when a run failed (later runs are then not tried). */
  error?: string
  /** The run that timed out: the glideins it was to create, and any job id it printed. */
  unknown?: { count: number; jobIds: string[] }
}

/** Runs the submission's command `runs` times, stopping at the first failure. */
export async function runSubmission(
  p: PreparedSubmission,
  run: CommandRunner,
  env: Record<string, string | undefined>,
  timeoutMs = SUBMIT_TIMEOUT_MS,
): Promise<SubmitOutcome> {
  const perRun = p.rendered.jobs / p.rendered.runs
  const outcome: SubmitOutcome = { created: 0, jobIds: [] }
  for (let i = 0; i < p.rendered.runs; i++) {
    const options = {
      cwd: p.submitDir,
      timeoutMs,
      env,
      ...(p.stdinFile ? { stdinFile: p.stdinFile } : {}),
    }
    const result = await run(p.argv, options).catch((e: Error) => e)
    const trouble = commandTrouble(result, timeoutMs)
    if (trouble !== undefined || result instanceof Error) {
      outcome.error = `${describeCommand(p)} ${trouble}`
      if (!(result instanceof Error) && result.timedOut) {
        outcome.unknown = { count: perRun, jobIds: p.scheduler.parseJobIds(result.stdout) }
      }
      return outcome
    }
    outcome.created += perRun
    outcome.jobIds.push(...p.scheduler.parseJobIds(result.stdout))
  }
  return outcome
}

/** The command as a user would type it, for messages. */
export function describeCommand(p: PreparedSubmission): string {
  const line = p.siteCommand ? (p.argv[2] ?? "") : p.argv.join(" ")
  return `"${line}${p.stdinFile ? ` < ${p.rendered.stdinFile}` : ""}"`
}
