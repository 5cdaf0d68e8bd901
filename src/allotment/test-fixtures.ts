/** A partition and demand rows for the allotment's tests. */
import type { PartitionPolicy } from "../client/site/plan-submissions.ts"
import type { DemandRow } from "../demand/demand-row.ts"

export function partition(overrides: Partial<PartitionPolicy> = {}): PartitionPolicy {
  return {
    name: "Cluster",
    scheduler: "slurm",
    limitPerSubmit: 1000,
    maxTotalJobs: 10000,
    maxIdleJobs: 10000,
    gpuOnly: false,
    cpuOnly: false,
    maxPerJob: { cpus: 12, gpus: 8, memory: 24000, disk: 100000 },
    minPerJob: {},
    memSafetyScale: 1,
    walltimeHours: 20,
    prioritize: [],
    memPerCore: 100000,
    ...overrides,
  }
}

export function row(count: number, gpus = 0): DemandRow {
  return { cpus: 1, memory: 2000, disk: 10000, gpus, os: null, count }
}
