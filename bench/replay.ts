/**
 * `glidein replay` speed: a week of 5-minute rounds for 500 sites (2,016 rounds, ~1 million
 * allotments), from a history built in memory the way the server records it.
 *
 *   bun bench/replay.ts [--sites 500] [--days 7] [--smoke]
 *
 * Reference, in the same run: one round of the same sites asking through the live server's
 * path (every ask sums every site again) against the replay's path (one summed field per
 * round, each site put back in after it reports). The ratio is the per-ask saving; the week
 * is the figure an operator waits for.
 * Target (issue: the control loop): a week under a new policy in seconds.
 */
import { parseArgs } from "node:util"
import { DEFAULT_POLICY } from "../src/allotment/allot-policy.ts"
import { AllotmentBook, type ReportView } from "../src/allotment/allotment-book.ts"
import { DEMAND_DEFAULTS } from "../src/demand/demand-row.ts"
import { ANY_PARTITION, replay } from "../src/replay/replay.ts"
import type { ReplayHistory } from "../src/replay/replay-history.ts"
import { seededRandom } from "../src/seeded-random.ts"

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    sites: { type: "string", default: "500" },
    days: { type: "string", default: "7" },
    smoke: { type: "boolean" },
  },
})
const siteCount = values.smoke ? 50 : Number(values.sites)
const days = values.smoke ? 0.5 : Number(values.days)
const ROUND_MS = 300_000
const FRESH_MS = 1_800_000

/** Demand that swells and drains over each day; sites that report most rounds. */
function history(): ReplayHistory {
  const random = seededRandom(7)
  const rounds = Math.round((days * 86_400_000) / ROUND_MS)
  const t0 = 1_800_000_000_000
  const demand: ReplayHistory["demand"] = []
  const sites: ReplayHistory["sites"] = []
  const uuids = Array.from({ length: siteCount }, (_, i) => `site-${String(i).padStart(4, "0")}`)
  for (let r = 0; r < rounds; r++) {
    const t = t0 + r * ROUND_MS
    const phase = Math.sin((2 * Math.PI * r) / 288)
    const jobs = Math.max(0, Math.round(20 * siteCount * (0.5 + phase)))
    demand.push({ t, jobs, gpuJobs: Math.round(jobs / 10), shapes: 2 })
    for (const uuid of uuids) {
      if (random() < 0.05) continue
      const running = Math.floor(random() * 40)
      sites.push({ uuid, t, running, idle: Math.floor(random() * 10), launched: 0 })
    }
  }
  return { demand, sites, tokens: new Map(), roundMs: ROUND_MS }
}

/** One round of every site asking, through `reports` as given or a kept field. */
function oneRound(kept: boolean): number {
  const book = new AllotmentBook()
  const rows = [{ ...DEMAND_DEFAULTS, os: null, count: 20 * siteCount }]
  const now = 1_800_000_000_000
  const reports: ReportView[] = Array.from({ length: siteCount }, (_, i) => ({
    uuid: `site-${i}`,
    tokenName: null,
    lastSeen: now - 1000,
    running: 10,
    idle: 2,
    launched: 1,
    countFailed: [],
  }))
  const field = book.field(rows, reports, DEFAULT_POLICY, FRESH_MS, now)
  const started = performance.now()
  for (const [i, report] of reports.entries()) {
    book.allot({
      now: now + i,
      demand: rows,
      reports: kept ? field : reports,
      freshMs: FRESH_MS,
      policy: DEFAULT_POLICY,
      uuid: report.uuid,
      tokenName: null,
      partitions: [{ policy: ANY_PARTITION, counts: { running: 10, idle: 2 } }],
      dryRun: false,
    })
  }
  return (performance.now() - started) / siteCount
}

const live = Math.min(oneRound(false), oneRound(false), oneRound(false))
const kept = Math.min(oneRound(true), oneRound(true), oneRound(true))
console.log(
  `one round of ${siteCount} sites: ${(live * 1000).toFixed(0)} µs per ask summing every site, ${(kept * 1000).toFixed(1)} µs with a kept field (${(live / kept).toFixed(0)}× faster)`,
)

const recorded = history()
const started = performance.now()
const result = replay(recorded, {
  policy: DEFAULT_POLICY,
  from: 0,
  to: Number.MAX_SAFE_INTEGER,
  freshMs: FRESH_MS,
})
const seconds = (performance.now() - started) / 1000
const asks = recorded.sites.length
console.log(
  `replay of ${days} days × ${siteCount} sites: ${result.rounds.length} rounds, ${asks} allotments in ${seconds.toFixed(1)} s (${((seconds / asks) * 1e6).toFixed(1)} µs each)`,
)
