/**
 * @module
 * What a round knows before it acts, the same for a real run and a dry run: the demand, each
 * partition's counts, the server's allotment, and the plan rendered into submissions.
 */
import { roundLogEnv } from "../site/log-upload.ts"
import { allotmentFor } from "./allotment.ts"
import { fetchDemand } from "./demand-origin.ts"
import { plural } from "./plan-report.ts"
import { countedPolicies, countPartitions, type PartitionRound, planRound } from "./plan-round.ts"
import type { Run } from "./run.ts"

/** Demand, counts, the server's allotment, plan and rendered submissions of one round. */
export async function gatherRound(run: Run) {
  const { setup, deps } = run
  // The server and the batch system are asked at the same time; when the server fails, the
  // counts (read-only) are waited for, so no command outlives the run.
  const [demandResult, countedResult] = await Promise.allSettled([
    fetchDemand(run.origin, deps.rpc),
    countPartitions(setup, run.assumeEmpty, deps),
  ])
  if (demandResult.status === "rejected") throw demandResult.reason
  if (countedResult.status === "rejected") throw countedResult.reason
  const { rows: demand, skipped } = demandResult.value
  const counted = countedResult.value
  const allotment = await allotmentFor(run, countedPolicies(counted))
  // Glideins advertise the name their site reports under (GLIDEIN_Client).
  const sections = { ...setup.sections, client: run.uuid }
  const roundEnv = roundLogEnv(run.logBucket, setup.sections, deps.now())
  const planned = planRound({ ...setup, sections }, demand, counted, roundEnv, allotment)
  warnStuck(run, counted)
  return { demand, skipped, allotment, ...planned }
}

/** Most ids named in one warning about stuck glideins. */
const SHOWN_IDS = 20

/** Names a partition's held, suspended and failed glideins when they are not the ones the last
 *  run (or round) named. */
function warnStuck(run: Run, counted: PartitionRound[]): void {
  for (const c of counted) {
    const ids = c.heldIds ?? []
    if (ids.length === 0) continue
    if (!run.notices.fresh(`stuck\0${c.partition.name}\0${[...ids].sort().join(" ")}`)) continue
    const shown = ids.slice(0, SHOWN_IDS).join(" ")
    const more = ids.length > SHOWN_IDS ? ` and ${ids.length - SHOWN_IDS} more` : ""
    run.say(
      `[${c.partition.name}] warning: ${plural(ids.length, "glidein")} held, suspended or in an error state (${shown}${more}); they count toward max_total_jobs until released or removed`,
    )
  }
}
