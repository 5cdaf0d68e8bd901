/**
 * @module
 * The part of a round that `submit`, `submit --dry-run` and `status --config` share: count
 * every partition's glideins, then plan and render against the demand.
 */

import type { Allotment } from "../../allotment/allot.ts"
import type { DemandRow } from "../../protocol/demand.ts"
import { unknownLoginReason } from "../lib/login-name.ts"
import type { CommandRunner } from "../lib/run-command.ts"
import { countGlideins } from "../site/count-glideins.ts"
import { jobNumber, outstandingJobs, readJournal } from "../site/journal.ts"
import type { Partition } from "../site/partition.ts"
import {
  type PartitionCounts,
  type PartitionOutcome,
  type Plan,
  planSubmissions,
} from "../site/plan-submissions.ts"
import { type PreparedSubmission, prepareSubmissions } from "../site/prepare-submissions.ts"
import { type SiteSetup, usesDefaultCount } from "../site/site-setup.ts"
import { planAllotted } from "./allotment.ts"

/**
 * One partition in a round: its counts, or why there are none (`countPartitions()`), then
 * what the plan made of them (`planRound()` adds `outcome`).
 */
export interface PartitionRound {
  partition: Partition
  counts?: PartitionCounts
  /** Glideins held, suspended or in an error state. */
  heldIds?: string[]
  /** Glideins waiting to run, by id (only where the scheduler's own commands counted). */
  idleIds?: string[]
  error?: string
  /** The counts the planner took, the limit they left and what it launched. */
  outcome?: PartitionOutcome
}

/** Counts running and idle glideins of every partition at once (or takes them as 0). */
export async function countPartitions(
  setup: SiteSetup,
  assumeEmpty: boolean,
  deps: { run: CommandRunner; env: Record<string, string | undefined>; countTimeoutMs?: number },
): Promise<PartitionRound[]> {
  // The journal's own jobs are counted by id too, whoever the batch system files them under.
  const journaled = assumeEmpty ? new Map<string, string[]>() : journaledJobs(setup)
  return Promise.all(
    setup.partitions.map(async (partition): Promise<PartitionRound> => {
      if (assumeEmpty) return { partition, counts: { running: 0, idle: 0 } }
      if (partition.user === undefined && usesDefaultCount(partition.settings)) {
        // Asking for a made-up user's jobs counts 0 of ours, and the limits stop applying.
        return {
          partition,
          error: `[${partition.name}] cannot count glideins: ${unknownLoginReason()}`,
        }
      }
      const jobs = [...new Set((journaled.get(partition.name) ?? []).map(jobNumber))]
      const ctx = {
        run: deps.run,
        env: deps.env,
        // Read only by the scheduler's own commands, which have a name by now.
        user: partition.user ?? "",
        jobs,
        timeoutMs: deps.countTimeoutMs,
      }
      const result = await countGlideins(
        partition.name,
        partition.settings,
        partition.scheduler,
        ctx,
      )
      return "error" in result
        ? { partition, error: result.error }
        : { partition, counts: result.counts, heldIds: result.heldIds, idleIds: result.idleIds }
    }),
  )
}

/** The journal's outstanding jobs per partition; none when it cannot be read (the counts by
 *  user still stand, and a real run says what is wrong with the journal when it writes). */
function journaledJobs(setup: SiteSetup): Map<string, string[]> {
  try {
    return outstandingJobs(readJournal(setup.paths.journal))
  } catch {
    return new Map()
  }
}

/** The planner's view of the partitions that could be counted: policy and counts. */
export function countedPolicies(round: PartitionRound[]) {
  return round.flatMap((c) => (c.counts ? [{ policy: c.partition.policy, counts: c.counts }] : []))
}

/** The plan over the partitions that could be counted, rendered. */
export interface RoundPlan {
  plan: Plan
  /** Every partition of the round, in config order, with its outcome when it was counted. */
  partitions: PartitionRound[]
  prepared: PreparedSubmission[]
}

/**
 * Plans and renders one round; `roundEnv` goes into every job's environment. With the
 * server's allotment, each partition plans against the rows allotted to it instead of the
 * whole table. Throws before anything runs if a submission cannot render.
 */
export function planRound(
  setup: SiteSetup,
  demand: DemandRow[],
  counted: PartitionRound[],
  roundEnv?: Record<string, string>,
  allotment?: Allotment,
): RoundPlan {
  const usable = countedPolicies(counted)
  const uncounted = counted.flatMap((c) => (c.counts ? [] : [c.partition.name]))
  const plan = allotment
    ? planAllotted(allotment, usable, uncounted)
    : planSubmissions(demand, usable, uncounted)
  const partitions = counted.map((c): PartitionRound => {
    const outcome = plan.partitions.find((o) => o.partition === c.partition.name)
    return outcome ? { ...c, outcome } : c
  })
  const prepared = prepareSubmissions(plan.submissions, {
    site: roundEnv ? { ...setup.sections, roundEnv } : setup.sections,
    partitions: new Map(setup.partitions.map((p) => [p.name, p])),
    submitRoot: setup.paths.submitRoot,
    outputDir: setup.paths.outputDir,
    tarball: setup.tarball,
    ...(setup.template ? { template: setup.template } : {}),
  })
  return { plan, partitions, prepared }
}
