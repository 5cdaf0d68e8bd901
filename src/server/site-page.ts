/**
 * One site's own view (`GET /site/NAME` and `GET /api/sites/NAME`): its latest report by
 * partition and its history alone, in the site's colour. On the status page a new site's
 * first hours are one line among many; here they fill the chart.
 */
import { html } from "hono/html"
import type { ApiClients } from "../protocol/api.ts"
import { countFailed } from "../protocol/monitoring.ts"
import { apiClients } from "./api.ts"
import { RANGES, type Range, rangeNav } from "./chart-range.ts"
import { formatAge, formatDuration } from "./format-age.ts"
import { formatCount as fmt, pageLayout } from "./page-layout.ts"
import type { SitePoint, StoredClient } from "./report-store.ts"
import { siteColor } from "./site-color.ts"
import { shortLabel, siteLabel } from "./site-label.ts"
import { lineChart, PALETTE } from "./svg-chart.ts"

/** What a site's page and JSON show. */
export interface SitePageData {
  now: number
  version: string
  client: StoredClient
  staleAfterMs: number
  range: Range
  /** This site's history points in the range, oldest first. */
  history: SitePoint[]
  siteBucketMs: number
}

/** The body of `GET /api/sites/NAME`. */
export interface ApiSite {
  site: ApiClients["clients"][number]
  range: Range
  bucket_s: number
  history: { t: string; running: number; idle: number; launched: number }[]
}

/** The JSON of a site: its entry of `/api/clients` and its history in the range. */
export function apiSite(d: SitePageData): ApiSite {
  const site = apiClients([d.client], d.now, d.staleAfterMs).clients[0] as ApiSite["site"]
  return {
    site,
    range: d.range,
    bucket_s: d.siteBucketMs / 1000,
    history: d.history.map((p) => ({
      t: new Date(p.t).toISOString(),
      running: p.running,
      idle: p.idle,
      launched: p.launched,
    })),
  }
}

function partitionsTable(c: StoredClient) {
  const m = c.metrics
  const names = [
    ...new Set([
      ...Object.keys(m.glideins_running),
      ...Object.keys(m.glideins_idle),
      ...Object.keys(m.glideins_launched),
      ...Object.keys(m.count_failed),
    ]),
  ].sort()
  if (names.length === 0) return html`<p class="muted">The last report named no partition.</p>`
  const failed = new Set(countFailed(c))
  const rows = names.map((p) => {
    const count = (n: number | undefined) => (failed.has(p) ? "?" : fmt(n ?? 0))
    return html`<tr><td class="text site"><span title="${p}">${p}</span></td><td data-label="running">${count(m.glideins_running[p])}</td><td data-label="idle">${count(m.glideins_idle[p])}</td><td data-label="launched">${fmt(m.glideins_launched[p] ?? 0)}</td><td class="text">${failed.has(p) ? html`<span class="pill warn">count failed</span>` : html`<span class="pill ok">ok</span>`}</td></tr>`
  })
  return html`<div class="table-wrap"><table class="stack">
<thead><tr><th scope="col" class="text">Partition</th><th scope="col">Running</th><th scope="col">Idle</th><th scope="col">Launched</th><th scope="col" class="text">Count</th></tr></thead>
<tbody>${rows}</tbody></table></div>`
}

/** Renders a site's page. */
export function renderSitePage(d: SitePageData) {
  const c = d.client
  const label = siteLabel(c.uuid, c.tokenName)
  const age = d.now - c.lastSeen
  const stale = age > d.staleAfterMs
  const from = d.now - RANGES[d.range]
  const gapMs = d.siteBucketMs * 3.5
  const series = (key: "running" | "idle" | "launched") =>
    d.history.map((p) => ({ t: p.t, v: p[key] }))
  const glideins = lineChart({
    title: "Glideins of this site",
    series: [
      { name: "running", points: series("running"), color: siteColor(c.uuid) },
      { name: "idle", points: series("idle"), color: PALETTE[1] },
    ],
    from,
    to: d.now,
    gapMs,
  })
  const launched = lineChart({
    title: `Glideins launched (per ${formatDuration(d.siteBucketMs)})`,
    series: [{ name: "launched", points: series("launched"), color: siteColor(c.uuid) }],
    from,
    to: d.now,
    gapMs,
  })
  const json = `/api/sites/${encodeURIComponent(c.uuid)}`
  const card = (name: string, value: string, note: string) =>
    html`<div class="card"><div class="label">${name}</div><div class="value">${value}</div><div class="muted">${note}</div></div>`
  return pageLayout({
    title: `${label} — glidein serve`,
    header: html`<h1><a href="/">glidein serve</a></h1><span class="meta">one site's reports</span>`,
    main: html`<section aria-labelledby="site">
<h2 id="site"><span><span class="swatch" style="background:${siteColor(c.uuid)}"></span>${label}</span> ${stale ? html`<span class="pill warn">stale</span>` : html`<span class="pill ok">reporting</span>`}</h2>
<dl class="facts">
<dt>uuid</dt><dd>${c.uuid}</dd>
<dt>token</dt><dd>${c.tokenName ?? html`<span class="muted">none</span>`}</dd>
<dt>last report</dt><dd><time datetime="${new Date(c.lastSeen).toISOString()}">${formatAge(age)}</time>${stale ? ` (stale after ${formatDuration(d.staleAfterMs)})` : ""}</dd>
<dt>first report</dt><dd><time datetime="${new Date(c.firstSeen).toISOString()}">${formatAge(d.now - c.firstSeen)}</time></dd>
</dl>
</section>
<div class="cards">
${card("Running", fmt(c.running), "glideins, last report")}
${card("Idle", fmt(c.idle), "queued at the site")}
${card("Launched", fmt(c.launched), "in its last run")}
</div>
<section aria-labelledby="history">
<h2 id="history">History ${rangeNav(d.range)}</h2>
<div class="charts">${glideins}${launched}</div>
<p class="muted">Times in UTC. Hover over a chart for its values.</p>
</section>
<section aria-labelledby="partitions"><h2 id="partitions">Partitions <small>from the last report</small></h2>${partitionsTable(c)}</section>`,
    version: d.version,
    footer: html`<a href="/">all sites</a> · <a href="${json}">this site as JSON</a>`,
  })
}

/** The page for a name no site has (404): says so, and links back. */
export function renderUnknownSitePage(name: string, version: string) {
  return pageLayout({
    title: "No such site — glidein serve",
    header: html`<h1><a href="/">glidein serve</a></h1>`,
    main: html`<section><h2>No site named “${shortLabel(name, 200)}”</h2><p>No site has reported under this name, or it has been silent too long and was forgotten. The <a href="/">status page</a> lists every site.</p></section>`,
    version,
    footer: html`<a href="/api/clients">/api/clients</a>`,
  })
}
