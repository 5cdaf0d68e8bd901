import { Database } from "bun:sqlite"
import { afterEach, describe, expect, test } from "bun:test"
import { join } from "node:path"
import { type ClientReport, emptyMetrics } from "../protocol/monitoring.ts"
import { cleanUp, tempDir } from "../test-support.ts"
import { ReportStore } from "./report-store.ts"
import { MAX_POINTS_PER_SITE } from "./site-rollup.ts"

afterEach(cleanUp)

const HOUR = 3_600_000
const DAY = 24 * HOUR
const T0 = Date.UTC(2026, 10, 21, 12)

function report(uuid: string, running: number, idle = 0, launched = 0): ClientReport {
  const metrics = emptyMetrics()
  metrics.glideins_running = { Cluster: running }
  metrics.glideins_idle = { Cluster: idle }
  metrics.glideins_launched = { Cluster: launched }
  return { uuid, clientTime: null, metrics }
}

describe("ReportStore's site summaries", () => {
  test("siteBucketFor() gives each chart range at most MAX_POINTS_PER_SITE points per site", () => {
    const store = ReportStore.open(":memory:")
    expect(store.siteBucketFor(HOUR)).toBe(300_000)
    expect(store.siteBucketFor(6 * HOUR)).toBe(300_000)
    expect(store.siteBucketFor(DAY)).toBe(900_000)
    expect(store.siteBucketFor(7 * DAY)).toBe(HOUR)
    for (const range of [HOUR, 6 * HOUR, DAY, 7 * DAY]) {
      expect(range / store.siteBucketFor(range)).toBeLessThanOrEqual(MAX_POINTS_PER_SITE)
    }
    store.close()
  })

  test("keeps each summary up on every report: latest running and idle, launched summed", () => {
    const store = ReportStore.open(":memory:")
    store.saveReport(report("a@x", 5, 1, 2), null, T0 + 60_000)
    store.saveReport(report("a@x", 7, 0, 3), null, T0 + 20 * 60_000)
    store.saveReport(report("a@x", 4, 2, 1), null, T0 + 50 * 60_000)
    store.saveReport(report("a@x", 9, 9, 9), null, T0 + 70 * 60_000)
    expect(store.siteHistory(T0, HOUR)).toEqual([
      { t: T0, uuid: "a@x", running: 4, idle: 2, launched: 6 },
      { t: T0 + HOUR, uuid: "a@x", running: 9, idle: 9, launched: 9 },
    ])
    expect(store.siteHistory(T0, 900_000).map((p) => [p.t - T0, p.running, p.launched])).toEqual([
      [0, 5, 2],
      [900_000, 7, 3],
      [2_700_000, 4, 1],
      [3_600_000, 9, 9],
    ])
    store.close()
  })

  test("a week of 50 sites reads an hourly point per site, not the 2,016 raw ones", () => {
    const store = ReportStore.open(":memory:")
    const start = T0 - 7 * DAY
    for (let t = start; t < T0; t += 5 * 60_000) {
      for (let s = 0; s < 50; s++) store.saveReport(report(`s${s}@x`, s), null, t)
    }
    const week = store.siteHistory(start, store.siteBucketFor(7 * DAY))
    expect(week.length).toBeLessThanOrEqual(50 * (7 * 24 + 1))
    expect(store.siteHistory(start).length).toBe(50 * 7 * 288)
    // The latest hour of each site holds its latest numbers.
    expect(week.filter((p) => p.t === week.at(-1)!.t).map((p) => p.running)).toContain(49)
    store.close()
  }, 30_000)

  test("summarises a database written before the summaries existed when it is opened", () => {
    const path = join(tempDir("glidein-rollup-"), "serve.db")
    const first = ReportStore.open(path)
    first.saveReport(report("a@x", 5, 1, 2), null, T0 + 60_000)
    first.saveReport(report("a@x", 7, 0, 3), null, T0 + 20 * 60_000)
    first.saveReport(report("b@x", 1, 0, 1), null, T0 + 30 * 60_000)
    const expected = first.siteHistory(T0, HOUR)
    first.close()
    const db = new Database(path)
    db.exec("DROP TABLE site_rollup")
    db.close()
    const again = ReportStore.open(path)
    expect(again.siteHistory(T0, HOUR)).toEqual(expected)
    expect(expected).toEqual([
      { t: T0, uuid: "a@x", running: 7, idle: 0, launched: 5 },
      { t: T0, uuid: "b@x", running: 1, idle: 0, launched: 1 },
    ])
    again.close()
  })

  test("summaries are pruned with the history", () => {
    const store = ReportStore.open(":memory:", { historyRetentionMs: DAY })
    store.saveReport(report("old@x", 1), null, T0)
    store.saveReport(report("new@x", 2), null, T0 + 2 * DAY)
    expect(store.siteHistory(0, HOUR).map((p) => p.uuid)).toEqual(["new@x"])
    store.close()
  })
})
