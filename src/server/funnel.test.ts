import { afterEach, describe, expect, test } from "bun:test"
import { partition } from "../allotment/test-fixtures.ts"
import type { EndedJob } from "../pool/condor-history-parse.ts"
import { EMPTY_POOL_VIEW, nextPoolView, type PoolView } from "../pool/pool-view.ts"
import { PoolWatch } from "../pool/pool-watch.ts"
import { glideinSlots } from "../pool/test-fixtures.ts"
import { AllotmentSchema, allotmentParams } from "../protocol/allotment.ts"
import { ApiFunnelSchema } from "../protocol/api.ts"
import type { DemandRow } from "../protocol/demand.ts"
import { emptyMetrics } from "../protocol/monitoring.ts"
import { demandSnapshot } from "../test-support.ts"
import { createApp } from "./app.ts"
import { type PoolFeed, poolForAllotment } from "./funnel.ts"
import { ReportStore } from "./report-store.ts"
import { funnelText } from "./status-text.ts"

const HOUR = 3_600_000
const NOW = Date.UTC(2026, 10, 21, 12, 0, 0)
const ROWS: DemandRow[] = [{ cpus: 1, memory: 2000, disk: 1000, gpus: 0, os: null, count: 10 }]

const stores: ReportStore[] = []
afterEach(() => {
  for (const s of stores.splice(0)) s.close()
})

const glidein = glideinSlots

/** A job that completed at `end` (ms) after running `runS` seconds on `slot`'s startd. */
function job(id: number, slot: string, end: number, runS: number, exitCode = 0): EndedJob {
  const endedAt = Math.floor(end / 1000)
  return {
    id: `${id}.0`,
    status: "completed",
    glidein: slot.slice(slot.indexOf("@") + 1),
    startedAt: endedAt - runS,
    endedAt,
    exitCode,
    wallS: runS,
  }
}

/**
 * A scripted pool: `good` (2 glideins, 3 of 8 cores claimed, jobs running, 3 jobs completed
 * a poll by the history: 2 mapped by their startd, 1 by the client the schedd recorded) and
 * `lost`, whose batch system runs 4 glideins that never join, watched for two hours at
 * 10-minute polls; `hole`'s one glidein is claimed but every job on it fails in seconds;
 * `<b>x</b>`'s one glidein reports nothing and joins with a hostile name.
 */
function scripted() {
  const store = ReportStore.open(":memory:")
  stores.push(store)
  const report = (uuid: string, running: number, idle: number, launched: number, at: number) => {
    const metrics = emptyMetrics()
    metrics.glideins_running = { Cluster: running }
    metrics.glideins_idle = { Cluster: idle }
    metrics.glideins_launched = { Cluster: launched }
    store.saveReport({ uuid, clientTime: null, metrics }, null, at)
  }
  const watch = new PoolWatch()
  let view: PoolView = EMPTY_POOL_VIEW
  const start = NOW - 2 * HOUR
  for (let t = start; t <= NOW; t += 10 * 60_000) {
    report("good", 2, 1, t === start ? 3 : 0, t)
    report("lost", 4, 0, t === start ? 4 : 0, t)
    report("hole", 1, 0, t === start ? 1 : 0, t)
    const slots = [
      ...glidein("g1@n1", "good", 2, 2, 7),
      ...glidein("g2@n2", "good", 3, 1, 4),
      ...glidein("h1@n3", "<b>x</b>", 1, 0, 0),
      ...glidein("k1@n4", "hole", 0, 1, 1),
    ]
    const id = (t - start) / 60_000
    const ended = [
      job(id, "slot1_1@g1@n1", t, 3000),
      job(id + 1, "slot1_2@g2@n2", t, 4000),
      // a glidein gone before the poll, known only by the client the schedd recorded
      { ...job(id + 2, "slot1_1@gone@n9", t, 5000), client: "good" },
      // no glidein the pool showed, and no client: nobody's
      job(id + 3, "slot1@static@n10", t, 5),
      job(id + 4, "slot1_1@k1@n4", t, 4, 1),
      job(id + 5, "slot1_1@k1@n4", t, 20),
    ]
    view = nextPoolView(view, { slots, badLines: 0 }, t)
    watch.observe(
      slots,
      t,
      [
        { uuid: "good", running: 2 },
        { uuid: "lost", running: 4, advertises: true },
        { uuid: "hole", running: 1 },
      ],
      10,
      ended,
    )
  }
  const pool: PoolFeed = { view: () => view, watch }
  const app = createApp({
    demand: () => demandSnapshot(ROWS, NOW - 60_000),
    store,
    log: () => {},
    version: "test",
    delayMs: 60_000,
    now: () => NOW,
    pool,
  })
  return { app, pool }
}

describe("the funnel of a scripted pool", () => {
  test("/api/funnel counts each site from its reports and the pool", async () => {
    const { app } = scripted()
    const body = (await (await app.request("/api/funnel?range=day")).json()) as {
      watched: boolean
      demand: number
      covered: number
      sites: Record<string, unknown>[]
      total: Record<string, number>
      groups: Record<string, unknown>[]
    }
    expect(body.watched).toBe(true)
    // 5 free cores of 2000 MB each: 5 of the 10 one-core jobs fit; plus h1's free core.
    expect(body).toMatchObject({ demand: 10, covered: 6 })
    const good = body.sites.find((s) => s.uuid === "good")
    expect(good).toMatchObject({
      reporting: true,
      submitted: 3,
      queued: 1,
      running: 2,
      joined: 2,
      claimed: 2,
      unclaimedCores: 5,
      jobsStarted: 11,
      jobsCompleted: 39,
      endedNoJob: 0,
    })
    // 8 cores for 2 h (the first poll charges nothing), 5 of them unclaimed.
    expect(good?.coreHours).toBeCloseTo(16, 6)
    expect(good?.wastedCoreHours).toBeCloseTo(10, 6)
    const lost = body.sites.find((s) => s.uuid === "lost")
    expect(lost).toMatchObject({ submitted: 4, running: 4, joined: 0 })
    expect(lost?.flag).toMatchObject({ kind: "never-joins" })
    expect(body.sites.find((s) => s.uuid === "<b>x</b>")).toMatchObject({
      reporting: false,
      joined: 1,
    })
    // every job on hole's glidein ended within a minute: a black hole
    const hole = body.sites.find((s) => s.uuid === "hole")
    expect(hole).toMatchObject({ joined: 1, claimed: 1, jobsCompleted: 26 })
    expect(hole?.flag).toMatchObject({ kind: "black-hole" })
    expect(body.total).toMatchObject({
      submitted: 8,
      joined: 4,
      claimed: 3,
      jobsCompleted: 65,
      flagged: 2,
    })
    // In the pool now, by GLIDEIN_Site, partition and tarball, the largest groups first.
    expect(body.groups[0]).toMatchObject({
      site: "good",
      partition: "unknown",
      joined: 2,
      claimed: 2,
      unclaimedCores: 5,
    })
    expect(body.groups.map((g) => g.site).sort()).toEqual(["<b>x</b>", "good", "hole"])
  })

  test("/api/funnel reads as the API's funnel, and status --server prints it", async () => {
    const { app } = scripted()
    const funnel = ApiFunnelSchema.parse(await (await app.request("/api/funnel")).json())
    const text = funnelText(funnel, NOW)
    expect(text).toContain("6 idle jobs of 10 fit in unclaimed cores of joined glideins")
    expect(text).toMatch(/\n {2}good +3 +1 +2 +2 +2 +11 +39 +0 +10\.0 of 16\.0 \(63 %\)\n/)
    expect(text).toContain(
      "  lost flagged (never-joins): its glideins run at the site but none joined",
    )
    // A hostile client name is printed, not obeyed by the terminal.
    expect(
      funnelText({ ...funnel, sites: [{ ...funnel.sites[0]!, uuid: "\u001b[2Jx" }] }, NOW),
    ).not.toContain("\u001b")
  })

  test("the page shows the funnel, every value escaped", async () => {
    const { app } = scripted()
    const html = await (await app.request("/")).text()
    expect(html).toContain('<h2 id="funnel">Pool')
    expect(html).toContain("never-joins")
    expect(html).toContain('<td data-label="jobs completed">39</td>')
    expect(html).toContain('<td data-label="jobs completed">39</td>')
    expect(html).toContain("&lt;b&gt;x&lt;/b&gt;")
    expect(html).not.toContain("<b>x</b>")
  })

  test("/metrics has the pool's gauges", async () => {
    const { app } = scripted()
    const text = await (await app.request("/metrics")).text()
    expect(text).toContain("glidein_pool_poll_ok 1")
    expect(text).toContain("glidein_demand_covered_jobs 6")
    expect(text).toContain('glidein_site_pool_glideins{site="good",state="claimed"} 2')
    expect(text).toContain('glidein_site_flagged{site="lost",kind="never-joins"} 1')
    expect(text).toContain('glidein_site_flagged{site="hole",kind="black-hole"} 1')
    expect(text).toContain('glidein_site_jobs_completed{site="good"} 39')
  })

  test("a flagged site's idle cores cover no demand", async () => {
    const watch = new PoolWatch({ spanMs: 30 * 60_000, fastS: 60, minJobs: 5 })
    const slots = glidein("bad1@n", "bad", 8, 0, 0)
    let view = EMPTY_POOL_VIEW
    for (let t = NOW - HOUR; t <= NOW; t += 5 * 60_000) {
      view = nextPoolView(view, { slots, badLines: 0 }, t)
      watch.observe(slots, t, [{ uuid: "bad", running: 1 }], 10)
    }
    expect(watch.flag("bad")?.kind).toBe("never-claimed")
    const left = poolForAllotment({ view: () => view, watch }).demand(ROWS)
    expect(left).toEqual({ rows: ROWS, covered: 0 })
  })

  test("get_allotment leaves out the demand idle glideins cover, and gives a flagged site only a probe", async () => {
    const { app } = scripted()
    const ask = async (uuid: string) => {
      const res = await app.request("/jsonrpc", {
        method: "POST",
        body: JSON.stringify({
          jsonrpc: "2.0",
          method: "get_allotment",
          params: allotmentParams(
            uuid,
            [{ policy: partition(), counts: { running: 2, idle: 0 } }],
            false,
          ),
          id: 1,
        }),
      })
      return AllotmentSchema.parse(((await res.json()) as { result: unknown }).result)
    }
    const good = await ask("good")
    expect(good.terms.find((t) => t.name === "covered by the pool")?.value).toBe(6)
    // 10 idle jobs, 6 covered: the flagged site takes no share, so good gets the 4 left.
    expect(good.total).toBe(4)
    const lost = await ask("lost")
    expect(lost.state).toBe("flagged")
    expect(lost.flag).toContain("none joined the pool")
    expect(lost.total).toBe(1)
    // The next round within the back-off span: nothing.
    expect((await ask("lost")).total).toBe(0)
  })
})
