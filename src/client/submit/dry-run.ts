/**
 * @module
 * `glidein submit --dry-run`: one round gathered as a real run gathers it, printed as text or
 * JSON; nothing is written, submitted or reported.
 */
import { EXIT } from "../../errors.ts"
import { skippedNote } from "../../protocol/demand.ts"
import { allotmentLines } from "./allotment.ts"
import { describeOrigin } from "./demand-origin.ts"
import { gatherRound } from "./gather-round.ts"
import { reportJson, reportText } from "./plan-report.ts"
import type { Run } from "./run.ts"
import { tarballProblems } from "./tarball-check.ts"

/** Prints the round's plan; exit 1 when a partition could not be counted. */
export async function dryRun(run: Run): Promise<number> {
  const { demand, skipped, allotment, plan, partitions, prepared } = await gatherRound(run)
  const notes: string[] = []
  const note = (text: string) => {
    run.say(`note: ${text}`)
    notes.push(text)
  }
  // A real run refuses these; a dry run still shows its plan, and says so where it is read.
  for (const problem of run.setup.problems)
    note(`${problem.message}; a real run refuses this config`)
  for (const problem of await tarballProblems(run.setup.tarball, undefined, run.deps.now()))
    note(`${problem}; a real run refuses this`)
  if (skipped) notes.push(skippedNote(skipped))
  if (allotment) notes.push(...allotmentLines(allotment))
  const report = {
    source: describeOrigin(run.origin),
    demand,
    partitions,
    prepared,
    unplaced: plan.unplaced,
    notes,
  }
  run.deps.stdout(
    run.json
      ? `${JSON.stringify(reportJson(report), null, 2)}\n`
      : reportText(report, { files: true }),
  )
  return partitions.some((p) => p.error !== undefined) ? EXIT.failure : EXIT.ok
}
