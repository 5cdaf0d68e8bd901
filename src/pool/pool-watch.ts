/**
 * What the server learns by watching the pool poll after poll, per site (the client a glidein
 * names in GLIDEIN_Client, which is the name the site reports under): jobs started on its
 * glideins, glideins that left having run no job, and the core-hours its joined glideins
 * spent unclaimed (wasted) against all their core-hours; and, from one sample a poll, which
 * sites waste their allocation (flag-site.ts). Where the schedd's history is read, jobs
 * completed on each site's glideins too, mapped by the startd they ran on (or by the
 * glidein's client the schedd recorded in the job), which feeds the black-hole rule. Kept in memory, in hour buckets over eight
 * days, so the page's day and week ranges both read from it; a restart begins afresh.
 */

import { adText } from "./ad-text.ts"
import { type EndedJob, lastRunS } from "./condor-history-parse.ts"
import type { GlideinSlot } from "./condor-status-parse.ts"
import {
  DEFAULT_FLAG_RULE,
  type FlagRule,
  flagSite,
  type SiteFlag,
  type SiteSample,
} from "./flag-site.ts"
import { type Glidein, glideinsOf } from "./pool-funnel.ts"

const HOUR_MS = 3_600_000
/** Hour buckets kept per site: eight days, so a week's range is always whole. */
const MAX_BUCKETS = 8 * 24
/**
 * A gap between two good polls longer than this is not charged to anyone's core-hours (the
 * server was down, or condor_status kept failing): only this much of it is.
 */
const MAX_GAP_MS = 15 * 60_000
/** Glideins that left are remembered this long, so a job read from the history after its
 *  glidein left is still put down to its site. */
const LEFT_KEPT_MS = 6 * HOUR_MS

/** Totals of one site over one hour. */
interface Bucket {
  hour: number
  jobsStarted: number
  /** Jobs completed on its glideins, by the schedd's history. */
  jobsCompleted: number
  endedNoJob: number
  /** Core-seconds of its joined glideins, and of those unclaimed. */
  coreS: number
  unclaimedCoreS: number
}

/** What the pool showed of one site's glideins: now, and summed over a range. */
export interface SiteWatch {
  /** The site's report name (GLIDEIN_Client). */
  client: string
  /** Its glideins in the pool now. */
  joined: number
  claimed: number
  cores: number
  unclaimedCores: number
  /** Over the range: jobs started and completed on its glideins (completed: where the
   *  schedd's history is read), glideins gone with no job, core-hours. */
  jobsStarted: number
  jobsCompleted: number
  endedNoJob: number
  coreHours: number
  wastedCoreHours: number
  flag?: SiteFlag
}

/** A site the pool has shown nothing of. */
export function unwatched(client: string): SiteWatch {
  return {
    client,
    joined: 0,
    claimed: 0,
    cores: 0,
    unclaimedCores: 0,
    jobsStarted: 0,
    jobsCompleted: 0,
    endedNoJob: 0,
    coreHours: 0,
    wastedCoreHours: 0,
  }
}

interface Seen {
  client: string
  jobStarts: number
}

interface SiteState {
  buckets: Bucket[]
  samples: SiteSample[]
  flag?: SiteFlag
  /** The pool has shown a glidein naming it: its glideins say who they are. */
  advertises?: true
}

/** A reporting site, as the poll sees it. */
export interface ReportedSite {
  uuid: string
  /** Glideins its batch system runs, by its latest report. */
  running: number
  /**
   * Whether its glideins advertise its name (it asks for allotments, as `glidein submit`
   * does). Without it, and before the pool has shown one of its glideins, that none joined
   * is no evidence (a pyglidein site's glideins carry no GLIDEIN_Client).
   */
  advertises?: boolean
}

export interface PoolWatchLimits {
  /** Sites followed at most; the one quiet longest is let go first. */
  maxSites: number
  /** Glideins that left remembered at most (for the history's jobs); the oldest go first. */
  maxLeft?: number
}

export class PoolWatch {
  private readonly sites = new Map<string, SiteState>()
  /** Glideins of the last good poll, by startd name. */
  private seen = new Map<string, Seen>()
  /** Glideins gone from the pool in the last hours: startd name → client, when it left. */
  private readonly left = new Map<string, { client: string; at: number }>()
  /**
   * Glideins missing from the last good poll only: an ad can drop out for one poll (the
   * collector restarted, an update came late), so a glidein is taken as gone — and its
   * starts as ended — only when two polls in a row miss it.
   */
  private missing = new Map<string, Seen>()
  private lastAt: number | null = null
  /** The glideins of the last good poll, for the funnel's "now" columns. */
  private current: Glidein[] = []

  constructor(
    readonly rule: FlagRule = DEFAULT_FLAG_RULE,
    private readonly limits: PoolWatchLimits = { maxSites: 4096 },
  ) {}

  /**
   * One good poll at `at` (ms): the glideins' slots, what each reporting site's batch system
   * runs by its latest report, the pool's idle jobs, and the jobs that ended since the last
   * poll, where the schedd's history was read (undefined: not read). A failed poll is not
   * observed.
   */
  observe(
    slots: readonly GlideinSlot[],
    at: number,
    reports: readonly ReportedSite[],
    idleJobs: number,
    ended?: readonly EndedJob[],
  ): void {
    const glideins = glideinsOf(slots)
    const dt = this.lastAt === null ? 0 : Math.min(Math.max(0, at - this.lastAt), MAX_GAP_MS)
    const now = new Map<string, Seen>()
    const joined = new Map<string, { joined: number; claimed: number }>()
    for (const g of glideins) {
      const before = this.seen.get(g.name) ?? this.missing.get(g.name)
      const bucket = this.bucket(g.client, at)
      this.state(g.client).advertises = true
      // A startd's JobStarts counts from its start: a glidein seen for the first time brings
      // all of its starts with it.
      bucket.jobsStarted += Math.max(0, g.jobStarts - (before?.jobStarts ?? 0))
      bucket.coreS += (g.cores * dt) / 1000
      bucket.unclaimedCoreS += ((g.cores - g.claimedCores) * dt) / 1000
      now.set(g.name, { client: g.client, jobStarts: g.jobStarts })
      const counts = joined.get(g.client) ?? { joined: 0, claimed: 0 }
      counts.joined++
      if (g.claimed) counts.claimed++
      joined.set(g.client, counts)
    }
    // Missed twice: gone. Missed once: kept aside (and known to the history already).
    for (const [name, before] of this.missing) {
      if (now.has(name)) continue
      if (before.jobStarts === 0) this.bucket(before.client, at).endedNoJob++
    }
    const missing = new Map<string, Seen>()
    for (const [name, before] of this.seen) {
      if (now.has(name)) continue
      missing.set(name, before)
      this.remember(name, before.client, at)
    }
    this.missing = missing
    this.forgetLeft(at)
    const endedBy = ended === undefined ? undefined : this.endedJobs(ended, now, at)
    for (const report of reports) {
      // Its glideins advertise its name as glidein_start.sh cuts it.
      const client = adText(report.uuid)
      const state = this.state(client)
      const counts = joined.get(client) ?? { joined: 0, claimed: 0 }
      const sample: SiteSample = { at, running: report.running, ...counts, idleJobs }
      if (endedBy !== undefined) {
        const jobs = endedBy.get(client)
        sample.jobsEnded = jobs?.ended ?? 0
        sample.jobsEndedFast = jobs?.fast ?? 0
      }
      state.samples.push(sample)
      // Enough samples to cover the span once more, so the rule always has its first one.
      const from = at - 2 * this.rule.spanMs
      const keep = state.samples.findIndex((s) => s.at >= from)
      if (keep > 0) state.samples.splice(0, keep)
      state.flag = flagSite(state.samples, at, this.rule, {
        judgeJoins: state.advertises === true || report.advertises === true,
        ...(state.flag ? { previous: state.flag } : {}),
      })
    }
    this.seen = now
    this.current = glideins
    this.lastAt = at
  }

  /**
   * Puts each completed job down to its site — the client the schedd recorded, else that of
   * the glidein it ran on, in the pool now or gone in the last hours; a job on no glidein
   * known is no site's — counting it completed, and ended fast when its last run took at
   * most the rule's `fastS`.
   */
  private endedJobs(
    jobs: readonly EndedJob[],
    now: ReadonlyMap<string, Seen>,
    at: number,
  ): Map<string, { ended: number; fast: number }> {
    const bySite = new Map<string, { ended: number; fast: number }>()
    for (const job of jobs) {
      if (job.status !== "completed") continue
      const glidein = job.glidein
      const client =
        job.client ??
        (glidein === undefined ? undefined : (now.get(glidein) ?? this.left.get(glidein))?.client)
      if (client === undefined) continue
      this.bucket(client, at).jobsCompleted++
      const counts = bySite.get(client) ?? { ended: 0, fast: 0 }
      counts.ended++
      const runS = lastRunS(job)
      if (runS !== undefined && runS <= this.rule.fastS) counts.fast++
      bySite.set(client, counts)
    }
    return bySite
  }

  /** Remembers a glidein that left at `at`. */
  private remember(name: string, client: string, at: number): void {
    this.left.delete(name)
    this.left.set(name, { client, at })
  }

  /** Forgets glideins gone longest: beyond LEFT_KEPT_MS before `at`, or beyond the bound. */
  private forgetLeft(at: number): void {
    const max = this.limits.maxLeft ?? 100_000
    for (const [name, left] of this.left) {
      if (this.left.size <= max && left.at >= at - LEFT_KEPT_MS) break
      this.left.delete(name)
    }
  }

  /** The flag of the site reporting as `uuid`, if its glideins waste its allocation. */
  flag(uuid: string): SiteFlag | undefined {
    return this.sites.get(adText(uuid))?.flag
  }

  /** Every site the pool showed or that reported, with its numbers since `since` (ms). */
  view(since: number): SiteWatch[] {
    const out = new Map<string, SiteWatch>()
    const row = (client: string): SiteWatch => {
      let w = out.get(client)
      if (w === undefined) {
        w = unwatched(client)
        const flag = this.sites.get(client)?.flag
        if (flag !== undefined) w.flag = flag
        out.set(client, w)
      }
      return w
    }
    for (const g of this.current) {
      const w = row(g.client)
      w.joined++
      if (g.claimed) w.claimed++
      w.cores += g.cores
      w.unclaimedCores += g.cores - g.claimedCores
    }
    const fromHour = Math.floor(since / HOUR_MS)
    for (const [client, state] of this.sites) {
      const w = row(client)
      for (const b of state.buckets) {
        if (b.hour < fromHour) continue
        w.jobsStarted += b.jobsStarted
        w.jobsCompleted += b.jobsCompleted
        w.endedNoJob += b.endedNoJob
        w.coreHours += b.coreS / 3600
        w.wastedCoreHours += b.unclaimedCoreS / 3600
      }
    }
    return [...out.values()].sort((a, b) => a.client.localeCompare(b.client))
  }

  private state(client: string): SiteState {
    let state = this.sites.get(client)
    if (state === undefined) {
      state = { buckets: [], samples: [] }
      if (this.sites.size >= this.limits.maxSites) {
        const oldest = this.sites.keys().next().value
        if (oldest !== undefined) this.sites.delete(oldest)
      }
    } else {
      // Most recently active last, so the map's first key is the one quiet longest.
      this.sites.delete(client)
    }
    this.sites.set(client, state)
    return state
  }

  private bucket(client: string, at: number): Bucket {
    const state = this.state(client)
    const hour = Math.floor(at / HOUR_MS)
    let last = state.buckets.at(-1)
    if (last === undefined || last.hour !== hour) {
      last = { hour, jobsStarted: 0, jobsCompleted: 0, endedNoJob: 0, coreS: 0, unclaimedCoreS: 0 }
      state.buckets.push(last)
      if (state.buckets.length > MAX_BUCKETS) state.buckets.shift()
    }
    return last
  }
}
