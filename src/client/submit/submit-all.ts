/**
 * @module
 * The submissions of a round, a few at a time: each one's files written, its command run, the
 * glideins it made journaled, and what happened said in plan order.
 */
import { appendJournal } from "../site/journal.ts"
import type { PreparedSubmission } from "../site/prepare-submissions.ts"
import { plural } from "./plan-report.ts"
import type { Run } from "./run.ts"
import { describeCommand, runSubmission, writeSubmissionFiles } from "./submit-prepared.ts"

/** Submit commands running at once: batch systems take a few, and a cron run gets faster. */
const SUBMIT_CONCURRENCY = 4

/** Submits every prepared submission; returns the glideins made per partition and whether
 *  any submission failed. */
export async function submitAll(
  run: Run,
  prepared: PreparedSubmission[],
  startScript: string,
): Promise<{ launched: Map<string, number>; failed: boolean }> {
  const outcomes = await inParallel(prepared, SUBMIT_CONCURRENCY, (p) =>
    submitOne(run, p, startScript),
  )
  const launched = new Map<string, number>()
  let failed = false
  prepared.forEach((p, i) => {
    const outcome = outcomes[i]!
    const partition = p.planned.partition
    for (const message of outcome.messages) run.say(`[${partition}] ${message}`)
    launched.set(partition, (launched.get(partition) ?? 0) + outcome.created)
    if (outcome.error !== undefined) failed = true
  })
  return { launched, failed }
}

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
  run: Run,
  p: PreparedSubmission,
  startScript: string,
): Promise<{ created: number; error?: string; messages: string[] }> {
  const { paths } = run.setup
  const { deps } = run
  try {
    writeSubmissionFiles(p, startScript, paths.outputDir)
  } catch (error) {
    const message = `cannot write the submit files in ${p.submitDir}: ${(error as Error).message}`
    return { created: 0, error: message, messages: [message] }
  }
  const journal = (count: number, jobIds: string[], unknown: boolean): string | undefined => {
    try {
      appendJournal(paths.journal, {
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
      return `cannot record ${plural(count, "glidein")}${jobIds.length > 0 ? ` (${jobIds.join(" ")})` : ""} in the journal ${paths.journal}: ${(error as Error).message}; glidein cancel will not know them, and nothing more is submitted`
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
