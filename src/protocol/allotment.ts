/**
 * @module
 * `get_allotment` on the wire: the params a glidein client sends (its report name, each
 * partition's capabilities, limits and counts) and the result the server answers, each
 * checked once with zod by the side that receives it. A server without the method (pyglidein's,
 * or one from before it) answers JSON-RPC's -32601, and the client plans as before.
 */
import { z } from "zod/mini"
import type { Allotment } from "../allotment/allot.ts"
import type { PartitionCounts, PartitionPolicy } from "../client/site/plan-submissions.ts"
import { DEMAND_LIMITS, OS_TOKEN } from "./demand.ts"

export const ALLOTMENT_METHOD = "get_allotment"

// zod/mini, as every schema a submit run loads: classic zod costs a cron run milliseconds.
const whole = (max: number) => z.int().check(z.gte(0), z.lte(max))
const count = whole(DEMAND_LIMITS.count)
const amount = z.number().check(z.gte(0), z.lte(DEMAND_LIMITS.disk))
const resources = z.strictObject({
  cpus: z.optional(amount),
  memory: z.optional(amount),
  disk: z.optional(amount),
  gpus: z.optional(amount),
})
const name = z
  .string()
  .check(
    z.minLength(1),
    z.maxLength(200),
    z.regex(/^\P{C}*$/u, { error: "must not contain control or format characters" }),
  )

const PartitionSchema = z.object({
  name: name,
  scheduler: z.enum(["htcondor", "slurm", "pbs", "uge", "sge", "lsf"]),
  limit_per_submit: count,
  max_total_jobs: count,
  max_idle_jobs: count,
  gpu_only: z.boolean(),
  cpu_only: z.boolean(),
  max_per_job: resources,
  min_per_job: resources,
  whole_node: z.optional(
    z.object({ cpus: amount, memory: amount, disk: amount, gpus: z.optional(amount) }),
  ),
  mem_per_core: z.optional(amount),
  mem_safety_scale: z.number().check(z.gte(0), z.lte(100)),
  os: z.optional(z.string().check(z.regex(OS_TOKEN))),
  prioritize: z.array(z.string().check(z.maxLength(32))).check(z.maxLength(16)),
  running: count,
  idle: count,
  held: z.optional(count),
})

export const AllotmentParamsSchema = z.object({
  uuid: name,
  /** A dry run is answered but not remembered as a grant. */
  dry_run: z.optional(z.boolean()),
  partitions: z.array(PartitionSchema).check(z.minLength(1), z.maxLength(64)),
})

export type AllotmentParams = z.infer<typeof AllotmentParamsSchema>

/** The params for a site's partitions and their counts. */
export function allotmentParams(
  uuid: string,
  partitions: { policy: PartitionPolicy; counts: PartitionCounts }[],
  dryRun: boolean,
): AllotmentParams {
  return {
    uuid,
    ...(dryRun ? { dry_run: true } : {}),
    partitions: partitions.map(({ policy: p, counts: c }) => ({
      name: p.name,
      scheduler: p.scheduler,
      limit_per_submit: p.limitPerSubmit,
      max_total_jobs: p.maxTotalJobs,
      max_idle_jobs: p.maxIdleJobs,
      gpu_only: p.gpuOnly,
      cpu_only: p.cpuOnly,
      max_per_job: p.maxPerJob,
      min_per_job: p.minPerJob,
      ...(p.wholeNode ? { whole_node: p.wholeNode } : {}),
      ...(p.memPerCore !== undefined ? { mem_per_core: p.memPerCore } : {}),
      mem_safety_scale: p.memSafetyScale,
      ...(p.os !== undefined ? { os: p.os } : {}),
      prioritize: p.prioritize,
      running: c.running,
      idle: c.idle,
      ...(c.held !== undefined ? { held: c.held } : {}),
    })),
  }
}

/** The server's view of checked params: what `allot()` takes. */
export function partitionsOf(
  params: AllotmentParams,
): { policy: PartitionPolicy; counts: PartitionCounts }[] {
  return params.partitions.map((p) => {
    const policy: PartitionPolicy = {
      name: p.name,
      scheduler: p.scheduler,
      limitPerSubmit: p.limit_per_submit,
      maxTotalJobs: p.max_total_jobs,
      maxIdleJobs: p.max_idle_jobs,
      gpuOnly: p.gpu_only,
      cpuOnly: p.cpu_only,
      maxPerJob: p.max_per_job,
      minPerJob: p.min_per_job,
      memSafetyScale: p.mem_safety_scale,
      // Walltime sizes nothing the server decides.
      walltimeHours: 0,
      prioritize: p.prioritize,
    }
    if (p.whole_node) policy.wholeNode = p.whole_node
    if (p.mem_per_core !== undefined) policy.memPerCore = p.mem_per_core
    if (p.os !== undefined) policy.os = p.os
    const counts: PartitionCounts = { running: p.running, idle: p.idle }
    if (p.held !== undefined) counts.held = p.held
    return { policy, counts }
  })
}

const RowSchema = z.object({
  cpus: whole(DEMAND_LIMITS.cpus),
  memory: whole(DEMAND_LIMITS.memory),
  disk: whole(DEMAND_LIMITS.disk),
  gpus: whole(DEMAND_LIMITS.gpus),
  os: z.nullable(z.string().check(z.regex(OS_TOKEN))),
  count,
})

/** The result, as a client checks it (a compromised server gets no text into a submit file). */
export const AllotmentSchema = z.object({
  uuid: z.string().check(z.maxLength(200)),
  at: z.number(),
  total: count,
  surplus: z.optional(count),
  state: z.enum(["normal", "backing off", "probing", "flagged"]),
  flag: z.optional(z.string().check(z.maxLength(500))),
  partitions: z
    .array(
      z.object({
        partition: z.string().check(z.maxLength(128)),
        count,
        rows: z.array(RowSchema).check(z.maxLength(DEMAND_LIMITS.rows)),
      }),
    )
    .check(z.maxLength(64)),
  terms: z
    .array(
      z.object({
        name: z.string().check(z.maxLength(64)),
        value: z.number(),
        note: z.string().check(z.maxLength(500)),
      }),
    )
    .check(z.maxLength(64)),
}) satisfies z.ZodMiniType<Allotment>
