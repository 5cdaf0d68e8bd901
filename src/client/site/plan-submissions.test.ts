import { describe, expect, test } from "bun:test"
import type { DemandRow } from "../../protocol/demand.ts"
import {
  normalizeOs,
  type PartitionPolicy,
  partitionLimit,
  planSubmissions,
  sortByPriority,
} from "./plan-submissions.ts"

function policy(overrides: Partial<PartitionPolicy> = {}): PartitionPolicy {
  return {
    name: "Cluster",
    scheduler: "slurm",
    limitPerSubmit: 50,
    maxTotalJobs: 1000,
    maxIdleJobs: 1000,
    gpuOnly: false,
    cpuOnly: false,
    maxPerJob: { cpus: 12, gpus: 8, memory: 24000, disk: 100000 },
    minPerJob: {},
    memSafetyScale: 1,
    walltimeHours: 20,
    prioritize: ["gpu", "memory"],
    memPerCore: 100000,
    ...overrides,
  }
}

function row(cpus: number, memory: number, gpus: number, count: number, os: string | null = null) {
  return { cpus, memory, disk: 10000, gpus, os, count } satisfies DemandRow
}

const idle = { running: 0, idle: 0 }

describe("partitionLimit()", () => {
  test("partitionLimit() takes the smallest of limit_per_submit, total and idle headroom", () => {
    const p = policy({ limitPerSubmit: 10, maxTotalJobs: 100, maxIdleJobs: 20 })
    expect(partitionLimit(p, { running: 0, idle: 0 })).toEqual({
      limit: 10,
      limitBy: "limit_per_submit 10",
    })
    expect(partitionLimit(p, { running: 95, idle: 0 }).limit).toBe(5)
    expect(partitionLimit(p, { running: 0, idle: 17 })).toEqual({
      limit: 3,
      limitBy: "max_idle_jobs 20 − 17 idle",
    })
  })

  test("partitionLimit() counts held glideins toward max_total_jobs, never as idle", () => {
    // Each run would add limit_per_submit more behind glideins that never start.
    const p = policy({ limitPerSubmit: 10, maxTotalJobs: 100, maxIdleJobs: 20 })
    expect(partitionLimit(p, { running: 80, idle: 0, held: 15 })).toEqual({
      limit: 5,
      limitBy: "max_total_jobs 100 − 80 running − 15 held",
    })
    expect(partitionLimit(p, { running: 0, idle: 15, held: 40 })).toEqual({
      limit: 5,
      limitBy: "max_idle_jobs 20 − 15 idle",
    })
  })

  test("partitionLimit() never goes below zero when counts exceed the maxima", () => {
    const p = policy({ maxTotalJobs: 10, maxIdleJobs: 5 })
    expect(partitionLimit(p, { running: 40, idle: 9 }).limit).toBe(0)
  })
})

describe("planSubmissions() limits", () => {
  test("planSubmissions() submits no more than limit_per_submit glideins", () => {
    const plan = planSubmissions(
      [row(1, 1000, 0, 30)],
      [{ policy: policy({ limitPerSubmit: 7 }), counts: idle }],
    )
    expect(plan.submissions.map((s) => s.count)).toEqual([7])
    expect(plan.partitions[0]?.launched).toBe(7)
    expect(plan.unplaced).toEqual([
      {
        shape: { cpus: 1, memory: 1000, disk: 10000, gpus: 0, os: null },
        count: 23,
        kind: "limited",
        reason: "partition limits reached in [Cluster]",
      },
    ])
  })

  test("planSubmissions() counts running glideins against max_total_jobs", () => {
    const plan = planSubmissions(
      [row(1, 1000, 0, 30)],
      [{ policy: policy({ maxTotalJobs: 12 }), counts: { running: 10, idle: 0 } }],
    )
    expect(plan.submissions.map((s) => s.count)).toEqual([2])
  })

  test("planSubmissions() counts idle glideins against max_idle_jobs", () => {
    const plan = planSubmissions(
      [row(1, 1000, 0, 30)],
      [{ policy: policy({ maxIdleJobs: 4 }), counts: { running: 0, idle: 3 } }],
    )
    expect(plan.submissions.map((s) => s.count)).toEqual([1])
    expect(plan.partitions[0]?.limitBy).toBe("max_idle_jobs 4 − 3 idle")
  })

  test("planSubmissions() spreads one limit over several demand rows in priority order", () => {
    const plan = planSubmissions(
      [row(1, 1000, 0, 3), row(1, 8000, 0, 3)],
      [{ policy: policy({ limitPerSubmit: 4, prioritize: ["memory"] }), counts: idle }],
    )
    expect(plan.submissions.map((s) => [s.serves[0]?.shape.memory, s.count])).toEqual([
      [8000, 3],
      [1000, 1],
    ])
  })
})

describe("planSubmissions() filters", () => {
  test("planSubmissions() keeps CPU jobs off gpu_only partitions", () => {
    const plan = planSubmissions(
      [row(1, 1000, 0, 2)],
      [{ policy: policy({ gpuOnly: true }), counts: idle }],
    )
    expect(plan.submissions).toEqual([])
    expect(plan.unplaced[0]?.reason).toBe(
      "no partition can run these jobs: [Cluster] GPU-only partition, the jobs want no GPU",
    )
  })

  test("planSubmissions() keeps GPU jobs off cpu_only partitions", () => {
    const plan = planSubmissions(
      [row(1, 1000, 1, 2)],
      [{ policy: policy({ cpuOnly: true }), counts: idle }],
    )
    expect(plan.submissions).toEqual([])
    expect(plan.unplaced[0]?.reason).toContain("CPU-only partition")
  })

  test("planSubmissions() refuses jobs above max_*_per_job", () => {
    for (const [resource, shape] of [
      ["cpus", { ...row(13, 1000, 0, 1) }],
      ["gpus", { ...row(1, 1000, 9, 1) }],
      ["memory", { ...row(1, 24001, 0, 1) }],
      ["disk", { ...row(1, 1000, 0, 1), disk: 100001 }],
    ] as const) {
      const plan = planSubmissions([shape], [{ policy: policy(), counts: idle }])
      expect(plan.submissions).toEqual([])
      expect(plan.unplaced[0]?.reason).toContain(`max_${resource}_per_job`)
    }
  })

  test("planSubmissions() refuses jobs below min_*_per_job", () => {
    const p = policy({ minPerJob: { cpus: 4, memory: 8000 } })
    const plan = planSubmissions(
      [row(2, 9000, 0, 1), row(4, 1000, 0, 1), row(4, 9000, 0, 1)],
      [{ policy: p, counts: idle }],
    )
    expect(plan.submissions.map((s) => s.serves[0]?.shape)).toEqual([
      { cpus: 4, memory: 9000, disk: 10000, gpus: 0, os: null },
    ])
    expect(plan.unplaced.map((u) => u.reason)).toEqual([
      "no partition can run these jobs: [Cluster] cpus 2 < min_cpus_per_job 4",
      "no partition can run these jobs: [Cluster] memory 1000 MB < min_memory_per_job 8000",
    ])
  })

  test("planSubmissions() runs demand for another OS only where the site sets no os", () => {
    const demand = [row(1, 1000, 0, 1, "SL7"), row(1, 1000, 0, 1, "el9"), row(1, 1000, 0, 1, null)]
    const plan = planSubmissions(demand, [{ policy: policy({ os: "RHEL7" }), counts: idle }])
    expect(plan.submissions.flatMap((s) => s.serves.map((x) => x.shape.os)).sort()).toEqual([
      "SL7",
      null,
    ])
    expect(plan.unplaced[0]?.reason).toContain("the jobs want OS el9, the site runs RHEL7")
    const any = planSubmissions(demand, [{ policy: policy(), counts: idle }])
    expect(any.submissions.reduce((n, s) => n + s.count, 0)).toBe(3)
  })

  test("normalizeOs() treats Enterprise Linux rebuilds of one version as one OS", () => {
    expect(normalizeOs("RHEL7")).toBe("el7")
    expect(normalizeOs("sl7")).toBe("el7")
    expect(normalizeOs("CentOS7")).toBe("el7")
    expect(normalizeOs("AlmaLinux9")).toBe("el9")
    expect(normalizeOs("Ubuntu22")).toBe("ubuntu22")
  })
})

describe("planSubmissions() whole nodes", () => {
  const whole = { cpus: 8, memory: 32000, disk: 160000 }

  test("planSubmissions() filters by whole_node_* instead of max_*_per_job", () => {
    const p = policy({ wholeNode: whole, maxPerJob: { cpus: 1, memory: 1000 } })
    const plan = planSubmissions(
      [row(4, 16000, 0, 2), row(8, 64000, 0, 5)],
      [{ policy: p, counts: idle }],
    )
    expect(plan.submissions.map((s) => s.count)).toEqual([2])
    expect(plan.unplaced[0]?.reason).toBe(
      "no partition can run these jobs: [Cluster] memory 64000 MB > whole_node_memory 32000",
    )
  })

  test("planSubmissions() gives every job a whole node and shares one submission", () => {
    const p = policy({ wholeNode: whole, scheduler: "htcondor" })
    const plan = planSubmissions(
      [row(4, 16000, 0, 2), row(1, 2000, 0, 3)],
      [{ policy: p, counts: idle }],
    )
    expect(plan.submissions).toHaveLength(1)
    expect(plan.submissions[0]?.count).toBe(5)
    expect(plan.submissions[0]?.resources).toEqual({
      cpus: 8,
      memoryMb: 32000,
      diskKb: 160000000,
      gpus: 0,
      walltimeS: 72000,
    })
  })

  test("planSubmissions() sizes batch whole nodes with disk in KiB and whole_node_gpus", () => {
    const p = policy({ wholeNode: { ...whole, gpus: 2 }, gpuOnly: true })
    const plan = planSubmissions([row(1, 4000, 1, 1)], [{ policy: p, counts: idle }])
    expect(plan.submissions[0]?.resources).toEqual({
      cpus: 8,
      memoryMb: 32000,
      diskKb: 163840000,
      gpus: 2,
      walltimeS: 72000,
    })
  })
})

describe("planSubmissions() whole GPU nodes", () => {
  test("planSubmissions() tells a whole GPU node's glidein the node's memory, not mem_per_core", () => {
    // pyglidein told it min(whole_node_memory, mem_per_core): 4000 MB for a 48 GB node here
    const p = policy({
      wholeNode: { cpus: 8, memory: 48000, disk: 200000, gpus: 2 },
      memPerCore: 4000,
    })
    const plan = planSubmissions([row(1, 12000, 1, 1)], [{ policy: p, counts: idle }])
    expect(plan.submissions[0]?.resources).toMatchObject({ cpus: 8, memoryMb: 48000, gpus: 2 })
  })
})

describe("planSubmissions() sizing", () => {
  test("planSubmissions() adds cores so memory per core stays within mem_per_core", () => {
    const plan = planSubmissions(
      [row(4, 16000, 0, 1)],
      [{ policy: policy({ memPerCore: 2000 }), counts: idle }],
    )
    // 16000 MB × 1.05 = 16800 MB; 16800 / 2000 → 9 cores
    expect(plan.submissions[0]?.resources).toMatchObject({ cpus: 9, memoryMb: 16800 })
  })

  test("planSubmissions() adds no core when the job's own cores cover its memory", () => {
    // pyglidein asked for 5 cores here
    const plan = planSubmissions(
      [row(4, 16000, 0, 1)],
      [{ policy: policy({ memPerCore: 7750 }), counts: idle }],
    )
    expect(plan.submissions[0]?.resources.cpus).toBe(4)
  })

  test("planSubmissions() gives GPU jobs the cores their memory needs instead of less memory", () => {
    const plan = planSubmissions(
      [row(1, 4000, 1, 1)],
      [{ policy: policy({ memPerCore: 2700 }), counts: idle }],
    )
    expect(plan.submissions[0]?.resources).toMatchObject({ cpus: 2, memoryMb: 4200, gpus: 1 })
  })

  test("planSubmissions() refuses a job whose memory needs more cores than max_cpus_per_job", () => {
    const p = policy({ memPerCore: 2000, maxPerJob: { cpus: 8, memory: 24000 } })
    const plan = planSubmissions([row(4, 20000, 0, 1)], [{ policy: p, counts: idle }])
    expect(plan.submissions).toEqual([])
    expect(plan.unplaced[0]?.reason).toBe(
      "no partition can run these jobs: [Cluster] 21000 MB at mem_per_core 2000 needs 11 cores > max_cpus_per_job 8",
    )
  })

  test("planSubmissions() leaves cores alone for HTCondor and Grid Engine", () => {
    for (const scheduler of ["htcondor", "uge", "sge"] as const) {
      const plan = planSubmissions(
        [row(1, 16000, 0, 1)],
        [{ policy: policy({ scheduler, memPerCore: 2000 }), counts: idle }],
      )
      expect(plan.submissions[0]?.resources.cpus).toBe(1)
    }
  })

  test("planSubmissions() applies 10 % margins for HTCondor and 5 % memory for batch scripts", () => {
    const condor = planSubmissions(
      [row(1, 2000, 0, 1)],
      [{ policy: policy({ scheduler: "htcondor" }), counts: idle }],
    )
    expect(condor.submissions[0]?.resources).toEqual({
      cpus: 1,
      memoryMb: 2200,
      diskKb: 11264000,
      gpus: 0,
      walltimeS: 72000,
    })
    const slurm = planSubmissions(
      [row(1, 2000, 0, 1)],
      [{ policy: policy({ memSafetyScale: 2 }), counts: idle }],
    )
    expect(slurm.submissions[0]?.resources).toEqual({
      cpus: 1,
      memoryMb: 4200,
      diskKb: 11264000,
      gpus: 0,
      walltimeS: 72000,
    })
  })

  test("planSubmissions() scales PBS memory by 1024/1000 once, in every partition alike", () => {
    const a = policy({ name: "a", scheduler: "pbs", limitPerSubmit: 1 })
    const b = policy({ name: "b", scheduler: "pbs" })
    const plan = planSubmissions(
      [row(1, 16000, 0, 3)],
      [
        { policy: a, counts: idle },
        { policy: b, counts: idle },
      ],
    )
    // 16000 × 1.024 × 1.05 = 17203 in both partitions (pyglidein compounded it per partition)
    expect(plan.submissions.map((s) => [s.partition, s.count, s.resources.memoryMb])).toEqual([
      ["a", 1, 17203],
      ["b", 2, 17203],
    ])
  })
})

describe("planSubmissions() across partitions", () => {
  test("planSubmissions() takes demand matched by one partition out of the next", () => {
    const gpu = (name: string) => policy({ name, gpuOnly: true })
    const plan = planSubmissions(
      [row(1, 4000, 1, 1)],
      [
        { policy: gpu("p100"), counts: idle },
        { policy: gpu("k80"), counts: idle },
      ],
    )
    expect(plan.submissions.map((s) => [s.partition, s.count])).toEqual([["p100", 1]])
    expect(plan.partitions.map((p) => p.launched)).toEqual([1, 0])
  })

  test("planSubmissions() lets the next partition serve what the first one's limit left", () => {
    const plan = planSubmissions(
      [row(1, 1000, 0, 5)],
      [
        { policy: policy({ name: "a", limitPerSubmit: 2 }), counts: idle },
        { policy: policy({ name: "b" }), counts: idle },
      ],
    )
    expect(plan.submissions.map((s) => [s.partition, s.count])).toEqual([
      ["a", 2],
      ["b", 3],
    ])
    expect(plan.unplaced).toEqual([])
  })

  test("planSubmissions() says why demand no partition can run is left", () => {
    const plan = planSubmissions(
      [row(8, 64000, 0, 5)],
      [
        { policy: policy({ name: "gpu", gpuOnly: true }), counts: idle },
        { policy: policy({ name: "cpu" }), counts: idle },
      ],
    )
    expect(plan.unplaced).toEqual([
      {
        shape: { cpus: 8, memory: 64000, disk: 10000, gpus: 0, os: null },
        count: 5,
        kind: "refused",
        reason:
          "no partition can run these jobs: [gpu] GPU-only partition, the jobs want no GPU; [cpu] memory 64000 MB > max_memory_per_job 24000",
      },
    ])
  })

  test("planSubmissions() plans nothing for empty demand", () => {
    const plan = planSubmissions([], [{ policy: policy(), counts: idle }])
    expect(plan).toEqual({
      submissions: [],
      partitions: [
        {
          partition: "Cluster",
          running: 0,
          idle: 0,
          limit: 50,
          limitBy: "limit_per_submit 50",
          launched: 0,
        },
      ],
      unplaced: [],
    })
  })
})

describe("sortByPriority()", () => {
  const items = [
    row(1, 2000, 0, 3),
    row(4, 16000, 0, 2),
    row(1, 4000, 1, 1),
    row(8, 1000, 0, 5),
  ].map(({ count, ...shape }) => ({ shape, count }))
  const order = (prioritize: string[]) => sortByPriority(items, prioritize).map((i) => i.count)

  test("sortByPriority() puts the named fields first, biggest first", () => {
    expect(order(["memory"])).toEqual([2, 1, 3, 5])
    expect(order(["cpus"])).toEqual([5, 2, 1, 3])
  })

  test("sortByPriority() sorts smallest first for a leading minus", () => {
    expect(order(["-memory"])).toEqual([5, 3, 1, 2])
  })

  test("sortByPriority() reads pyglidein's default gpu as the gpus field", () => {
    expect(order(["gpu", "memory"])).toEqual([1, 2, 3, 5])
  })
})
