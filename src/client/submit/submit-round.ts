/**
 * @module
 * One round of a real run: gather, submit, tidy the queue, report to the server — and say
 * what went wrong, or what changed since the last run.
 */
import { EXIT } from "../../errors.ts"
import { printable } from "../../printable.ts"
import { skippedNote } from "../../protocol/demand.ts"
import { gatherRound } from "./gather-round.ts"
import { reportRound } from "./monitoring.ts"
import { describeShape, plural } from "./plan-report.ts"
import { tidyQueue } from "./queue-hygiene.ts"
import type { Run } from "./run.ts"
import { submitAll } from "./submit-all.ts"

/** Runs one round; returns its exit code. `tokenExpires`: the tarball check's, reported. */
export async function submitRound(
  run: Run,
  startScript: string,
  tokenExpires?: number,
): Promise<number> {
  const { setup, notices } = run
  const { skipped, allotment, plan, partitions, prepared } = await gatherRound(run)
  // Rows of the pool no site could run are the same on every run: said when they change.
  if (skipped && notices.fresh(`skipped\0${skippedNote(skipped)}`))
    run.say(`note: ${skippedNote(skipped)}`)
  // The pool sees this site's glideins waste its allocation; the server holds it to probes.
  // True on every run until it is fixed: said when the reason changes.
  if (allotment?.flag !== undefined && notices.fresh(`flagged\0${allotment.flag}`)) {
    run.say(
      `warning: the pool flags this site: ${printable(allotment.flag)}; the server allots it only a probe now and then until one of its glideins works`,
    )
  }
  let code: number = EXIT.ok
  for (const p of partitions) {
    if (p.error === undefined) continue
    run.say(`${p.error}; nothing submitted there`)
    code = EXIT.failure
  }
  const { launched, failed } = await submitAll(run, prepared, startScript)
  if (failed) code = EXIT.failure
  for (const u of plan.unplaced) {
    // Demand this site can never run is the same on every run: said when it changes.
    if (u.kind === "refused" && notices.fresh(`unplaced\0${describeShape(u.shape)}\0${u.reason}`))
      run.say(`cannot place ${plural(u.count, "job")} of ${describeShape(u.shape)}: ${u.reason}`)
  }
  if (run.stopped() === undefined) {
    // Glideins queued past max_queued_hours, or beyond this site's share as the server's
    // allotment says several rounds in a row: the waiting ones go.
    const tidied = await tidyQueue(
      setup.paths.journal,
      setup.paths.surplusRounds,
      partitions,
      allotment?.surplus,
      run.deps,
    )
    for (const line of tidied.said) run.say(line)
    if (tidied.failed) code = EXIT.failure
  }
  const stopped = run.stopped()
  if (stopped !== undefined) {
    // Whoever sent the signal wants the process gone; the report can wait for the next run.
    run.say(
      `stopped by ${String(run.deps.signal?.reason)}; every glidein submitted before it is in the journal ${setup.paths.journal}`,
    )
    return stopped
  }
  if (run.origin.kind === "server")
    await reportRound(run, run.origin.url, partitions, launched, tokenExpires)
  return code
}
