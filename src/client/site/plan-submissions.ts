/**
 * @module
 * The planner: demand + partition settings + current glidein counts → what to submit where.
 * A pure function. Partitions are served in config order; demand one partition takes is gone
 * for the next (pyglidein sent one GPU job a glidein in every partition); demand no partition
 * can run, or that limits leave unserved, comes back with the reason.
 */

import type { DemandRow } from "../../protocol/demand.ts"
import { SCHEDULERS } from "../../schedulers/index.ts"
import type { GlideinResources, SchedulerName } from "../../schedulers/types.ts"
import { type Shape, type SizingPolicy, sizeGlidein } from "./size-glidein.ts"

/** The four resources a job asks for, by their demand field names. */
export type Resource = "cpus" | "memory" | "disk" | "gpus"
const RESOURCES: Resource[] = ["cpus", "gpus", "memory", "disk"]

/** What the planner needs to know about one partition. */
export interface PartitionPolicy extends SizingPolicy {
  name: string
  scheduler: SchedulerName
  limitPerSubmit: number
  maxTotalJobs: number
  maxIdleJobs: number
  gpuOnly: boolean
  cpuOnly: boolean
  /** max_*_per_job (ignored when whole_node: then whole_node_* are the limits). */
  maxPerJob: Partial<Record<Resource, number>>
  minPerJob: Partial<Record<Resource, number>>
  /** The site's OS; demand that names a different one is not run here. */
  os?: string
  /** prioritize_jobs: demand fields, biggest first; a leading "-" means smallest first. */
  prioritize: string[]
}

/** Glideins of this partition already in the batch system. */
export interface PartitionCounts {
  running: number
  idle: number
  /** Held, suspended or in an error state: they take room under max_total_jobs, never idle. */
  held?: number
}

/** A demand shape as the server stated it. */
export type DemandShape = Omit<DemandRow, "count">

/** `count` identical glideins for one partition. */
export interface PlannedSubmission {
  partition: string
  count: number
  resources: GlideinResources
  /** The demand this submission serves, and how many jobs of each shape. */
  serves: { shape: DemandShape; count: number }[]
}

/** Per partition: the counts, the limit they left, and how much of it was used. */
export interface PartitionOutcome {
  partition: string
  running: number
  idle: number
  limit: number
  /** Which setting bounded the limit, e.g. `max_idle_jobs 10 − 10 idle`. */
  limitBy: string
  launched: number
}

/** Demand left unserved, with a reason a site user can act on. */
export interface Unplaced {
  shape: DemandShape
  count: number
  /** "limited": a partition could run them but is at a limit this round (a later run may
   *  place them); "refused": no partition can run them at all. */
  kind: "limited" | "refused"
  reason: string
}

/** The planner's answer. */
export interface Plan {
  submissions: PlannedSubmission[]
  partitions: PartitionOutcome[]
  unplaced: Unplaced[]
}

interface Pending {
  shape: DemandShape
  count: number
  /** Why each partition refused it (absent: it accepted). */
  refused: Map<string, string>
  limited: string[]
}

/**
 * Plans one run. `partitions` are in config order, each with its current counts. Glideins are
 * one per job, as pyglidein sized them; equal glideins for one partition share a submission.
 */
export function planSubmissions(
  demand: DemandRow[],
  partitions: { policy: PartitionPolicy; counts: PartitionCounts }[],
  /** Partitions left out because their glideins could not be counted. */
  uncounted: string[] = [],
): Plan {
  const pending: Pending[] = demand
    .filter((row) => row.count > 0)
    .map(({ count, ...shape }) => ({ shape, count, refused: new Map(), limited: [] }))
  const submissions: PlannedSubmission[] = []
  const outcomes: PartitionOutcome[] = []
  for (const { policy, counts } of partitions) {
    const { limit, limitBy } = partitionLimit(policy, counts)
    let left = limit
    const byResources = new Map<string, PlannedSubmission>()
    for (const item of sortByPriority(pending, policy.prioritize)) {
      if (item.count === 0) continue
      const verdict = consider(item.shape, policy)
      if (typeof verdict === "string") {
        item.refused.set(policy.name, verdict)
        continue
      }
      if (left <= 0) {
        item.limited.push(policy.name)
        continue
      }
      const n = Math.min(item.count, left)
      item.count -= n
      left -= n
      if (item.count > 0) item.limited.push(policy.name)
      const key = JSON.stringify(verdict)
      const existing = byResources.get(key)
      if (existing) {
        existing.count += n
        existing.serves.push({ shape: item.shape, count: n })
      } else {
        const submission = {
          partition: policy.name,
          count: n,
          resources: verdict,
          serves: [{ shape: item.shape, count: n }],
        }
        byResources.set(key, submission)
        submissions.push(submission)
      }
    }
    outcomes.push({ partition: policy.name, ...counts, limit, limitBy, launched: limit - left })
  }
  const unplaced = pending
    .filter((item) => item.count > 0)
    .map((item) => ({
      shape: item.shape,
      count: item.count,
      kind: item.limited.length > 0 ? ("limited" as const) : ("refused" as const),
      reason: unplacedReason(item, uncounted),
    }))
  return { submissions, partitions: outcomes, unplaced }
}

/** min(limit_per_submit, max_total_jobs − running − held, max_idle_jobs − idle), never below 0. */
export function partitionLimit(
  policy: PartitionPolicy,
  counts: PartitionCounts,
): { limit: number; limitBy: string } {
  const candidates: [number, string][] = [
    [policy.limitPerSubmit, `limit_per_submit ${policy.limitPerSubmit}`],
    [
      policy.maxTotalJobs - counts.running - (counts.held ?? 0),
      `max_total_jobs ${policy.maxTotalJobs} − ${counts.running} running${counts.held ? ` − ${counts.held} held` : ""}`,
    ],
    [policy.maxIdleJobs - counts.idle, `max_idle_jobs ${policy.maxIdleJobs} − ${counts.idle} idle`],
  ]
  let [limit, limitBy] = candidates[0]!
  for (const [value, why] of candidates.slice(1)) {
    if (value < limit) [limit, limitBy] = [value, why]
  }
  return { limit: Math.max(0, limit), limitBy }
}

/** The glidein for `shape` on this partition, or why the partition does not run it. */
export function consider(shape: DemandShape, policy: PartitionPolicy): GlideinResources | string {
  if (policy.gpuOnly && shape.gpus === 0) return "GPU-only partition, the jobs want no GPU"
  if (policy.cpuOnly && shape.gpus !== 0) return "CPU-only partition, the jobs want GPUs"
  if (policy.os !== undefined && shape.os !== null) {
    if (normalizeOs(shape.os) !== normalizeOs(policy.os)) {
      return `the jobs want OS ${shape.os}, the site runs ${policy.os}`
    }
  }
  const adjusted: Shape = {
    cpus: shape.cpus,
    // In the scheduler's memory unit (PBS: ×1024/1000), once, not once more per partition.
    memory: SCHEDULERS[policy.scheduler].sizing.demandMemoryMb(shape.memory),
    disk: shape.disk,
    gpus: shape.gpus,
  }
  for (const resource of RESOURCES) {
    const value = adjusted[resource]
    const max = policy.wholeNode ? policy.wholeNode[resource] : policy.maxPerJob[resource]
    if (max !== undefined && value > max) {
      const setting = policy.wholeNode ? `whole_node_${resource}` : `max_${resource}_per_job`
      return `${describeAmount(resource, value)} > ${setting} ${max}`
    }
    const min = policy.minPerJob[resource]
    if (min !== undefined && value < min) {
      return `${describeAmount(resource, value)} < min_${resource}_per_job ${min}`
    }
  }
  const { resources, scaledFrom } = sizeGlidein(adjusted, policy)
  // Demand of 0 cores or 0 MB (a server's bug, or worse) sizes a glidein no batch system takes;
  // refused here, it cannot stop the rendering of every other submission.
  if (resources.cpus < 1) return `a glidein of ${resources.cpus} cores cannot be submitted`
  if (resources.memoryMb < 1) return `a glidein of ${resources.memoryMb} MB cannot be submitted`
  const maxCpus = policy.maxPerJob.cpus
  if (scaledFrom !== undefined && maxCpus !== undefined && resources.cpus > maxCpus) {
    return `${resources.memoryMb} MB at mem_per_core ${policy.memPerCore ?? "default"} needs ${resources.cpus} cores > max_cpus_per_job ${maxCpus}`
  }
  return resources
}

function describeAmount(resource: Resource, value: number): string {
  const shown = Number.isInteger(value) ? value : Math.round(value * 10) / 10
  if (resource === "memory") return `memory ${shown} MB`
  if (resource === "disk") return `disk ${shown} MB`
  return `${resource} ${shown}`
}

/** Orders demand by prioritize_jobs, then biggest first on the remaining fields. */
export function sortByPriority<T extends { shape: DemandShape; count: number }>(
  items: T[],
  prioritize: string[],
): T[] {
  const keys: { field: keyof DemandRow & string; sign: number }[] = []
  for (const entry of prioritize) {
    const descending = !entry.startsWith("-")
    const field = FIELD_ALIASES[descending ? entry : entry.slice(1)]
    if (field && !keys.some((k) => k.field === field))
      keys.push({ field, sign: descending ? -1 : 1 })
  }
  for (const field of TIE_BREAK) {
    if (!keys.some((k) => k.field === field)) keys.push({ field, sign: -1 })
  }
  const value = (item: T, field: string): number =>
    field === "count" ? item.count : (item.shape[field as Resource] as number)
  return [...items].sort((a, b) => {
    for (const { field, sign } of keys) {
      const d = value(a, field) - value(b, field)
      if (d !== 0) return sign * d
    }
    return (a.shape.os ?? "").localeCompare(b.shape.os ?? "")
  })
}

// pyglidein's own default, ["gpu", "memory"], names "gpu", a field its demand rows never had,
// so GPU jobs were never put first; the singular forms are accepted for the fields they mean.
const FIELD_ALIASES: Record<string, "cpus" | "memory" | "disk" | "gpus" | "count"> = {
  cpus: "cpus",
  cpu: "cpus",
  memory: "memory",
  disk: "disk",
  gpus: "gpus",
  gpu: "gpus",
  count: "count",
}
const TIE_BREAK = ["gpus", "memory", "cpus", "disk", "count"] as const

/** Treats Enterprise Linux rebuilds of one major version as one OS (SL7 = CentOS7 = RHEL7). */
export function normalizeOs(os: string): string {
  const lower = os.trim().toLowerCase()
  const el =
    /^(?:rhel|el|centos|sl|scientificlinux|almalinux|alma|rockylinux|rocky|ol)[-_ ]?(\d+)/.exec(
      lower,
    )
  return el ? `el${el[1]}` : lower
}

function unplacedReason(item: Pending, uncounted: string[]): string {
  const names = (ps: string[]) => ps.map((p) => `[${p}]`).join(", ")
  const notCounted =
    uncounted.length > 0 ? `${names(uncounted)} could not be counted, so nothing goes there` : ""
  if (item.limited.length > 0) {
    const limits = `partition limits reached in ${names(item.limited)}`
    return notCounted ? `${limits}; ${notCounted}` : limits
  }
  if (item.refused.size === 0) return notCounted || "no partition is configured"
  const why = [...item.refused].map(([p, reason]) => `[${p}] ${reason}`).join("; ")
  return `no partition can run these jobs: ${why}${notCounted ? `; ${notCounted}` : ""}`
}
