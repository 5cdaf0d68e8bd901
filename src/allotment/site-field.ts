/**
 * @module
 * The other sites as one allotment sees them: for each demand row, the weight of the
 * working sites able to run it and the glideins they have queued for it. `allot()` reads
 * these sums instead of walking every site for every row, so one ask costs O(kinds × rows)
 * rather than O(sites × rows): a replay of a week of 500 sites asks 500,000 times.
 *
 * Sites are summed by kind (which rows they can run, their weight, whether they are backed
 * off), and each kind holds whole numbers (members, queued glideins), so putting a site in
 * and taking it out again is exact: no rounding creeps in over a long replay.
 */
import { consider, type PartitionPolicy } from "../client/site/plan-submissions.ts"
import type { DemandRow } from "../demand/demand-row.ts"
import type { SiteView } from "./allot.ts"
import { type AllotPolicy, termsFor } from "./allot-policy.ts"

interface Kind {
  able: boolean[]
  /** Idle jobs of the rows this kind can run. */
  theirs: number
  weight: number
  backedOff: boolean
  members: number
  queued: number
}

interface Member {
  site: SiteView
  kind: Kind
  queued: number
}

export class SiteField {
  /** The demand rows with jobs, in order: the rows `allot()` works on. */
  readonly rows: DemandRow[]
  private readonly kinds = new Map<string, Kind>()
  private readonly members = new Map<string, Member>()
  /** Earliest report held, so `expire()` walks the sites only when one may be stale. */
  private oldest = Number.POSITIVE_INFINITY
  /** Ability per distinct partition list: sites of one configuration share it. */
  private readonly ableMemo = new WeakMap<PartitionPolicy[], boolean[]>()
  private readonly anyRow: boolean[]

  constructor(
    demand: DemandRow[],
    readonly policy: AllotPolicy,
    readonly freshMs: number,
  ) {
    this.rows = demand.filter((r) => r.count > 0)
    this.anyRow = this.rows.map(() => true)
  }

  /** The field of `sites` as fresh at `now`. */
  static of(
    demand: DemandRow[],
    sites: SiteView[],
    policy: AllotPolicy,
    freshMs: number,
    now: number,
  ): SiteField {
    const field = new SiteField(demand, policy, freshMs)
    for (const site of sites) if (now - site.lastSeen <= freshMs) field.put(site)
    return field
  }

  /** Which rows `partitions` can run (a site whose partitions are unknown runs them all). */
  able(partitions: PartitionPolicy[] | undefined): boolean[] {
    if (partitions === undefined) return this.anyRow
    let able = this.ableMemo.get(partitions)
    if (able === undefined) {
      able = this.rows.map((row) => canRun(partitions, row))
      this.ableMemo.set(partitions, able)
    }
    return able
  }

  /** Holds `site`'s latest view, replacing the one before. */
  put(site: SiteView): void {
    this.remove(site.uuid)
    const able = this.able(site.partitions)
    const weight = termsFor(this.policy, site.uuid, site.tokenName).weight
    const backedOff = site.backedOff === true
    const key = `${able.map((a) => (a ? 1 : 0)).join("")}|${weight}|${backedOff}`
    let kind = this.kinds.get(key)
    if (kind === undefined) {
      const theirs = this.rows.reduce((sum, row, i) => sum + (able[i] ? row.count : 0), 0)
      kind = { able, theirs, weight, backedOff, members: 0, queued: 0 }
      this.kinds.set(key, kind)
    }
    const queued = site.idle + (site.pending ?? 0)
    kind.members++
    kind.queued += queued
    this.members.set(site.uuid, { site, kind, queued })
    this.oldest = Math.min(this.oldest, site.lastSeen)
  }

  private remove(uuid: string): void {
    const member = this.members.get(uuid)
    if (member === undefined) return
    member.kind.members--
    member.kind.queued -= member.queued
    this.members.delete(uuid)
  }

  /** Lets go of every site no longer fresh at `now`. */
  expire(now: number): void {
    if (now - this.oldest <= this.freshMs) return
    this.oldest = Number.POSITIVE_INFINITY
    for (const [uuid, { site }] of this.members) {
      if (now - site.lastSeen > this.freshMs) this.remove(uuid)
      else this.oldest = Math.min(this.oldest, site.lastSeen)
    }
  }

  get(uuid: string): SiteView | undefined {
    return this.members.get(uuid)?.site
  }

  /** The weight of the working sites other than `uuid` that can run row `i`. */
  weightOfOthers(i: number, uuid: string): number {
    const self = this.members.get(uuid)
    let weight = 0
    for (const kind of this.kinds.values()) {
      if (kind.backedOff || !kind.able[i]) continue
      const members = kind === self?.kind ? kind.members - 1 : kind.members
      weight += kind.weight * members
    }
    return weight
  }

  /**
   * Glideins queued (or granted) at sites other than `uuid` that serve the rows marked in
   * `mine`: each site's queue spread over the demand it can run, in proportion.
   */
  queuedByOthers(mine: boolean[], uuid: string): number {
    const self = this.members.get(uuid)
    let queued = 0
    for (const kind of this.kinds.values()) {
      const held = kind === self?.kind ? kind.queued - self.queued : kind.queued
      if (held === 0 || kind.theirs === 0) continue
      let both = 0
      this.rows.forEach((row, i) => {
        if (kind.able[i] && mine[i]) both += row.count
      })
      queued += (held * both) / kind.theirs
    }
    return queued
  }
}

export function canRun(policies: PartitionPolicy[], row: Omit<DemandRow, "count">): boolean {
  return policies.some((p) => typeof consider(row, p) !== "string")
}
