/**
 * The status page (`GET /`): demand, sites and their history on one self-contained HTML page
 * (inline CSS and SVG, no script). Every value goes through hono's escaping `html` template:
 * pyglidein printed a client's `uuid` raw, so any client could put script on its page.
 */
import { html } from "hono/html"
import type { Allotment } from "../allotment/allot.ts"
import type { DemandSnapshot } from "../demand/index.ts"
import { countFailed } from "../protocol/monitoring.ts"
import { RANGES, type Range, rangeNav } from "./chart-range.ts"
import { formatAge, formatDuration } from "./format-age.ts"
import { type Funnel, type FunnelSite, wastedShare } from "./funnel.ts"
import { formatCount as fmt, pageLayout } from "./page-layout.ts"
import type { DemandPoint, SitePoint, StoredClient } from "./report-store.ts"
import { siteColor } from "./site-color.ts"
import { shortLabel, siteLabel } from "./site-label.ts"
import { lineChart, PALETTE, type Series } from "./svg-chart.ts"

/** Everything the page shows. */
export interface StatusPageData {
  now: number
  version: string
  demand: DemandSnapshot
  delayMs: number
  clients: StoredClient[]
  /** A site whose last report is older than this is shown as stale. */
  staleAfterMs: number
  range: Range
  demandHistory: DemandPoint[]
  siteHistory: SitePoint[]
  /** Width of one history point, to tell gaps from data. */
  demandBucketMs: number
  siteBucketMs: number
  /** Each site's latest allotment (get_allotment), when sites ask for one. */
  allotments?: Allotment[]
  /** The pool's side (serve --condor-status): what became of each site's glideins. */
  funnel?: Funnel
}

/** Rows of the demand table shown; the rest are counted and left to /api/state. */
const MAX_DEMAND_ROWS = 200
/** Partitions listed in a site's row (a site may have 64, each named with 128 characters). */
const MAX_PARTITIONS_SHOWN = 6
/** Sites drawn as their own line; the rest are summed into "others". */
const MAX_SITE_LINES = 8
/** The colour of the "others" line, apart from every site's own. */
const OTHERS_COLOR = "#8a8f98"

/** The poll status line and, when the latest poll failed, an alert explaining what is served. */
function pollStatus(d: StatusPageData) {
  const { demand, now } = d
  const source = demand.source === "demo" ? "demo queue" : "condor_q"
  const next =
    demand.nextPoll !== null && demand.nextPoll > now
      ? ` · next in ${formatDuration(demand.nextPoll - now)}`
      : ""
  if (demand.error === null && demand.updated !== null) {
    return {
      line: html`<span class="status ok"><span class="dot"></span>${source} ok</span><span class="meta">polled ${formatAge(now - demand.updated)}${next}</span>`,
      alert: "",
    }
  }
  if (demand.updated === null) {
    return {
      line: html`<span class="status ${demand.error ? "bad" : "warn"}"><span class="dot"></span>${demand.error ? `${source} failing` : "waiting for the first poll"}</span>`,
      alert: demand.error
        ? html`<div class="alert" role="alert"><strong>No demand table yet.</strong> The last poll failed ${formatAge(now - (demand.errorAt ?? now))}: <code>${demand.error}</code></div>`
        : "",
    }
  }
  return {
    line: html`<span class="status bad"><span class="dot"></span>${source} failing</span><span class="meta">serving the table polled ${formatAge(now - demand.updated)}${next}</span>`,
    alert: html`<div class="alert" role="alert"><strong>The last poll failed</strong> ${formatAge(now - (demand.errorAt ?? now))}: <code>${demand.error}</code>. Sites still get the last good table, from ${formatAge(now - demand.updated)}.</div>`,
  }
}

function demandTable(d: StatusPageData) {
  const rows = d.demand.rows
  if (rows === null) return html`<p class="muted">No demand table yet.</p>`
  if (rows.length === 0) return html`<p class="muted">No idle jobs in the queue.</p>`
  // Not Math.max(...rows): a spread of 600,000 rows overflowed the stack (GET / was a 500).
  const max = rows.reduce((m, r) => Math.max(m, r.count), 0)
  const shown = rows
    .slice(0, MAX_DEMAND_ROWS)
    .map(
      (r) =>
        html`<tr><td data-label="jobs">${fmt(r.count)}</td><td class="bar" aria-hidden="true"><div class="bar"><span style="width:${((100 * r.count) / max).toFixed(1)}%"></span></div></td><td data-label="CPUs">${r.cpus}</td><td data-label="memory MB">${fmt(r.memory)}</td><td data-label="disk MB">${fmt(r.disk)}</td><td data-label="GPUs">${r.gpus}</td><td class="text" data-label="OS">${r.os ?? html`<span class="muted">any</span>`}</td></tr>`,
    )
  const more =
    rows.length > MAX_DEMAND_ROWS
      ? html`<p class="muted">and ${fmt(rows.length - MAX_DEMAND_ROWS)} more rows in <a href="/api/state">/api/state</a></p>`
      : ""
  return html`<div class="table-wrap"><table class="stack">
<thead><tr><th scope="col">Jobs</th><th scope="col"><span class="muted">share</span></th><th scope="col">CPUs</th><th scope="col">Memory (MB)</th><th scope="col">Disk (MB)</th><th scope="col">GPUs</th><th scope="col" class="text">OS</th></tr></thead>
<tbody>${shown}</tbody></table></div>${more}`
}

/** Lines that did not parse, jobs set aside and shapes merged, each followed by " · ". */
function demandNotes(demand: DemandSnapshot): string {
  const notes: string[] = []
  if (demand.badLines > 0) notes.push(`${fmt(demand.badLines)} condor_q lines did not parse`)
  const aside = demand.setAside
  if (aside) {
    notes.push(
      `${fmt(aside.jobs)} idle job${aside.jobs === 1 ? "" : "s"} set aside, no site could run them (${aside.first}${aside.shapes > 1 ? ", …" : ""})`,
    )
  }
  if (demand.merged) {
    notes.push(`${fmt(demand.merged.shapes)} shapes merged within ${demand.merged.withinPercent} %`)
  }
  return notes.map((n) => `${n} · `).join("")
}

/** "Cluster 3/1/2, gpu ?/?/0": the first few partitions, cut names; the rest on the site's page. */
function partitionsOf(c: StoredClient): string {
  const names = new Set([
    ...Object.keys(c.metrics.glideins_running),
    ...Object.keys(c.metrics.glideins_idle),
    ...Object.keys(c.metrics.glideins_launched),
  ])
  const failed = new Set(countFailed(c))
  const count = (m: Record<string, number>, p: string) => (failed.has(p) ? "?" : (m[p] ?? 0))
  const sorted = [...names].sort()
  const shown = sorted
    .slice(0, MAX_PARTITIONS_SHOWN)
    .map(
      (p) =>
        `${shortLabel(p, 24)} ${count(c.metrics.glideins_running, p)}/${count(c.metrics.glideins_idle, p)}/${c.metrics.glideins_launched[p] ?? 0}`,
    )
    .join(", ")
  const more = sorted.length - MAX_PARTITIONS_SHOWN
  return more > 0 ? `${shown} and ${more} more` : shown
}

function sitesTable(d: StatusPageData) {
  if (d.clients.length === 0) {
    return html`<p class="muted">No site has reported yet. Sites report after each <code>glidein submit</code> run.</p>`
  }
  // The allotment column only where sites ask for allotments (pyglidein clients never do).
  const allotted = new Map((d.allotments ?? []).map((a) => [a.uuid, a]))
  const allotmentCell = (uuid: string) => {
    if (allotted.size === 0) return ""
    const a = allotted.get(uuid)
    if (a === undefined) return html`<td class="text muted" data-label="allotment">—</td>`
    const terms = a.terms.map((t) => `${t.name} ${t.value}: ${t.note}`).join("\n")
    return html`<td class="text" data-label="allotment" title="${terms}">${fmt(a.total)} (${a.state})</td>`
  }
  const rows = d.clients.map((c) => {
    const age = d.now - c.lastSeen
    const stale = age > d.staleAfterMs
    const failed = countFailed(c)
    // A partition the site could not count has unknown numbers: not "ok", and not 0.
    const state = stale
      ? html`<span class="pill warn">stale</span>`
      : failed.length > 0
        ? html`<span class="pill warn" title="the site could not count its glideins in ${failed.join(", ")}">count failed</span>`
        : html`<span class="pill ok">ok</span>`
    const label = siteLabel(c.uuid, c.tokenName)
    return html`<tr><td class="text site"><a href="${sitePath(c.uuid)}" title="${label}">${label}</a></td><td class="text" data-label="last report"><time datetime="${new Date(c.lastSeen).toISOString()}">${formatAge(age)}</time></td><td class="text">${state}</td><td data-label="running">${fmt(c.running)}</td><td data-label="idle">${fmt(c.idle)}</td><td data-label="launched">${fmt(c.launched)}</td><td class="text muted wrap" data-label="partitions">${partitionsOf(c)}</td>${allotmentCell(c.uuid)}</tr>`
  })
  return html`<div class="table-wrap"><table class="stack">
<thead><tr><th scope="col" class="text">Site</th><th scope="col" class="text">Last report</th><th scope="col" class="text">State</th><th scope="col">Running</th><th scope="col">Idle</th><th scope="col">Launched</th><th scope="col" class="text">Partitions (running/idle/launched)</th>${allotted.size > 0 ? html`<th scope="col" class="text" title="what get_allotment last gave the site; its terms on hover">Allotment</th>` : ""}</tr></thead>
<tbody>${rows}</tbody></table></div>`
}

/** Core-hours with one decimal, and the wasted share. */
function wasted(s: { coreHours: number; wastedCoreHours: number }): string {
  if (s.coreHours <= 0) return "—"
  return `${s.wastedCoreHours.toFixed(1)} (${Math.round(wastedShare(s))} %)`
}

/** Why each flagged site is flagged, below the table (a sentence would widen every row). */
function flagReasons(f: Funnel) {
  const flagged = f.sites.filter((s) => s.flag)
  if (flagged.length === 0) return ""
  const items = flagged.map(
    (s) =>
      html`<li><strong title="${s.uuid}">${shortLabel(s.uuid, 40)}</strong> (${s.flag?.kind}): ${s.flag?.reason}</li>`,
  )
  return html`<ul class="reasons">${items}</ul>`
}

/** The glideins in the pool now by site, partition and tarball build. */
function groupsTable(f: Funnel) {
  if (f.groups.length === 0) return ""
  const rows = f.groups.map(
    (g) =>
      html`<tr><td class="text site" title="${g.site}">${shortLabel(g.site, 32)}</td><td class="text">${shortLabel(g.partition, 24)}</td><td class="text" title="${g.tarball}">${g.tarballVersion} · ${g.tarball.replace(/^(manifest-)?sha256:/, "").slice(0, 12)}</td><td data-label="joined">${fmt(g.joined)}</td><td data-label="claimed">${fmt(g.claimed)}</td><td data-label="unclaimed cores">${fmt(g.unclaimedCores)}</td><td data-label="jobs started">${fmt(g.jobsStarted)}</td></tr>`,
  )
  return html`<h3>In the pool now, by site, partition and tarball</h3><div class="table-wrap"><table class="stack">
<thead><tr><th scope="col" class="text">GLIDEIN_Site</th><th scope="col" class="text">Partition</th><th scope="col" class="text">Tarball (built by · digest)</th><th scope="col">Joined</th><th scope="col">Claimed</th><th scope="col">Idle cores</th><th scope="col">Started</th></tr></thead>
<tbody>${rows}</tbody></table></div>`
}

/** From demand to jobs: what became of each site's glideins, as the pool saw them. */
function funnelSection(d: StatusPageData) {
  const f = d.funnel
  if (f === undefined || !f.watched) return ""
  const poll =
    f.error !== null
      ? html`<div class="alert" role="alert">condor_status failed: ${f.error}${f.updated !== null ? `; showing the glideins seen ${formatAge(d.now - f.updated)}` : ""}</div>`
      : f.updated === null
        ? html`<p class="muted">condor_status has not answered yet.</p>`
        : ""
  const cells = (s: Omit<FunnelSite, "uuid" | "reporting" | "flag">) =>
    html`<td data-label="submitted">${fmt(s.submitted)}</td><td data-label="queued">${fmt(s.queued)}</td><td data-label="running">${fmt(s.running)}</td><td data-label="joined">${fmt(s.joined)}</td><td data-label="claimed">${fmt(s.claimed)}</td><td data-label="unclaimed cores">${fmt(s.unclaimedCores)}</td><td data-label="jobs started">${fmt(s.jobsStarted)}</td><td data-label="jobs completed">${fmt(s.jobsCompleted)}</td><td data-label="ended with no job">${fmt(s.endedNoJob)}</td><td data-label="wasted core-h">${wasted(s)}</td>`
  const rows = f.sites.map((s) => {
    const flag = s.flag
      ? html`<span class="pill warn" title="${s.flag.reason}">${s.flag.kind}</span>`
      : s.reporting
        ? html`<span class="pill ok">ok</span>`
        : html`<span class="muted">not reporting</span>`
    return html`<tr><td class="text site" title="${s.uuid}">${shortLabel(s.uuid, 32)}</td><td class="text">${flag}</td>${cells(s)}</tr>`
  })
  const covered =
    f.covered > 0
      ? `${fmt(f.covered)} of the ${fmt(f.demand)} idle jobs fit in unclaimed cores of joined glideins and are not asked of glidein sites. `
      : ""
  return html`<section aria-labelledby="funnel"><h2 id="funnel">Pool <small>${covered}Submitted over the range; queued and running by the sites' reports; joined, claimed and unclaimed cores by condor_status now; jobs started and completed (by the schedd's history), glideins that ended with no job and unclaimed core-hours over the range</small></h2>${poll}
<div class="table-wrap"><table class="stack">
<thead><tr><th scope="col" class="text">Site</th><th scope="col" class="text">Verdict</th><th scope="col">Submitted</th><th scope="col">Queued</th><th scope="col">Running</th><th scope="col">Joined</th><th scope="col">Claimed</th><th scope="col" title="cores of joined glideins no job has claimed">Idle cores</th><th scope="col" title="jobs their startds started">Started</th><th scope="col" title="jobs completed, by the schedd's history">Completed</th><th scope="col" title="glideins that left the pool having run no job">No job</th><th scope="col" title="core-hours joined glideins spent unclaimed, and their share">Wasted core-h</th></tr></thead>
<tbody>${rows}<tr class="total"><td class="text site">Total</td><td class="text">${f.total.flagged > 0 ? html`<span class="pill warn">${f.total.flagged} flagged</span>` : ""}</td>${cells(f.total)}</tr></tbody></table></div>${flagReasons(f)}${groupsTable(f)}</section>`
}

/** Per-site series of one metric: the busiest sites, then the rest summed as "others". */
export function siteSeries(
  history: SitePoint[],
  labels: Map<string, string>,
  metric: "running" | "idle" | "launched",
): Series[] {
  const bySite = new Map<string, { t: number; v: number }[]>()
  for (const p of history) {
    const list = bySite.get(p.uuid) ?? []
    list.push({ t: p.t, v: p[metric] })
    bySite.set(p.uuid, list)
  }
  const ranked = [...bySite.entries()].sort(
    ([a, pa], [b, pb]) =>
      Math.max(...pb.map((p) => p.v)) - Math.max(...pa.map((p) => p.v)) || a.localeCompare(b),
  )
  const series: Series[] = ranked
    .slice(0, MAX_SITE_LINES)
    .map(([uuid, points]) => ({ name: labels.get(uuid) ?? uuid, points, color: siteColor(uuid) }))
  const rest = ranked.slice(MAX_SITE_LINES)
  if (rest.length > 0) {
    const sums = new Map<number, number>()
    for (const [, points] of rest) for (const p of points) sums.set(p.t, (sums.get(p.t) ?? 0) + p.v)
    series.push({
      name: `${rest.length} other sites`,
      points: [...sums.entries()].map(([t, v]) => ({ t, v })),
      color: OTHERS_COLOR,
    })
  }
  return series
}

/** Running and idle glideins summed over every site, per history point. */
export function totalSeries(history: SitePoint[]): Series[] {
  const running = new Map<number, number>()
  const idle = new Map<number, number>()
  for (const p of history) {
    running.set(p.t, (running.get(p.t) ?? 0) + p.running)
    idle.set(p.t, (idle.get(p.t) ?? 0) + p.idle)
  }
  const points = (m: Map<number, number>) => [...m.entries()].map(([t, v]) => ({ t, v }))
  return [
    { name: "running", points: points(running), color: PALETTE[0] },
    { name: "idle", points: points(idle), color: PALETTE[1] },
  ]
}

/** The path of a site's own page. */
export function sitePath(uuid: string): string {
  return `/site/${encodeURIComponent(uuid)}`
}

function charts(d: StatusPageData) {
  const to = d.now
  const from = to - RANGES[d.range]
  // Polls minutes apart are one line; only a longer silence (server down) shows as a gap.
  const demandGap = Math.max(10 * 60_000, d.demandBucketMs * 2.5, d.delayMs * 2.5)
  const siteGap = d.siteBucketMs * 3.5
  const labels = new Map(d.clients.map((c) => [c.uuid, siteLabel(c.uuid, c.tokenName)]))
  const demandChart = lineChart({
    title: "Idle jobs in the queue",
    series: [
      { name: "all idle jobs", points: d.demandHistory.map((p) => ({ t: p.t, v: p.jobs })) },
      { name: "GPU jobs", points: d.demandHistory.map((p) => ({ t: p.t, v: p.gpuJobs })) },
    ],
    from,
    to,
    gapMs: demandGap,
  })
  const site = (metric: "running" | "idle" | "launched", title: string) =>
    lineChart({
      title,
      series: siteSeries(d.siteHistory, labels, metric),
      from,
      to,
      gapMs: siteGap,
    })
  const total = lineChart({
    title: "Glideins at all sites",
    series: totalSeries(d.siteHistory),
    from,
    to,
    gapMs: siteGap,
  })
  return html`<section aria-labelledby="history">
<h2 id="history">History ${rangeNav(d.range)}</h2>
<div class="charts">${demandChart}${total}${site("running", "Running glideins per site")}${site("idle", "Idle glideins per site")}${site("launched", `Glideins launched per site (per ${formatDuration(d.siteBucketMs)})`)}</div>
<p class="muted">Times in UTC. Hover over a chart for its values; each site keeps its colour in every chart.</p>
</section>`
}

/** Renders the whole page. */
export function renderStatusPage(d: StatusPageData) {
  const status = pollStatus(d)
  const fresh = d.clients.filter((c) => d.now - c.lastSeen <= d.staleAfterMs)
  const sum = (key: "running" | "idle" | "launched") => fresh.reduce((n, c) => n + c[key], 0)
  const rows = d.demand.rows
  const card = (label: string, value: string, note = "") =>
    html`<div class="card"><div class="label">${label}</div><div class="value">${value}</div>${note ? html`<div class="muted">${note}</div>` : ""}</div>`
  return pageLayout({
    title: `glidein serve — ${rows ? `${fmt(d.demand.jobs)} idle jobs` : "no demand yet"}`,
    header: html`<h1>glidein serve</h1>${status.line}`,
    main: html`${status.alert}
<div class="cards">
${card("Idle jobs", rows ? fmt(d.demand.jobs) : "—", rows ? `${fmt(rows.length)} ${rows.length === 1 ? "shape" : "shapes"}` : "")}
${card("Sites reporting", `${fresh.length} / ${d.clients.length}`, `stale after ${formatDuration(d.staleAfterMs)}`)}
${card("Glideins running", fmt(sum("running")), "at fresh sites")}
${card("Glideins idle", fmt(sum("idle")), "queued at fresh sites")}
${card("Launched", fmt(sum("launched")), "in each site's last run")}
</div>
${charts(d)}
<section aria-labelledby="demand"><h2 id="demand">Demand <small>${demandNotes(d.demand)}what get_state returns</small></h2>${d.demand.note ? html`<div class="alert" role="alert">${d.demand.note}</div>` : ""}${demandTable(d)}</section>
<section aria-labelledby="sites"><h2 id="sites">Sites <small>from their monitoring reports; a site's name opens its page</small></h2>${sitesTable(d)}</section>
${funnelSection(d)}`,
    version: d.version,
    footer: html`<a href="/api/state">/api/state</a> · <a href="/api/clients">/api/clients</a> · <a href="/metrics">/metrics</a> · <a href="/healthz">/healthz</a> · JSON-RPC at <code>POST /jsonrpc</code>`,
  })
}
