/**
 * Three sites against one server through the allotment book, round by round: a burst of
 * demand, its drain as glideins start and take jobs, and a site whose submissions all fail.
 */
import { expect, test } from "bun:test"
import { DEFAULT_TERMS } from "./allot-policy.ts"
import { AllotmentBook, type ReportView } from "./allotment-book.ts"
import { partition, row } from "./test-fixtures.ts"

interface SimSite {
  uuid: string
  queued: number
  /** Rounds left for each running glidein. */
  running: number[]
  fails: boolean
  report?: ReportView
}

const ROUND_MS = 300_000
const STARTS_PER_ROUND = 40
const RUN_ROUNDS = 3

test("three sites queue no more than the demand plus the configured margins, through a burst, a drain and a failing site", () => {
  const policy = {
    defaults: { ...DEFAULT_TERMS, backoffAfter: 2, backoffS: 600 },
    sites: { a: { warm: 2 }, b: { weight: 2, rampUp: 0.5 } },
  }
  // Warm glideins, one glidein of rounding per site, and a probe.
  const margin = 2 + 3 + 1
  const book = new AllotmentBook()
  const sites: SimSite[] = ["a", "b", "c"].map((uuid) => ({
    uuid,
    queued: 0,
    running: [],
    fails: uuid === "c",
  }))
  let demand = 0
  let now = 1_000_000_000_000
  const states: string[] = []
  let peak = 0
  for (let round = 0; round < 30; round++) {
    if (round === 2) demand += 300
    for (const s of sites) {
      const allotment = book.allot({
        now,
        demand: demand > 0 ? [row(demand)] : [],
        reports: sites.flatMap((x) => (x.report ? [x.report] : [])),
        freshMs: 1_800_000,
        policy,
        uuid: s.uuid,
        tokenName: null,
        partitions: [
          {
            policy: partition(),
            counts: { running: s.running.length, idle: s.queued },
          },
        ],
        dryRun: false,
      })
      if (s.uuid === "c") states.push(allotment.state)
      const launched = s.fails ? 0 : allotment.total
      s.queued += launched
      now += 1000
      s.report = {
        uuid: s.uuid,
        tokenName: null,
        lastSeen: now,
        running: s.running.length,
        idle: s.queued,
        launched,
        countFailed: [],
      }
      const queued = sites.reduce((sum, x) => sum + x.queued, 0)
      expect(queued).toBeLessThanOrEqual(demand + margin)
      peak = Math.max(peak, queued)
    }
    // Between rounds glideins start, each taking a job while there are any, and end.
    for (const s of sites) {
      s.running = s.running.map((r) => r - 1).filter((r) => r > 0)
      const starts = Math.min(s.queued, STARTS_PER_ROUND)
      s.queued -= starts
      demand -= Math.min(demand, starts)
      for (let i = 0; i < starts; i++) s.running.push(RUN_ROUNDS)
    }
    now += ROUND_MS
  }
  // The burst was served (each site alone would have queued all 300), and drained.
  expect(peak).toBeGreaterThanOrEqual(150)
  expect(demand).toBe(0)
  expect(sites[0]!.queued + sites[0]!.running.length).toBeGreaterThanOrEqual(2)
  // The failing site was backed off, and probed now and then.
  expect(states).toContain("backing off")
  expect(states).toContain("probing")
  expect(states.at(-1)).not.toBe("normal")
})
