/**
 * @module
 * A replay of a server's recorded history under an allotment policy: round by round, every
 * site that reported in a round asks the same AllotmentBook (and so the same `allot()`) the
 * live server uses, and a small model of the batch systems turns the grants into queued,
 * running and wasted glideins, against what the sites recorded.
 *
 * What the history does not hold is assumed, and `REPLAY_ASSUMPTIONS` says so in the output:
 * every site can run every demand row (one partition without limits of its own); a site
 * starts at most as many glideins at once as the most it was seen running; a site never seen
 * launching or running a glidein fails every submission; glideins granted in a round are
 * queued and start from the next round; a glidein that starts while the pool has fewer idle
 * jobs than the glideins starting with it finds nothing and leaves (wasted); running
 * glideins leave when the pool has no idle job. The recorded demand is taken as it was.
 */

import type { AllotPolicy } from "../allotment/allot-policy.ts"
import { AllotmentBook, type ReportView } from "../allotment/allotment-book.ts"
import type { PartitionPolicy } from "../client/site/plan-submissions.ts"
import { DEMAND_DEFAULTS, type DemandRow } from "../demand/demand-row.ts"
import type { ReplayHistory } from "./replay-history.ts"

export const REPLAY_ASSUMPTIONS = [
  "every site can run every demand row (partitions and limits are not stored on the server)",
  "a site runs at most as many glideins at once as the most it was seen running",
  "a site never seen launching or running a glidein fails every submission",
  "granted glideins are queued and start from the next round",
  "a glidein that starts when no idle job is left for it is wasted; running glideins leave when the pool has no idle job",
  "the recorded demand is taken as it was, not as the replayed glideins would have changed it",
]

/** Glideins of one site over the window, summed per round. */
export interface ReplayTotals {
  /** Glideins launched (recorded) or granted and launched (replayed). */
  launched: number
  /** Queued and running glidein-hours. */
  queuedHours: number
  runningHours: number
  peakQueued: number
}

export interface ReplaySite {
  uuid: string
  tokenName: string | null
  /** Most glideins the site was seen running: the replay's cap on its starts. */
  capacity: number
  /** Never seen launching or running: its replayed submissions fail. */
  failing: boolean
  recorded: ReplayTotals
  replayed: ReplayTotals & {
    /** Glideins that started with an idle job to run, and those that found none. */
    run: number
    wasted: number
    /** Rounds in which its allotment was "backing off" or "probing". */
    backedOffRounds: number
  }
}

/** One round, summed over the sites. */
export interface ReplayRound {
  t: number
  demand: number
  recordedQueued: number
  replayedQueued: number
  recordedRunning: number
  replayedRunning: number
}

export interface ReplayResult {
  from: number
  to: number
  roundMs: number
  sites: ReplaySite[]
  rounds: ReplayRound[]
  /** Replayed queued glideins per site, one value per round (for the chart). */
  queuedBySite: Map<string, Int32Array>
  assumptions: string[]
}

/** The partition every site is given: it runs any row, within no limits of its own. */
export const ANY_PARTITION: PartitionPolicy = {
  name: "any",
  scheduler: "slurm",
  limitPerSubmit: Number.MAX_SAFE_INTEGER,
  maxTotalJobs: Number.MAX_SAFE_INTEGER,
  maxIdleJobs: Number.MAX_SAFE_INTEGER,
  gpuOnly: false,
  cpuOnly: false,
  maxPerJob: {},
  minPerJob: {},
  memSafetyScale: 1,
  walltimeHours: 24,
  prioritize: [],
  memPerCore: Number.MAX_SAFE_INTEGER,
}

interface Sim {
  site: ReplaySite
  queued: number
  running: number
  /** Latest recorded point, for what happened. */
  recorded: { t: number; running: number; idle: number } | null
  /** Its place in the reports the sites ask with, once it has reported. */
  report: number | null
}

/**
 * Replays `history` from `from` to `to` (ms) under `policy`; `freshMs` is how long a report
 * counts (the server's stale threshold).
 * @example
 * const result = replay(readHistory("serve.db", from), { policy, from, to: Date.now(), freshMs: 1_800_000 })
 */
export function replay(
  history: ReplayHistory,
  options: { policy: AllotPolicy; from: number; to: number; freshMs: number },
): ReplayResult {
  const { roundMs } = history
  const { policy, freshMs } = options
  const points = history.sites.filter((p) => p.t >= options.from && p.t < options.to)
  const demand = history.demand.filter((p) => p.t < options.to)
  const seen = new Map<string, { capacity: number; launched: number }>()
  for (const p of points) {
    const s = seen.get(p.uuid) ?? { capacity: 0, launched: 0 }
    s.capacity = Math.max(s.capacity, p.running)
    s.launched += p.launched
    seen.set(p.uuid, s)
  }
  const uuids = [...seen.keys()].sort()
  const zero = (): ReplayTotals => ({ launched: 0, queuedHours: 0, runningHours: 0, peakQueued: 0 })
  const sims = new Map<string, Sim>()
  for (const uuid of uuids) {
    const { capacity, launched } = seen.get(uuid)!
    sims.set(uuid, {
      queued: 0,
      running: 0,
      recorded: null,
      report: null,
      site: {
        uuid,
        tokenName: history.tokens.get(uuid) ?? null,
        capacity,
        failing: capacity === 0 && launched === 0,
        recorded: zero(),
        replayed: { ...zero(), run: 0, wasted: 0, backedOffRounds: 0 },
      },
    })
  }
  const order = [...sims.values()]
  const first = points[0]?.t ?? options.from
  const last = points.at(-1)?.t ?? first - roundMs
  const count = Math.max(0, Math.floor((last - first) / roundMs) + 1)
  const queuedBySite = new Map(uuids.map((u) => [u, new Int32Array(count)]))
  const book = new AllotmentBook()
  const reports: ReportView[] = []
  const rounds: ReplayRound[] = []
  const hours = roundMs / 3_600_000
  let p = 0
  let d = 0
  let jobs = 0
  let gpuJobs = 0
  for (let r = 0; r < count; r++) {
    const t = first + r * roundMs
    // The demand polled last before the round ends.
    while (d < demand.length && demand[d]!.t < t + roundMs) {
      jobs = demand[d]!.jobs
      gpuJobs = demand[d]!.gpuJobs
      d++
    }
    // The batch systems between rounds: idle glideins leave a drained pool; queued ones start.
    let idleJobs = jobs
    for (const s of order) {
      if (jobs === 0) s.running = 0
      const starts = Math.min(s.queued, Math.max(0, s.site.capacity - s.running))
      const useful = Math.min(starts, idleJobs)
      idleJobs -= useful
      s.queued -= starts
      s.running += useful
      s.site.replayed.run += useful
      s.site.replayed.wasted += starts - useful
    }
    // The sites that reported in this round ask, in the order of their uuids.
    const rows: DemandRow[] = [
      { ...DEMAND_DEFAULTS, os: null, count: jobs - gpuJobs },
      { ...DEMAND_DEFAULTS, gpus: 1, os: null, count: gpuJobs },
    ]
    const field = book.field(rows, reports, policy, freshMs, t)
    let asked = 0
    while (p < points.length && points[p]!.t === t) {
      const point = points[p++]!
      const s = sims.get(point.uuid)!
      s.recorded = point
      s.site.recorded.launched += point.launched
      // Each site asks, then reports what it launched a moment later, as a live one does.
      const now = t + 2 * asked++
      const allotment = book.allot({
        now,
        demand: rows,
        reports: field,
        freshMs,
        policy,
        uuid: s.site.uuid,
        tokenName: s.site.tokenName,
        partitions: [{ policy: ANY_PARTITION, counts: { running: s.running, idle: s.queued } }],
        dryRun: false,
      })
      if (allotment.state !== "normal") s.site.replayed.backedOffRounds++
      const launched = s.site.failing ? 0 : allotment.total
      s.queued += launched
      s.site.replayed.launched += launched
      const report: ReportView = {
        uuid: s.site.uuid,
        tokenName: s.site.tokenName,
        lastSeen: now + 1,
        running: s.running,
        idle: s.queued,
        launched,
        countFailed: [],
      }
      if (s.report === null) s.report = reports.push(report) - 1
      reports[s.report] = report
      field.put(book.view(report))
    }
    const round: ReplayRound = {
      t,
      demand: jobs,
      recordedQueued: 0,
      replayedQueued: 0,
      recordedRunning: 0,
      replayedRunning: 0,
    }
    for (const s of order) {
      // What happened: the site's latest point while it is fresh.
      const latest = s.recorded !== null && t - s.recorded.t < freshMs ? s.recorded : null
      add(s.site.recorded, latest?.idle ?? 0, latest?.running ?? 0, hours)
      add(s.site.replayed, s.queued, s.running, hours)
      queuedBySite.get(s.site.uuid)![r] = s.queued
      round.recordedQueued += latest?.idle ?? 0
      round.recordedRunning += latest?.running ?? 0
      round.replayedQueued += s.queued
      round.replayedRunning += s.running
    }
    rounds.push(round)
  }
  return {
    from: options.from,
    to: options.to,
    roundMs,
    sites: order.map((s) => s.site),
    rounds,
    queuedBySite,
    assumptions: REPLAY_ASSUMPTIONS,
  }
}

function add(totals: ReplayTotals, queued: number, running: number, hours: number): void {
  totals.queuedHours += queued * hours
  totals.runningHours += running * hours
  totals.peakQueued = Math.max(totals.peakQueued, queued)
}
