/**
 * @module
 * A partition as every client command knows it: its config section, the adapter that writes
 * its jobs, and the planner's policy — a plain mapping from the section, so that the planner
 * never sees pyglidein's key names and the config never sees the planner's.
 */
import type { PartitionSettings, SubmitFileSettings } from "../../config/schema.ts"
import type { Scheduler } from "../../schedulers/types.ts"
import type { PartitionPolicy, Resource } from "./plan-submissions.ts"

/** One partition of a site, made ready by `siteSetup()`. */
export interface Partition {
  name: string
  settings: PartitionSettings
  scheduler: Scheduler
  policy: PartitionPolicy
  /**
   * Login name for the scheduler's own count commands: `user`, else this process's (by uid).
   * Absent when the partition has its own running_cmd and idle_cmd, or when no name can be
   * found — then it is not counted (see `usesDefaultCount`).
   */
  user?: string
}

/** The planning policy of partition `name`. */
export function partitionPolicy(
  name: string,
  p: PartitionSettings,
  submitFile: SubmitFileSettings,
): PartitionPolicy {
  const minPerJob: Partial<Record<Resource, number>> = {}
  if (p.min_cpus_per_job !== undefined) minPerJob.cpus = p.min_cpus_per_job
  if (p.min_gpus_per_job !== undefined) minPerJob.gpus = p.min_gpus_per_job
  if (p.min_memory_per_job !== undefined) minPerJob.memory = p.min_memory_per_job
  if (p.min_disk_per_job !== undefined) minPerJob.disk = p.min_disk_per_job
  const policy: PartitionPolicy = {
    name,
    scheduler: p.scheduler,
    limitPerSubmit: p.limit_per_submit,
    maxTotalJobs: p.max_total_jobs,
    maxIdleJobs: p.max_idle_jobs,
    gpuOnly: p.gpu_only,
    cpuOnly: p.cpu_only,
    maxPerJob: {
      cpus: p.max_cpus_per_job,
      gpus: p.max_gpus_per_job,
      memory: p.max_memory_per_job,
      disk: p.max_disk_per_job,
    },
    minPerJob,
    memSafetyScale: submitFile.mem_safety_scale ?? 1,
    walltimeHours: p.walltime_hrs,
    prioritize: p.prioritize_jobs,
  }
  if (p.whole_node) {
    // The schema refuses whole_node without these three.
    policy.wholeNode = {
      cpus: p.whole_node_cpus!,
      memory: p.whole_node_memory!,
      disk: p.whole_node_disk!,
    }
    if (p.whole_node_gpus !== undefined) policy.wholeNode.gpus = p.whole_node_gpus
  }
  if (p.mem_per_core !== undefined) policy.memPerCore = p.mem_per_core
  const os = p.os?.trim()
  if (os) policy.os = os
  return policy
}
