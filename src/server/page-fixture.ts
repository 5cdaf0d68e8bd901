/**
 * @module
 * Test support for the status page's tests: a store holding what a busy first day looks like
 * (a dozen sites, one of them named with 196 characters of hostile but valid text, history
 * from a few hours to a day old) and the app serving it. Test-only.
 */

import { DEFAULT_FLAG_RULE } from "../pool/flag-site.ts"
import { EMPTY_POOL_VIEW, nextPoolView } from "../pool/pool-view.ts"
import { PoolWatch } from "../pool/pool-watch.ts"
import { glideinSlots } from "../pool/test-fixtures.ts"
import { emptyMetrics } from "../protocol/monitoring.ts"
import { demandSnapshot } from "../test-support.ts"
import { createApp } from "./app.ts"
import type { PoolFeed } from "./funnel.ts"
import { ReportStore } from "./report-store.ts"
import { TEST_ROWS } from "./test-server.ts"

/** A valid uuid of 196 characters with no spaces to break at and markup to escape. */
export const LONG_SITE = `<b>&"site'</b>${"x".repeat(150)}@very-long-login-node.example.org`.slice(
  0,
  196,
)

/** The sites of the fixture, with how many hours each has reported for. */
const SITES: [uuid: string, hours: number][] = [
  ["alice@login1.alberta.example.org", 20],
  ["bob@login2.wisc.example.org", 20],
  [LONG_SITE, 6],
  ["carol@hpc.desy.example.org", 3],
  ["dave@gpu.chtc.example.org", 1],
  ...Array.from({ length: 7 }, (_, i): [string, number] => [
    `site${i}@cluster${i}.example.org`,
    20,
  ]),
]

/** Fills `store` with reports every 5 minutes up to `now`. */
export function seedStore(store: ReportStore, now: number): void {
  for (const [s, [uuid, hours]] of SITES.entries()) {
    for (let t = now - hours * 3_600_000; t <= now; t += 300_000) {
      const phase = (t / 3_600_000 + s) % 24
      const running = Math.round(40 + 30 * Math.sin(phase / 3) + 5 * s)
      store.saveReport(
        {
          uuid,
          clientTime: Math.floor(t / 1000),
          metrics: {
            ...emptyMetrics(),
            glideins_running: { Cluster: running, gpu: s },
            glideins_idle: { Cluster: (s * 7 + Math.round(phase)) % 11 },
            glideins_launched: { Cluster: running % 4 },
          },
        },
        s === 1 ? "wisc" : null,
        t,
      )
    }
  }
  for (let t = now - 20 * 3_600_000; t <= now; t += 300_000) {
    const jobs = Math.round(900 + 600 * Math.sin(t / 7_200_000))
    store.recordDemand({ jobs, gpuJobs: Math.round(jobs / 9), shapes: 2 }, t)
  }
}

/**
 * The pool as condor_status showed it over the last two hours: every site's glideins joined
 * and mostly claimed, but dave's never joined (flagged), and one glidein no site reports for.
 */
export function seedPool(now: number): PoolFeed {
  const watch = new PoolWatch({ ...DEFAULT_FLAG_RULE, spanMs: 3_600_000 })
  let view = EMPTY_POOL_VIEW
  for (let t = now - 2 * 3_600_000; t <= now; t += 300_000) {
    const slots = SITES.flatMap(([uuid], s) =>
      uuid.startsWith("dave")
        ? []
        : glideinSlots(`glidein_${s}@node${s}`, uuid, s % 3, 2 + (s % 4), 10 + s, {
            partition: s % 2 ? "gpu" : "Cluster",
            tarballDigest: `manifest-sha256:${(s % 2 ? "9f2c" : "26e9").repeat(16)}`,
            tarballVersion: s % 2 ? "1.2.0" : "1.1.4",
          }),
    )
    slots.push(...glideinSlots("glidein_x@stray", "pyglidein", 8, 0, 0))
    view = nextPoolView(view, { slots, badLines: 0 }, t)
    const reports = SITES.map(([uuid]) => ({ uuid, running: 40, advertises: true }))
    watch.observe(slots, t, reports, 900)
  }
  return { view: () => view, watch }
}

/** The app over a seeded in-memory store and pool, at a fixed `now`. */
export function fixtureApp(now: number) {
  const store = ReportStore.open(":memory:")
  seedStore(store, now)
  const app = createApp({
    demand: () => demandSnapshot(TEST_ROWS, now - 90_000),
    store,
    log: () => {},
    version: "test",
    delayMs: 300_000,
    now: () => now,
    pool: seedPool(now),
  })
  return { app, store }
}
