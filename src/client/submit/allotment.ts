/**
 * @module
 * The client's side of `get_allotment`: ask the server what this site should submit, check
 * the answer once, and plan each partition against the rows the server gave it (the planner
 * still applies the partition's own limits). A server without the method (pyglidein's) gets
 * today's planning against the whole table.
 */
import type { Allotment } from "../../allotment/allot.ts"
import { GlideinError } from "../../errors.ts"
import { ALLOTMENT_METHOD, AllotmentSchema, allotmentParams } from "../../protocol/allotment.ts"
import { RPC_CODES } from "../../protocol/json-rpc.ts"
import { callJsonRpc, RpcErrorReply, type RpcOptions } from "../lib/json-rpc.ts"
import { displayUrl } from "../lib/server-request.ts"
import {
  type PartitionCounts,
  type PartitionPolicy,
  type Plan,
  planSubmissions,
} from "../site/plan-submissions.ts"
import { describeOrigin } from "./demand-origin.ts"
import type { Run } from "./run.ts"

/**
 * The server's allotment for the partitions that could be counted (`partitions`); undefined
 * (plan against the whole table, as before) from a state file, a server without
 * `get_allotment` (said once), or a failed request (warned).
 */
export async function allotmentFor(
  run: Run,
  partitions: { policy: PartitionPolicy; counts: PartitionCounts }[],
): Promise<Allotment | undefined> {
  if (run.origin.kind !== "server") return undefined
  if (partitions.length === 0) return undefined
  try {
    const answer = await askAllotment(
      run.origin.url,
      run.uuid,
      partitions,
      run.dryRun,
      run.deps.rpc,
    )
    if (answer !== "unsupported") return answer
    if (run.notices.fresh("note:no-allotment")) {
      run.say(
        `note: ${describeOrigin(run.origin)} has no get_allotment (a pyglidein server?); planning against its whole demand table`,
      )
    }
  } catch (error) {
    run.say(`warning: ${(error as Error).message}; planning against the whole demand table`)
  }
  return undefined
}

/**
 * The server's allotment for this site, or `"unsupported"` when the server has no
 * `get_allotment`. Throws a GlideinError for any other failure.
 */
export async function askAllotment(
  url: string,
  uuid: string,
  partitions: { policy: PartitionPolicy; counts: PartitionCounts }[],
  dryRun: boolean,
  rpc: Partial<RpcOptions> = {},
): Promise<Allotment | "unsupported"> {
  let result: unknown
  try {
    result = await callJsonRpc(
      url,
      ALLOTMENT_METHOD,
      allotmentParams(uuid, partitions, dryRun),
      rpc,
    )
  } catch (error) {
    if (error instanceof RpcErrorReply && error.code === RPC_CODES.methodNotFound)
      return "unsupported"
    throw error
  }
  const checked = AllotmentSchema.safeParse(result)
  if (!checked.success) {
    const issue = checked.error.issues[0]
    const where = issue?.path.map(String).join(".") || "the result"
    throw new GlideinError(
      `server ${displayUrl(url)}: ${ALLOTMENT_METHOD} reply is not an allotment (${where}: ${issue?.message ?? "invalid"})`,
    )
  }
  return checked.data
}

/** Plans each partition against its allotted rows, in config order. */
export function planAllotted(
  allotment: Allotment,
  partitions: { policy: PartitionPolicy; counts: PartitionCounts }[],
  uncounted: string[],
): Plan {
  const plan: Plan = { submissions: [], partitions: [], unplaced: [] }
  for (const p of partitions) {
    const rows = allotment.partitions.find((a) => a.partition === p.policy.name)?.rows ?? []
    const one = planSubmissions(rows, [p], uncounted)
    plan.submissions.push(...one.submissions)
    plan.partitions.push(...one.partitions)
    plan.unplaced.push(...one.unplaced)
  }
  return plan
}

/** The server's reasoning, one line per term, for a dry run. */
export function allotmentLines(allotment: Allotment): string[] {
  const per = allotment.partitions.map((p) => `[${p.partition}] ${p.count}`).join(", ")
  return [
    `server allotment: ${allotment.total} glidein${allotment.total === 1 ? "" : "s"} (${allotment.state})${per ? `: ${per}` : ""}`,
    ...allotment.terms.map((t) => `  ${t.name} ${t.value}: ${t.note}`),
  ]
}
