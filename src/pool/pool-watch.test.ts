import { describe, expect, test } from "bun:test"
import type { DemandRow } from "../protocol/demand.ts"
import type { EndedJob } from "./condor-history-parse.ts"
import { coveredDemand } from "./covered-demand.ts"
import { PoolWatch } from "./pool-watch.ts"
import { glideinSlots } from "./test-fixtures.ts"

const MIN = 60_000
const T0 = 1_800_000_000_000 - (1_800_000_000_000 % 3_600_000)

const glidein = glideinSlots

describe("PoolWatch", () => {
  test("counts jobs started, glideins gone without a job and unclaimed core-hours per site, poll by poll", () => {
    const watch = new PoolWatch()
    const reports = [
      { uuid: "a", running: 2 },
      { uuid: "b", running: 1 },
    ]
    // t0: a has two 4-core glideins (one with 1 claimed core, 3 jobs started), b one idle one.
    watch.observe(
      [...glidein("a1", "a", 3, 1, 3), ...glidein("a2", "a", 4), ...glidein("b1", "b", 4)],
      T0,
      reports,
      10,
    )
    // t0+10 min: a1 started 2 more jobs, a2 left having run none; b1 still idle.
    watch.observe(
      [...glidein("a1", "a", 3, 1, 5), ...glidein("b1", "b", 4)],
      T0 + 10 * MIN,
      reports,
      10,
    )
    const view = watch.view(T0)
    const a = view.find((w) => w.client === "a")!
    const b = view.find((w) => w.client === "b")!
    expect(a).toMatchObject({ joined: 1, claimed: 1, cores: 4, unclaimedCores: 3 })
    // 3 started before the watch saw a1, counted once; then 2 more.
    expect(a.jobsStarted).toBe(5)
    // Missed by one poll only: not yet taken as gone (an ad can drop out for a poll).
    expect(a.endedNoJob).toBe(0)
    // Over the 10 minutes: a1's 4 cores (3 unclaimed); a2 had left by the second poll.
    expect(a.coreHours).toBeCloseTo((4 * 10) / 60, 9)
    expect(a.wastedCoreHours).toBeCloseTo((3 * 10) / 60, 9)
    expect(b).toMatchObject({ joined: 1, claimed: 0, jobsStarted: 0, endedNoJob: 0 })
    expect(b.wastedCoreHours).toBeCloseTo((4 * 10) / 60, 9)
    // Missed by a second poll: gone, having run no job.
    watch.observe(
      [...glidein("a1", "a", 3, 1, 5), ...glidein("b1", "b", 4)],
      T0 + 20 * MIN,
      reports,
      10,
    )
    expect(watch.view(T0).find((w) => w.client === "a")?.endedNoJob).toBe(1)
  })

  test("a glidein whose ad drops out of one poll is neither gone nor counted twice", () => {
    const watch = new PoolWatch()
    watch.observe(glidein("g1", "a", 3, 1, 10), T0, [], 0)
    watch.observe([], T0 + MIN, [], 0)
    watch.observe(glidein("g1", "a", 3, 1, 12), T0 + 2 * MIN, [], 0)
    expect(watch.view(T0)[0]).toMatchObject({ client: "a", jobsStarted: 12, endedNoJob: 0 })
  })

  test("matches a report name to its glideins as glidein_start.sh cuts it", () => {
    const watch = new PoolWatch({ spanMs: 30 * MIN, fastS: 60, minJobs: 5 })
    const site = { uuid: "IceCube (UW)", running: 1, advertises: true }
    for (let t = 0; t <= 40; t += 5) {
      watch.observe(glidein("g1", "IceCube _UW_", 3, 1, t + 1), T0 + t * MIN, [site], 5)
    }
    expect(watch.flag("IceCube (UW)")).toBeUndefined()
    expect(watch.view(T0).map((w) => w.client)).toEqual(["IceCube _UW_"])
  })

  test("judges whether glideins join only for sites whose glideins say who they are", () => {
    const watch = new PoolWatch({ spanMs: 30 * MIN, fastS: 60, minJobs: 5 })
    for (let t = 0; t <= 40; t += 5) {
      watch.observe([], T0 + t * MIN, [{ uuid: "pyglidein-site", running: 2 }], 5)
    }
    expect(watch.flag("pyglidein-site")).toBeUndefined()
  })

  test("a never-joins flag holds through polls that run nothing, and glideins dying between batches are flagged", () => {
    const watch = new PoolWatch()
    const site = (running: number) => [{ uuid: "s", running, advertises: true }]
    // Each 10 minutes: glideins run for 8 and never join, none for 2 while the next queue.
    for (let m = 0; m <= 70; m++) watch.observe([], T0 + m * MIN, site(m % 10 < 8 ? 4 : 0), 10)
    expect(watch.flag("s")?.kind).toBe("never-joins")
    // Held to probes, it runs nothing for a while: still flagged, no glidein has joined.
    for (let m = 71; m <= 150; m++) watch.observe([], T0 + m * MIN, site(0), 10)
    expect(watch.flag("s")?.kind).toBe("never-joins")
    // Its probe joins: cleared.
    watch.observe(glidein("p1", "s", 4), T0 + 151 * MIN, site(1), 10)
    expect(watch.flag("s")).toBeUndefined()
  })

  test("does not charge a long gap between good polls beyond 15 minutes", () => {
    const watch = new PoolWatch()
    watch.observe(glidein("x1", "x", 2), T0, [], 0)
    watch.observe(glidein("x1", "x", 2), T0 + 5 * 60 * MIN, [], 0)
    expect(watch.view(T0)[0]!.coreHours).toBeCloseTo((2 * 15) / 60, 9)
  })

  test("a range leaves out the hours before it", () => {
    const watch = new PoolWatch()
    watch.observe(glidein("x1", "x", 1, 0, 1), T0, [], 0)
    watch.observe(glidein("x1", "x", 1, 0, 4), T0 + 2 * 60 * MIN, [], 0)
    expect(watch.view(T0)[0]!.jobsStarted).toBe(4)
    expect(watch.view(T0 + 2 * 60 * MIN)[0]!.jobsStarted).toBe(3)
  })

  test("flags a site whose glideins run for the whole span but never join, and clears the flag when one joins", () => {
    const watch = new PoolWatch({ spanMs: 30 * MIN, fastS: 60, minJobs: 5 })
    for (let t = 0; t <= 40; t += 5)
      watch.observe([], T0 + t * MIN, [{ uuid: "s", running: 3, advertises: true }], 8)
    expect(watch.flag("s")?.kind).toBe("never-joins")
    expect(watch.view(T0).find((w) => w.client === "s")?.flag?.kind).toBe("never-joins")
    watch.observe(
      glidein("s1", "s", 4),
      T0 + 45 * MIN,
      [{ uuid: "s", running: 3, advertises: true }],
      8,
    )
    expect(watch.flag("s")).toBeUndefined()
  })

  test("follows at most maxSites sites, letting the quietest go", () => {
    const watch = new PoolWatch(undefined, { maxSites: 2 })
    watch.observe(glidein("a1", "a", 1, 0, 1), T0, [], 0)
    watch.observe(glidein("b1", "b", 1, 0, 1), T0 + MIN, [], 0)
    watch.observe(glidein("c1", "c", 1, 0, 1), T0 + 2 * MIN, [], 0)
    expect(watch.view(0).map((w) => w.client)).toEqual(["b", "c"])
  })
})

/** A job completed at `at` (ms) on `startd` after a last run of `runS` seconds. */
function ended(
  id: number,
  startd: string,
  at: number,
  runS: number,
  extra: Partial<EndedJob> = {},
) {
  const endedAt = at / 1000
  const job: EndedJob = {
    id: `${id}.0`,
    status: "completed",
    glidein: startd,
    startedAt: endedAt - runS,
    endedAt,
    exitCode: 0,
    ...extra,
  }
  return job
}

describe("PoolWatch and the schedd's history", () => {
  test("counts jobs completed per site by the glidein they ran on, one that left hours ago included, and by the client the schedd recorded first", () => {
    const watch = new PoolWatch()
    watch.observe([...glidein("a1", "a", 4), ...glidein("b1", "b", 4)], T0, [], 0)
    // a1 leaves; an hour later its jobs are read, beside b1's, one that ran on a glidein never
    // seen but whose client the schedd recorded, one on no glidein known, and a removed one.
    watch.observe(glidein("b1", "b", 4), T0 + 10 * MIN, [], 0)
    watch.observe(glidein("b1", "b", 4), T0 + 70 * MIN, [], 0, [
      ended(1, "a1", T0 + 69 * MIN, 3000),
      ended(2, "a1", T0 + 69 * MIN, 3000, { client: "c" }),
      ended(3, "b1", T0 + 69 * MIN, 3000),
      ended(4, "zz", T0 + 69 * MIN, 3000, { client: "a" }),
      ended(5, "static@node", T0 + 69 * MIN, 3000),
      ended(6, "b1", T0 + 69 * MIN, 3000, { status: "removed" }),
    ])
    const completed = Object.fromEntries(watch.view(T0).map((w) => [w.client, w.jobsCompleted]))
    expect(completed).toEqual({ a: 2, b: 1, c: 1 })
    // the hour's range leaves out nothing here; a range after the read, everything
    expect(watch.view(T0 + 2 * 60 * MIN).every((w) => w.jobsCompleted === 0)).toBe(true)
  })

  test("forgets glideins gone more than six hours, and beyond its bound the oldest first", () => {
    const watch = new PoolWatch(undefined, { maxSites: 10, maxLeft: 1 })
    watch.observe([...glidein("a1", "a", 1), ...glidein("a2", "a", 1)], T0, [], 0)
    watch.observe([], T0 + MIN, [], 0)
    // a1 was let go for a2 (bound of 1)
    watch.observe([], T0 + 2 * MIN, [], 0, [ended(1, "a1", T0, 99), ended(2, "a2", T0, 99)])
    expect(watch.view(T0)[0]?.jobsCompleted).toBe(1)
    const old = new PoolWatch()
    old.observe(glidein("a1", "a", 1), T0, [], 0)
    old.observe([], T0 + MIN, [], 0)
    old.observe([], T0 + 7 * 60 * MIN, [], 0, [ended(1, "a1", T0, 99)])
    expect(old.view(T0)[0]?.jobsCompleted).toBe(0)
  })

  test("flags a black hole: every job on a site's claimed glideins ends within seconds, failing or not, for the span", () => {
    const rule = { spanMs: 30 * MIN, fastS: 60, minJobs: 5 }
    const watch = new PoolWatch(rule)
    const reports = [
      { uuid: "hole", running: 1 },
      { uuid: "fine", running: 1 },
    ]
    let id = 0
    for (let t = 0; t <= 40; t += 5) {
      const at = T0 + t * MIN
      watch.observe(
        [...glidein("h1", "hole", 3, 1, 1), ...glidein("f1", "fine", 3, 1, 1)],
        at,
        reports,
        4,
        [
          ended(++id, "h1", at, 2, { exitCode: 1 }),
          ended(++id, "h1", at, 30, { bySignal: true }),
          ended(++id, "f1", at, 50),
          ended(++id, "f1", at, 900),
        ],
      )
    }
    // Raised at 30 min over the span from 0; a raised flag holds (and keeps its start) until
    // the pool shows what it lacked.
    expect(watch.flag("hole")).toMatchObject({ kind: "black-hole", since: T0 })
    expect(watch.flag("hole")?.reason).toContain(
      "all 12 jobs that ended on its glideins in 30 min ended within 60 s",
    )
    // one long job in the span clears it
    expect(watch.flag("fine")).toBeUndefined()
    watch.observe(glidein("h1", "hole", 3, 1, 1), T0 + 45 * MIN, reports, 4, [
      ended(++id, "h1", T0 + 45 * MIN, 61),
    ])
    expect(watch.flag("hole")).toBeUndefined()
  })

  test("a poll without the history (not read, or the read failed) judges no black hole", () => {
    const watch = new PoolWatch({ spanMs: 30 * MIN, fastS: 60, minJobs: 5 })
    for (let t = 0; t <= 40; t += 5) {
      watch.observe(glidein("h1", "hole", 3, 1, 1), T0 + t * MIN, [{ uuid: "hole", running: 1 }], 4)
    }
    expect(watch.flag("hole")).toBeUndefined()
    expect(watch.view(T0)[0]?.jobsCompleted).toBe(0)
  })
})

describe("coveredDemand()", () => {
  const row = (count: number, cpus = 1, memory = 2000, gpus = 0): DemandRow => ({
    cpus,
    memory,
    disk: 1000,
    gpus,
    os: null,
    count,
  })

  test("takes out the jobs that fit in the free room of joined glideins, whole jobs only", () => {
    // Two glideins: 3 free cores (6000 MB), and 4 free cores (8000 MB).
    const slots = [...glidein("g1", "a", 3, 1), ...glidein("g2", "a", 4)]
    const { rows, covered } = coveredDemand([row(10), row(2, 2, 3000)], slots)
    // The 2-core jobs first: one in g1 (2 cores, 3000 MB), one in g2; then 1-core jobs in
    // what is left: g1 1 core/3000 MB → 1, g2 2 cores/5000 MB → 2.
    expect(rows.map((r) => r.count)).toEqual([7, 0])
    expect(covered).toBe(5)
  })

  test("leaves GPU jobs to glideins with free GPUs, and claimed slots alone", () => {
    const gpu = glidein("g1", "a", 2, 0, 0, { gpus: 1 })
    const { rows, covered } = coveredDemand(
      [row(3, 1, 1000, 1), row(1)],
      [...gpu, ...glidein("g2", "a", 0, 4)],
    )
    expect(rows.map((r) => r.count)).toEqual([2, 0])
    expect(covered).toBe(2)
  })

  test("counts no room unclaimed for longer than a few negotiation cycles: the jobs passed it over", () => {
    const stale = glidein("g1", "a", 4, 0, 0, { collectorTime: 10_000, enteredState: 9_000 })
    const fresh = glidein("g2", "a", 2, 0, 0, { collectorTime: 10_000, enteredState: 9_900 })
    expect(coveredDemand([row(10)], [...stale, ...fresh]).covered).toBe(2)
  })

  test("fills many alike glideins by shape, as one at a time would", () => {
    const slots = Array.from({ length: 20_000 }, (_, i) => glidein(`g${i}`, "a", 3)).flat()
    const rows = [row(25_000, 2, 3000), row(50_000), row(7, 1, 1000, 1)]
    // Each glidein: one 2-core job (3000 MB of its 6000), then one 1-core job in what is left.
    expect(coveredDemand(rows, slots)).toEqual({
      rows: [row(5_000, 2, 3000), row(30_000), row(7, 1, 1000, 1)],
      covered: 40_000,
    })
  })

  test("changes nothing without unclaimed glideins", () => {
    const table = [row(4)]
    expect(coveredDemand(table, glidein("g1", "a", 0, 2))).toEqual({ rows: table, covered: 0 })
  })
})
