/**
 * Running `condor_history` for the jobs that left the schedd's queue since the last poll:
 * the argv (never a shell), what counts as a failed answer — condor_q's rules: a missing
 * program, a timeout, a signal, a non-zero exit, more than MAX_JOBS jobs, or lines of which
 * none parsed — and historySource(), which asks each poll only for what it has not counted.
 */
import { GlideinError } from "../errors.ts"
import { runCondorTool } from "../run-condor-tool.ts"
import { answerFault } from "./af-lines.ts"
import {
  EndedJobParser,
  type EndedJobs,
  HISTORY_COLUMNS,
  MAX_JOBS,
} from "./condor-history-parse.ts"

/** What condor_history reported that could not be used. */
export class CondorHistoryError extends GlideinError {}

/**
 * The condor_history arguments (after the program) for the jobs that completed after `since`
 * (epoch seconds), newest first. `-completedsince` (HTCondor 23) stops the scan at the first
 * job that completed at or before it; no constraint, so every ad scanned is printed and
 * `-scanlimit` bounds the work exactly as `-limit` bounds the answer: one past `maxJobs`
 * says there was more.
 */
export function condorHistoryArgv(since: number, maxJobs = MAX_JOBS): string[] {
  const limit = String(maxJobs + 1)
  return [
    "-completedsince",
    String(Math.floor(since)),
    "-scanlimit",
    limit,
    "-limit",
    limit,
    "-af:tV",
    ...HISTORY_COLUMNS,
  ]
}

/** Options for one condor_history run. */
export interface RunCondorHistoryOptions {
  /** The condor_history program (a path, or a name looked up in PATH). */
  program: string
  argv: string[]
  timeoutMs: number
  signal?: AbortSignal
  maxJobs?: number
}

/**
 * Runs condor_history and parses its output as it streams. Throws CondorHistoryError when
 * the run fails or its answer is partial; lines that did not parse beside good ones are
 * counted in the result (`badLines`, `firstBad`).
 */
export async function runCondorHistory(options: RunCondorHistoryOptions): Promise<EndedJobs> {
  const maxJobs = options.maxJobs ?? MAX_JOBS
  const parser = new EndedJobParser(maxJobs)
  await runCondorTool({
    ...options,
    name: "condor_history",
    onStdout: (chunk) => parser.push(chunk),
    fail: (message) => new CondorHistoryError(message),
  })
  const result = parser.finish()
  const fault = answerFault("condor_history", result, result.jobs.length, [maxJobs, "jobs"])
  if (fault !== undefined) throw new CondorHistoryError(fault)
  return result
}

/** Seconds each query reaches back before the previous one: a job written to the history a
 *  little after it completed, or a schedd clock a little behind, is still read. */
const OVERLAP_S = 300
/** The first query, and one after a long outage, reach back at most this far. */
const LOOKBACK_S = 3600

/**
 * One history read per poll (PoolPoller's `history`): the jobs that completed since the
 * previous good read, each handed on once (the overlap is read again and left out by job id).
 * A failed read throws and moves nothing, so the next one reads its span too.
 */
export function historySource(
  program: string,
  timeoutMs: number,
  options: { now?: () => number; maxJobs?: number } = {},
): (signal: AbortSignal) => Promise<EndedJobs> {
  const now = options.now ?? Date.now
  let previous: number | undefined
  /** Completed jobs read last time that the next read may show again, by id → end. */
  let counted = new Map<string, number>()
  return async (signal) => {
    const started = Math.floor(now() / 1000)
    const since = Math.max(started - LOOKBACK_S, (previous ?? 0) - OVERLAP_S)
    const answer = await runCondorHistory({
      program,
      argv: condorHistoryArgv(since, options.maxJobs),
      timeoutMs,
      signal,
      maxJobs: options.maxJobs,
    })
    const kept = new Map<string, number>()
    const fresh = answer.jobs.filter((job) => {
      // a removed job says nothing of the site it ran at (and, its end not stopping the
      // scan, may show again): only completed jobs are handed on
      if (job.status !== "completed") return false
      // the next read starts after `started - OVERLAP_S`: what ended before cannot show again
      if (job.endedAt > started - OVERLAP_S) kept.set(job.id, job.endedAt)
      return !counted.has(job.id)
    })
    counted = kept
    previous = started
    return { ...answer, jobs: fresh }
  }
}
