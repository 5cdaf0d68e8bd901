/**
 * The funnel, per site and in total, over a range: demand → glideins submitted → queued →
 * running → joined the pool → claimed → jobs started → jobs completed, with the core-hours joined glideins
 * spent unclaimed (wasted) and the sites the pool flags. The sites' own reports give the
 * first half, `condor_status` (src/pool/) the second. Pure: it reads what it is handed.
 */

import { adText } from "../pool/ad-text.ts"
import { coveredDemand } from "../pool/covered-demand.ts"
import { type FunnelRow, glideinsOf, poolFunnel } from "../pool/pool-funnel.ts"
import type { PoolView } from "../pool/pool-view.ts"
import { type PoolWatch, type SiteWatch, unwatched } from "../pool/pool-watch.ts"
import type { DemandRow } from "../protocol/demand.ts"
import { collector, labels } from "./prometheus.ts"
import type { SitePoint, StoredClient } from "./report-store.ts"

/** What `glidein serve` keeps of the pool: the last good condor_status view and its watch. */
export interface PoolFeed {
  view: () => PoolView
  watch: PoolWatch
}

/** One site's row: what it reported, and what the pool showed of its glideins (SiteWatch). */
export interface FunnelSite extends Omit<SiteWatch, "client" | "cores" | "flag"> {
  /** The site's report name; or a GLIDEIN_Client no site reports under (`unknown`: none). */
  uuid: string
  /** Whether a fresh report of it is on hand. */
  reporting: boolean
  /** From its reports: launched over the range, queued and running now. */
  submitted: number
  queued: number
  running: number
  /** Why the pool flags it, and since when (ms). */
  flag?: { kind: string; reason: string; since: number }
}

export interface Funnel {
  /** Whether the pool is watched at all (serve --condor-status). */
  watched: boolean
  /** The last good condor_status answer (ms), and why the latest failed. */
  updated: number | null
  error: string | null
  /** Idle jobs, and those the unclaimed cores of joined glideins will run. */
  demand: number
  covered: number
  sites: FunnelSite[]
  total: Omit<FunnelSite, "uuid" | "reporting" | "flag"> & { flagged: number }
  /**
   * The glideins in the pool now by GLIDEIN_Site, partition and tarball (its digest and the
   * glidein version that built it): which build or partition of a site works. The largest
   * MAX_GROUPS groups.
   */
  groups: FunnelRow[]
}

/** Groups listed at most (the page and /api/funnel stay small on a pool of many sites). */
const MAX_GROUPS = 200

/**
 * The funnel from the stored reports (`clients`, `history` since the range's start), the
 * demand rows and the pool (undefined when serve does not watch it).
 */
export function funnelOf(input: {
  clients: StoredClient[]
  history: SitePoint[]
  demand: DemandRow[] | null
  pool: PoolFeed | undefined
  /** Idle jobs the pool's unclaimed glidein cores cover (poolForAllotment's `demand()`). */
  covered: number
  since: number
  now: number
  staleAfterMs: number
}): Funnel {
  const { clients, pool } = input
  const view = pool?.view()
  const watched = pool?.watch.view(input.since) ?? []
  const byClient = new Map<string, SiteWatch>(watched.map((w) => [w.client, w]))
  const launched = new Map<string, number>()
  for (const p of input.history) launched.set(p.uuid, (launched.get(p.uuid) ?? 0) + p.launched)
  const sites: FunnelSite[] = []
  const site = (uuid: string, client: StoredClient | undefined, w = unwatched(uuid)) => {
    const { client: _, cores: __, flag, ...pool } = w
    const row: FunnelSite = {
      uuid,
      reporting: client !== undefined && input.now - client.lastSeen <= input.staleAfterMs,
      submitted: launched.get(uuid) ?? 0,
      queued: client?.idle ?? 0,
      running: client?.running ?? 0,
      ...pool,
    }
    if (flag) row.flag = { kind: flag.kind, reason: flag.reason, since: flag.since }
    sites.push(row)
  }
  for (const c of clients) {
    // Its glideins advertise its name as glidein_start.sh cuts it.
    const advertised = adText(c.uuid)
    site(c.uuid, c, byClient.get(advertised))
    byClient.delete(advertised)
  }
  // Glideins whose client no site reports under (pyglidein's, or a site gone quiet).
  for (const [client, w] of byClient)
    if (w.joined > 0 || w.coreHours > 0 || w.jobsCompleted > 0) site(client, undefined, w)
  const { client: _, cores: __, flag: ___, ...none } = unwatched("total")
  const total: Funnel["total"] = { submitted: 0, queued: 0, running: 0, ...none, flagged: 0 }
  for (const s of sites) {
    for (const key of Object.keys(total) as (keyof Funnel["total"])[]) {
      if (key !== "flagged") total[key] += s[key]
    }
    if (s.flag) total.flagged++
  }
  const rows = input.demand ?? []
  return {
    watched: pool !== undefined,
    updated: view?.updated ?? null,
    error: view?.error ?? null,
    demand: rows.reduce((n, r) => n + r.count, 0),
    covered: input.covered,
    sites,
    total,
    groups: view ? groupsOf(view) : [],
  }
}

/** The groups of each condor_status answer, worked out once: every scrape of /metrics and
 *  every page asks for the funnel, and a pool may hold a million slots. */
const groupsByView = new WeakMap<PoolView, FunnelRow[]>()

function groupsOf(view: PoolView): FunnelRow[] {
  let groups = groupsByView.get(view)
  if (groups === undefined) {
    groups = poolFunnel(glideinsOf(view.slots ?? []))
      .rows.sort((a, b) => b.joined - a.joined)
      .slice(0, MAX_GROUPS)
    groupsByView.set(view, groups)
  }
  return groups
}

/**
 * The allotment's view of the pool, remembering the last answer: the demand left once idle
 * glideins are counted is worked out once per demand table and condor_status answer, not at
 * every site's request.
 */
export function poolForAllotment(feed: PoolFeed) {
  let last:
    | { rows: DemandRow[]; view: PoolView; left: { rows: DemandRow[]; covered: number } }
    | undefined
  return {
    demand(rows: DemandRow[]) {
      const view = feed.view()
      if (last?.rows !== rows || last.view !== view) {
        // A flagged site's idle cores are no cover: its glideins do not get the jobs.
        const slots = (view.slots ?? []).filter(
          (slot) => slot.client === undefined || feed.watch.flag(slot.client) === undefined,
        )
        last = { rows, view, left: coveredDemand(rows, slots) }
      }
      return last.left
    },
    flag: (uuid: string) => feed.watch.flag(uuid)?.reason,
  }
}

/** Share of joined core-hours spent unclaimed, in percent (0 with none). */
export function wastedShare(s: { coreHours: number; wastedCoreHours: number }): number {
  return s.coreHours > 0 ? (100 * s.wastedCoreHours) / s.coreHours : 0
}

/** The pool's metrics (appended to /metrics when serve watches the pool); the day's range. */
export function funnelMetrics(f: Funnel): string {
  const { out, metric } = collector()
  metric("glidein_pool_poll_ok", "gauge", "1 if the latest condor_status poll succeeded, else 0.", [
    `glidein_pool_poll_ok ${f.error === null && f.updated !== null ? 1 : 0}`,
  ])
  if (f.updated !== null) {
    metric(
      "glidein_pool_last_success_timestamp_seconds",
      "gauge",
      "When the glideins shown were polled with condor_status.",
      [`glidein_pool_last_success_timestamp_seconds ${(f.updated / 1000).toFixed(3)}`],
    )
  }
  metric(
    "glidein_demand_covered_jobs",
    "gauge",
    "Idle jobs that fit in unclaimed cores of joined glideins, left out of what glidein sites are allotted.",
    [`glidein_demand_covered_jobs ${f.covered}`],
  )
  const per = (pick: (s: FunnelSite) => string[]) => f.sites.flatMap(pick)
  metric(
    "glidein_site_pool_glideins",
    "gauge",
    "Each site's glideins in the pool now (GLIDEIN_Client), joined and claimed.",
    per((s) => [
      `glidein_site_pool_glideins${labels({ site: s.uuid, state: "joined" })} ${s.joined}`,
      `glidein_site_pool_glideins${labels({ site: s.uuid, state: "claimed" })} ${s.claimed}`,
    ]),
  )
  metric(
    "glidein_site_unclaimed_cores",
    "gauge",
    "Cores of each site's joined glideins that no job has claimed.",
    per((s) => [`glidein_site_unclaimed_cores${labels({ site: s.uuid })} ${s.unclaimedCores}`]),
  )
  metric(
    "glidein_site_wasted_core_hours",
    "gauge",
    "Core-hours each site's joined glideins spent unclaimed over the last day (since serve started, if later).",
    per((s) => [
      `glidein_site_wasted_core_hours${labels({ site: s.uuid })} ${s.wastedCoreHours.toFixed(3)}`,
    ]),
  )
  metric(
    "glidein_site_jobs_completed",
    "gauge",
    "Jobs completed on each site's glideins over the last day, by the schedd's history (0 where it is not read).",
    per((s) => [`glidein_site_jobs_completed${labels({ site: s.uuid })} ${s.jobsCompleted}`]),
  )
  metric(
    "glidein_site_ended_no_job",
    "gauge",
    "Glideins of each site that left the pool having run no job, over the last day.",
    per((s) => [`glidein_site_ended_no_job${labels({ site: s.uuid })} ${s.endedNoJob}`]),
  )
  metric(
    "glidein_site_flagged",
    "gauge",
    "1 for each site the pool flags as wasting its allocation, with the kind of waste.",
    per((s) =>
      s.flag ? [`glidein_site_flagged${labels({ site: s.uuid, kind: s.flag.kind })} 1`] : [],
    ),
  )
  return `${out.join("\n")}\n`
}
