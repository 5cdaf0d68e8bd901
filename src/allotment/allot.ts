/**
 * @module
 * The allotment: what one site should submit now, per partition and demand row, and every
 * term that produced the number. One pure function of the state it is given (demand, the
 * sites' latest reports, the policy, the asking site's partitions and counts, its memory of
 * the last rounds, the clock), so the live server and a replay of its history cannot drift.
 *
 * The steps, each recorded as a term:
 * 1. demand the site can run, and its fair share of it (weights against every fresh site
 *    that can run the same rows; a site whose partitions are unknown counts as able);
 * 2. the gap: the share minus what the site has queued, and at most what is left once the
 *    glideins queued (or granted and not yet reported) at every site are taken out;
 * 3. warm minimum, maximum, queued-to-running cap, ramp-up, per-round cap, back-off;
 * 4. the number is laid over the partitions in config order within their own limits.
 */

import {
  consider,
  type DemandShape,
  type PartitionCounts,
  type PartitionPolicy,
  partitionLimit,
  sortByPriority,
} from "../client/site/plan-submissions.ts"
import { DEMAND_DEFAULTS, type DemandRow } from "../demand/demand-row.ts"
import { type AllotPolicy, termsFor } from "./allot-policy.ts"
import { canRun, SiteField } from "./site-field.ts"

/** A site as the server last heard from it. */
export interface SiteView {
  uuid: string
  tokenName: string | null
  /** Its latest report (server clock, ms). */
  lastSeen: number
  running: number
  idle: number
  launched: number
  /** Partitions it could not count in that report. */
  countFailed: string[]
  /** Its partitions, from its last allotment request (unknown for pyglidein clients). */
  partitions?: PartitionPolicy[]
  /** Glideins granted to it after that report: queued already, as far as anyone knows. */
  pending?: number
  /** Backed off or probing: its share goes to the sites that work. */
  backedOff?: boolean
}

/** What the server keeps of a site between its rounds. */
export interface SiteMemory {
  /** When it was last granted, and how many. */
  at: number
  granted: number
  /** Consecutive rounds whose report said nothing was launched, or a count failed. */
  failures: number
  /** Backed off until then (ms); after it, probe rounds until one succeeds. */
  backoffUntil: number | null
  /** Flagged by the pool (its glideins waste its allocation): when its last probe was granted. */
  flaggedProbeAt?: number
}

export interface AllotInput {
  now: number
  demand: DemandRow[]
  freshMs: number
  /**
   * Every site's latest report (stale ones are left out here), or the same sites already
   * summed for this demand, policy and freshness: a caller that asks many times, as a
   * replay does, keeps a field instead of handing over every site for every ask.
   */
  sites: SiteView[] | SiteField
  policy: AllotPolicy
  asking: {
    uuid: string
    tokenName: string | null
    partitions: { policy: PartitionPolicy; counts: PartitionCounts }[]
  }
  memory?: SiteMemory
  /** What the pool shows (when `glidein serve` watches it with condor_status). */
  pool?: {
    /** Idle jobs already taken out of `demand`: unclaimed cores of joined glideins run them. */
    covered: number
    /** Why the pool flags this site as wasting its allocation, if it does. */
    flag?: string
  }
}

/** One step of the reasoning. */
export interface Term {
  name: string
  value: number
  note: string
}

export interface PartitionAllotment {
  partition: string
  count: number
  rows: DemandRow[]
}

export interface Allotment {
  uuid: string
  at: number
  total: number
  /**
   * Glideins queued here beyond what the site's share of the demand (or its warm minimum)
   * needs: the site removes that many of its waiting glideins once it has seen a surplus for
   * a few rounds in a row (queue hygiene). Absent: none.
   */
  surplus?: number
  state: "normal" | "backing off" | "probing" | "flagged"
  /** Why the pool flags the site (its glideins never join, never get work, or fail every job). */
  flag?: string
  partitions: PartitionAllotment[]
  terms: Term[]
}

const round1 = (x: number) => Math.round(x * 10) / 10
const EPSILON = 1e-9

/**
 * The allotment of the asking site, and what to remember of it for the next round.
 * @example
 * const { allotment } = allot({ now, demand, sites: [], freshMs, policy: DEFAULT_POLICY, asking })
 * allotment.partitions // [{ partition: "gpu", count: 3, rows: [{…, count: 3}] }]
 */
export function allot(input: AllotInput): { allotment: Allotment; memory: SiteMemory } {
  const { now, asking } = input
  const terms = termsFor(input.policy, asking.uuid, asking.tokenName)
  const steps: Term[] = []
  const step = (name: string, value: number, note: string) => {
    steps.push({ name, value: round1(value), note })
  }
  const field =
    input.sites instanceof SiteField
      ? input.sites
      : SiteField.of(input.demand, input.sites, input.policy, input.freshMs, now)
  field.expire(now)
  const own = field.get(asking.uuid)
  const rows = field.rows
  const policies = asking.partitions.map((p) => p.policy)
  const mine = rows.map((r) => canRun(policies, r))

  // 1. Demand and fair share.
  let demand = 0
  let share = 0
  const portion: number[] = rows.map((row, i) => {
    if (!mine[i]) return 0
    demand += row.count
    const weights = terms.weight + field.weightOfOthers(i, asking.uuid)
    const part = weights > 0 ? (row.count * terms.weight) / weights : 0
    share += part
    return Math.min(row.count, Math.ceil(part - EPSILON))
  })
  const covered = input.pool?.covered ?? 0
  if (covered > 0) {
    step(
      "covered by the pool",
      covered,
      "idle jobs the unclaimed cores of joined glideins will run",
    )
  }
  step("demand", demand, "idle jobs this site's partitions can run")
  step("share", share, `weight ${terms.weight} against the other working sites able to run them`)

  // 2. The gap, net of what is queued here and elsewhere for the same rows.
  let running = 0
  let idle = 0
  let held = 0
  for (const { counts } of asking.partitions) {
    running += counts.running
    idle += counts.idle
    held += counts.held ?? 0
  }
  const queuedElsewhere = field.queuedByOthers(mine, asking.uuid)
  step("running", running, "glideins running here")
  step("queued", idle, "glideins queued here")
  step("queued elsewhere", queuedElsewhere, "queued or granted at other sites for these rows")
  const uncovered = Math.max(0, Math.ceil(demand - idle - queuedElsewhere - EPSILON))
  let want = Math.max(0, Math.min(Math.ceil(share - EPSILON) - idle, uncovered))
  step("gap", want, `min(share − queued here, demand − queued anywhere ${uncovered})`)

  // 3. The policy's caps, in order.
  let warm = 0
  if (running + idle + want < terms.warm) {
    warm = terms.warm - running - idle - want
    want += warm
    step("warm", want, `kept warm: at least ${terms.warm} glideins`)
  }
  if (terms.max !== null && want > terms.max - running - idle - held) {
    want = Math.max(0, terms.max - running - idle - held)
    step("max", want, `max ${terms.max} − ${running + idle + held} here`)
  }
  if (terms.queuedRatio !== null) {
    const cap = Math.max(terms.queuedFloor, Math.floor(terms.queuedRatio * running))
    if (idle + want > cap) {
      want = Math.max(0, cap - idle)
      step("queued cap", want, `queued ≤ max(${terms.queuedFloor}, ${terms.queuedRatio} × running)`)
    }
  }
  if (terms.rampUp < 1 && want > 0) {
    want = Math.ceil(want * terms.rampUp - EPSILON)
    step("ramp-up", want, `${terms.rampUp} of the gap per round`)
  }
  if (terms.perRound !== null && want > terms.perRound) {
    want = terms.perRound
    step("per round", want, `at most ${terms.perRound} per round`)
  }

  // Back-off: the report that came after the last grant says whether it worked.
  let { failures, backoffUntil } = input.memory ?? { failures: 0, backoffUntil: null }
  const last = input.memory
  if (last && last.granted > 0 && own && own.lastSeen > last.at) {
    const failed = own.launched === 0 || own.countFailed.length > 0
    failures = failed ? failures + 1 : 0
    if (!failed) backoffUntil = null
    else if (failures >= terms.backoffAfter) backoffUntil = now + terms.backoffS * 1000
  }
  let state: Allotment["state"] = "normal"
  if (backoffUntil !== null && now < backoffUntil) {
    state = "backing off"
    want = 0
    step(
      "back-off",
      0,
      `${failures} failed rounds; nothing until ${new Date(backoffUntil).toISOString()}`,
    )
  } else if (backoffUntil !== null) {
    state = "probing"
    want = Math.min(want, terms.probe)
    step("probe", want, `${failures} failed rounds; a probe of ${terms.probe}`)
  }

  // Flagged by the pool: its glideins run but waste the allocation. Nothing but a probe every
  // back-off span, until the pool shows one of them working.
  const flag = input.pool?.flag
  let flaggedProbeAt = input.memory?.flaggedProbeAt
  if (flag !== undefined) {
    state = "flagged"
    const due = flaggedProbeAt === undefined || now - flaggedProbeAt >= terms.backoffS * 1000
    want = due ? Math.min(want, terms.probe) : 0
    if (due && want > 0) flaggedProbeAt = now
    step("flagged", want, `${flag}; a probe of ${terms.probe} every ${terms.backoffS} s`)
  } else {
    flaggedProbeAt = undefined
  }

  // 4. Over the partitions, in config order, within their own limits.
  const partitions = place(asking.partitions, rows, portion, want, Math.min(warm, want))
  const total = partitions.reduce((sum, p) => sum + p.count, 0)
  if (total < want) step("placed", total, "what the partitions' own limits leave room for")
  // Queued here beyond this site's share (what it would be asked to queue with nothing
  // queued) and beyond its warm minimum: glideins waiting for jobs that other sites, or
  // nobody, will run.
  const needed = Math.max(Math.ceil(share - EPSILON), terms.warm - running, 0)
  const surplus = Math.max(0, idle - needed)
  if (surplus > 0) step("surplus", surplus, `queued here beyond this site's share ${needed}`)
  return {
    allotment: {
      uuid: asking.uuid,
      at: now,
      total,
      ...(surplus > 0 ? { surplus } : {}),
      state,
      ...(flag !== undefined ? { flag } : {}),
      partitions,
      terms: steps,
    },
    memory: {
      at: now,
      granted: total,
      failures,
      backoffUntil,
      ...(flaggedProbeAt !== undefined ? { flaggedProbeAt } : {}),
    },
  }
}

/** The shape kept warm without demand: what condor_q's defaults make of a bare job. */
const WARM_SHAPE: DemandShape = { ...DEMAND_DEFAULTS, os: null }

function place(
  partitions: AllotInput["asking"]["partitions"],
  rows: DemandRow[],
  portion: number[],
  want: number,
  warm: number,
): PartitionAllotment[] {
  const left = [...portion]
  let budget = want
  let warmLeft = warm
  const items = rows.map(({ count: _, ...shape }, i) => ({ shape, count: 0, i }))
  return partitions.map(({ policy, counts }) => {
    let room = partitionLimit(policy, counts).limit
    const out: DemandRow[] = []
    const order = sortByPriority(items, policy.prioritize)
    // The partition's queued glideins are taken to serve the first rows it can run.
    let queued = counts.idle
    for (const item of order) {
      if (queued <= 0) break
      if (typeof consider(item.shape, policy) === "string") continue
      const n = Math.min(left[item.i]!, queued)
      left[item.i]! -= n
      queued -= n
    }
    for (const item of order) {
      if (budget - warmLeft <= 0 || room <= 0) break
      if (left[item.i]! <= 0 || typeof consider(item.shape, policy) === "string") continue
      const n = Math.min(left[item.i]!, room, budget - warmLeft)
      left[item.i]! -= n
      room -= n
      budget -= n
      out.push({ ...item.shape, count: n })
    }
    if (warmLeft > 0 && room > 0 && typeof consider(WARM_SHAPE, policy) !== "string") {
      const n = Math.min(warmLeft, room)
      warmLeft -= n
      budget -= n
      out.push({ ...WARM_SHAPE, count: n })
    }
    return { partition: policy.name, count: out.reduce((s, r) => s + r.count, 0), rows: out }
  })
}
