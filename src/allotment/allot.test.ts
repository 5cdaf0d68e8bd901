import { describe, expect, test } from "bun:test"
import type { PartitionCounts, PartitionPolicy } from "../client/site/plan-submissions.ts"
import type { DemandRow } from "../demand/demand-row.ts"
import { type AllotInput, allot, type SiteMemory, type SiteView } from "./allot.ts"
import { type AllotTerms, DEFAULT_TERMS } from "./allot-policy.ts"
import { partition, row } from "./test-fixtures.ts"

const NOW = 1_000_000_000_000
const counts = (running = 0, idle = 0): PartitionCounts => ({ running, idle })

function input(
  demand: DemandRow[],
  over: {
    terms?: Partial<AllotTerms>
    sites?: SiteView[]
    partitions?: { policy: PartitionPolicy; counts: PartitionCounts }[]
    memory?: AllotInput["memory"]
  } = {},
): AllotInput {
  return {
    now: NOW,
    demand,
    sites: over.sites ?? [],
    freshMs: 1_800_000,
    policy: { defaults: { ...DEFAULT_TERMS, ...over.terms }, sites: {} },
    asking: {
      uuid: "a",
      tokenName: null,
      partitions: over.partitions ?? [{ policy: partition(), counts: counts() }],
    },
    ...(over.memory ? { memory: over.memory } : {}),
  }
}

function site(uuid: string, idle: number, over: Partial<SiteView> = {}): SiteView {
  return {
    uuid,
    tokenName: null,
    lastSeen: NOW - 60_000,
    running: 0,
    idle,
    launched: 0,
    countFailed: [],
    ...over,
  }
}

describe("allot()", () => {
  test("allot() says how many glideins are queued here beyond the site's share (for queue hygiene)", () => {
    // 10 queued here, 2 idle jobs in the pool: 8 wait for nothing.
    const many = allot(
      input([row(2)], { partitions: [{ policy: partition(), counts: counts(0, 10) }] }),
    )
    expect(many.allotment.surplus).toBe(8)
    expect(many.allotment.total).toBe(0)
    // Its warm minimum is kept: with warm 5, only 5 are beyond it.
    const warm = allot(
      input([], {
        terms: { warm: 5 },
        partitions: [{ policy: partition(), counts: counts(0, 10) }],
      }),
    )
    expect(warm.allotment.surplus).toBe(5)
    // Queued within the share: no surplus at all.
    const fine = allot(
      input([row(20)], { partitions: [{ policy: partition(), counts: counts(0, 10) }] }),
    )
    expect(fine.allotment.surplus).toBeUndefined()
  })

  test("allot() gives a lone site the whole demand it can run", () => {
    const { allotment } = allot(input([row(7)]))
    expect(allotment.total).toBe(7)
    expect(allotment.partitions).toEqual([{ partition: "Cluster", count: 7, rows: [row(7)] }])
  })

  test("allot() leaves out rows no partition of the site can run", () => {
    const cpuOnly = [{ policy: partition({ cpuOnly: true }), counts: counts() }]
    expect(allot(input([row(5), row(3, 1)], { partitions: cpuOnly })).allotment.total).toBe(5)
  })

  test("allot() splits demand by weight among the fresh sites able to run it", () => {
    const sites = [site("b", 0), site("c", 0, { lastSeen: NOW - 3_600_000 })]
    const half = allot(input([row(10)], { sites }))
    expect(half.allotment.total).toBe(5)
    const policy = input([row(10)], { sites })
    policy.policy.sites = { a: { weight: 3 } }
    expect(allot(policy).allotment.total).toBe(8)
  })

  test("allot() does not count a site whose partitions cannot run the row", () => {
    const sites = [site("b", 0, { partitions: [partition({ gpuOnly: true })] })]
    expect(allot(input([row(10)], { sites })).allotment.total).toBe(10)
  })

  test("allot() takes out glideins queued here and queued or granted elsewhere", () => {
    const here = [{ policy: partition(), counts: counts(0, 4) }]
    expect(allot(input([row(10)], { partitions: here })).allotment.total).toBe(6)
    // b is given half; it has 2 queued and 6 granted since its report: only 2 jobs are left.
    const sites = [site("b", 2, { pending: 6 })]
    expect(allot(input([row(10)], { sites })).allotment.total).toBe(2)
  })

  test("allot() keeps a warm minimum without demand", () => {
    const here = [{ policy: partition(), counts: counts(1, 0) }]
    const { allotment } = allot(input([], { terms: { warm: 3 }, partitions: here }))
    expect(allotment.total).toBe(2)
    expect(allotment.partitions[0]!.rows).toEqual([row(2)])
    expect(allotment.terms.map((t) => t.name)).toContain("warm")
  })

  test("allot() stops at the site's maximum", () => {
    const here = [{ policy: partition(), counts: counts(6, 1) }]
    expect(allot(input([row(50)], { terms: { max: 10 }, partitions: here })).allotment.total).toBe(
      3,
    )
  })

  test("allot() caps queued glideins at a ratio of running ones, above a floor", () => {
    const here = [{ policy: partition(), counts: counts(20, 2) }]
    const terms = { queuedRatio: 0.5, queuedFloor: 4 }
    expect(allot(input([row(100)], { terms, partitions: here })).allotment.total).toBe(8)
    const none = [{ policy: partition(), counts: counts(0, 0) }]
    expect(allot(input([row(100)], { terms, partitions: none })).allotment.total).toBe(4)
  })

  test("allot() asks for a fraction of the gap with ramp-up, at least one", () => {
    expect(allot(input([row(10)], { terms: { rampUp: 0.25 } })).allotment.total).toBe(3)
    expect(allot(input([row(1)], { terms: { rampUp: 0.25 } })).allotment.total).toBe(1)
  })

  test("allot() caps one round", () => {
    expect(allot(input([row(100)], { terms: { perRound: 12 } })).allotment.total).toBe(12)
  })

  test("allot() stays within each partition's own limits, in config order", () => {
    const partitions = [
      { policy: partition({ name: "small", maxIdleJobs: 3 }), counts: counts(0, 1) },
      { policy: partition({ name: "big", limitPerSubmit: 4 }), counts: counts() },
    ]
    const { allotment } = allot(input([row(10)], { partitions }))
    expect(allotment.partitions.map((p) => [p.partition, p.count])).toEqual([
      ["small", 2],
      ["big", 4],
    ])
    expect(allotment.terms.at(-1)!.name).toBe("placed")
  })

  test("allot() backs off a site whose rounds keep failing, then probes", () => {
    const terms = { backoffAfter: 2, backoffS: 600, probe: 1 }
    const failedReport = (at: number) => [site("a", 0, { lastSeen: at, launched: 0 })]
    // Round 1 granted 10; its report launched nothing: one failure, still given.
    let memory: SiteMemory = { at: NOW - 120_000, granted: 10, failures: 0, backoffUntil: null }
    let r = allot(input([row(10)], { terms, memory, sites: failedReport(NOW - 60_000) }))
    expect(r.memory.failures).toBe(1)
    expect(r.allotment.state).toBe("normal")
    // Round 2 failed as well: backed off, nothing given.
    memory = { ...r.memory, at: NOW - 50_000 }
    r = allot(input([row(10)], { terms, memory, sites: failedReport(NOW - 10_000) }))
    expect(r.allotment).toMatchObject({ state: "backing off", total: 0 })
    expect(r.memory.backoffUntil).toBe(NOW + 600_000)
    // After the pause: one probe glidein.
    const later = { ...input([row(10)], { terms, memory: r.memory }), now: NOW + 600_000 }
    const probe = allot(later)
    expect(probe.allotment).toMatchObject({ state: "probing", total: 1 })
    // The probe launched: back to normal.
    const ok = allot({
      ...input([row(10)], { terms, memory: probe.memory }),
      now: NOW + 700_000,
      sites: [site("a", 1, { lastSeen: NOW + 650_000, launched: 1 })],
    })
    expect(ok.allotment.state).toBe("normal")
    expect(ok.memory).toMatchObject({ failures: 0, backoffUntil: null })
  })

  test("allot() gives a site the pool flags one probe per back-off span, and says why", () => {
    const terms = { backoffS: 600, probe: 2 }
    const pool = { covered: 0, flag: "none joined the pool" }
    const first = allot({ ...input([row(10)], { terms }), pool })
    expect(first.allotment).toMatchObject({
      state: "flagged",
      total: 2,
      flag: "none joined the pool",
    })
    const again = allot({
      ...input([row(10)], { terms, memory: first.memory }),
      pool,
      now: NOW + 300_000,
    })
    expect(again.allotment.total).toBe(0)
    const due = allot({
      ...input([row(10)], { terms, memory: again.memory }),
      pool,
      now: NOW + 600_000,
    })
    expect(due.allotment.total).toBe(2)
    // No longer flagged: the whole gap again.
    const ok = allot({ ...input([row(10)], { terms, memory: due.memory }), now: NOW + 700_000 })
    expect(ok.allotment).toMatchObject({ state: "normal", total: 10 })
  })

  test("allot() shows the demand the pool's idle glideins cover as a term", () => {
    const r = allot({ ...input([row(4)]), pool: { covered: 6 } })
    expect(r.allotment.terms[0]).toEqual({
      name: "covered by the pool",
      value: 6,
      note: "idle jobs the unclaimed cores of joined glideins will run",
    })
    expect(r.allotment.total).toBe(4)
  })

  test("allot() counts a report whose count failed as a failed round", () => {
    const memory = { at: NOW - 120_000, granted: 4, failures: 2, backoffUntil: null }
    const sites = [site("a", 0, { launched: 4, countFailed: ["Cluster"] })]
    const r = allot(input([row(10)], { memory, sites }))
    expect(r.memory.failures).toBe(3)
    expect(r.allotment.state).toBe("backing off")
  })
})

test("allot() leaves a backed-off site out of the shares", () => {
  const sites = [site("b", 0, { backedOff: true })]
  expect(allot(input([row(10)], { sites })).allotment.total).toBe(10)
})

test("allot() takes a partition's queued glideins out of the rows it runs, not another's", () => {
  const partitions = [
    { policy: partition({ name: "cpu", cpuOnly: true }), counts: counts(0, 3) },
    { policy: partition({ name: "gpu", gpuOnly: true }), counts: counts() },
  ]
  const { allotment } = allot(input([row(10), row(2, 1)], { partitions }))
  expect(allotment.partitions.map((p) => p.count)).toEqual([7, 2])
})
