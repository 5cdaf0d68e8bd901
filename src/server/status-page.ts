/**
 * The status page (`GET /`): demand, sites and their history on one self-contained HTML page
 * (inline CSS and SVG, no script). Every value goes through hono's escaping `html` template:
 * pyglidein printed a client's `uuid` raw, so any client could put script on its page.
 */
import { html, raw } from "hono/html"
import type { DemandSnapshot } from "../demand/index.ts"
import { formatAge, formatDuration } from "./format-age.ts"
import { countFailed } from "./monitoring.ts"
import type { DemandPoint, SitePoint, StoredClient } from "./report-store.ts"
import { siteLabel } from "./site-label.ts"
import { lineChart, type Series } from "./svg-chart.ts"

/** The two chart ranges the page offers. */
export const RANGES = { day: 86_400_000, week: 7 * 86_400_000 } as const
export type Range = keyof typeof RANGES

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
}

/** Rows of the demand table shown; the rest are counted and left to /api/state. */
const MAX_DEMAND_ROWS = 200
/** Sites drawn as their own line; the rest are summed into "others". */
const MAX_SITE_LINES = 8

const STYLE = `
:root{--bg:#f6f7f9;--panel:#fff;--text:#1d2330;--muted:#5b6475;--line:#e3e6eb;--accent:#4e79a7;--ok:#2e7d32;--warn:#b26a00;--bad:#c62828;--bar:#dbe6f3}
@media (prefers-color-scheme:dark){:root{--bg:#111318;--panel:#1a1d24;--text:#e4e7ec;--muted:#9aa3b2;--line:#2a2f3a;--accent:#79a6d6;--ok:#66bb6a;--warn:#ffb74d;--bad:#ef5350;--bar:#24344a}}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--text)}
header{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:baseline;padding:.9rem 1.5rem;background:var(--panel);border-bottom:1px solid var(--line)}
header h1{font-size:1.15rem;margin:0}
header .meta{color:var(--muted)}
main{padding:1rem 1.5rem 2rem;max-width:1400px;margin:0 auto}
a{color:var(--accent)}
.status{display:inline-flex;align-items:center;gap:.4rem;font-weight:600}
.dot{width:.65rem;height:.65rem;border-radius:50%;display:inline-block}
.ok .dot{background:var(--ok)}.warn .dot{background:var(--warn)}.bad .dot{background:var(--bad)}
.ok{color:var(--ok)}.warn{color:var(--warn)}.bad{color:var(--bad)}
.alert{border:1px solid var(--bad);border-left-width:4px;background:var(--panel);padding:.6rem .9rem;margin:0 0 1rem;border-radius:6px}
.alert code{word-break:break-word}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:.75rem;margin-bottom:1rem}
.card{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:.7rem .9rem}
.card .label{color:var(--muted);font-size:.8rem;text-transform:uppercase;letter-spacing:.04em}
.card .value{font-size:1.6rem;font-weight:600;font-variant-numeric:tabular-nums}
section{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:.8rem 1rem 1rem;margin-bottom:1rem}
section>h2{font-size:1rem;margin:.1rem 0 .7rem;display:flex;justify-content:space-between;align-items:baseline;gap:1rem;flex-wrap:wrap}
section>h2 small{font-weight:400;color:var(--muted)}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:1rem 2rem}
figure.chart{margin:0}
figure.chart figcaption{font-weight:600;margin-bottom:.2rem}
figure.chart svg{width:100%;height:auto;display:block}
svg .grid{stroke:var(--line);stroke-width:1}
svg .grid.minor{stroke-dasharray:2 3}
svg .tick{fill:var(--muted);font-size:12px}
svg .empty{fill:var(--muted);font-size:13px}
ul.legend{list-style:none;padding:0;margin:.3rem 0 0;display:flex;flex-wrap:wrap;gap:.2rem 1rem;font-size:.85rem;color:var(--muted)}
.swatch{display:inline-block;width:.8rem;height:.8rem;border-radius:2px;margin-right:.35rem;vertical-align:-1px}
nav.range a{padding:.15rem .55rem;border:1px solid var(--line);border-radius:4px;text-decoration:none;font-size:.85rem}
nav.range a[aria-current]{background:var(--accent);border-color:var(--accent);color:var(--panel)}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{padding:.35rem .6rem;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap}
th{color:var(--muted);font-weight:600;font-size:.8rem;text-transform:uppercase;letter-spacing:.03em}
th.text,td.text{text-align:left}
td.site{max-width:28rem;overflow:hidden;text-overflow:ellipsis}
td.bar{width:30%;min-width:8rem}
.bar span{display:block;height:.55rem;background:var(--accent);border-radius:2px;opacity:.8}
.pill{display:inline-block;padding:0 .45rem;border-radius:999px;font-size:.78rem;font-weight:600;border:1px solid currentColor}
.muted{color:var(--muted)}
footer{color:var(--muted);font-size:.85rem;padding:0 1.5rem 1.5rem;max-width:1400px;margin:0 auto}
`

function fmt(n: number): string {
  return n.toLocaleString("en-US")
}

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
  const max = Math.max(...rows.map((r) => r.count))
  const shown = rows
    .slice(0, MAX_DEMAND_ROWS)
    .map(
      (r) =>
        html`<tr><td>${fmt(r.count)}</td><td class="bar" aria-hidden="true"><div class="bar"><span style="width:${((100 * r.count) / max).toFixed(1)}%"></span></div></td><td>${r.cpus}</td><td>${fmt(r.memory)}</td><td>${fmt(r.disk)}</td><td>${r.gpus}</td><td class="text">${r.os ?? html`<span class="muted">any</span>`}</td></tr>`,
    )
  const more =
    rows.length > MAX_DEMAND_ROWS
      ? html`<p class="muted">and ${fmt(rows.length - MAX_DEMAND_ROWS)} more rows in <a href="/api/state">/api/state</a></p>`
      : ""
  return html`<div class="table-wrap"><table>
<thead><tr><th scope="col">Jobs</th><th scope="col"><span class="muted">share</span></th><th scope="col">CPUs</th><th scope="col">Memory (MB)</th><th scope="col">Disk (MB)</th><th scope="col">GPUs</th><th scope="col" class="text">OS</th></tr></thead>
<tbody>${shown}</tbody></table></div>${more}`
}

function partitionsOf(c: StoredClient): string {
  const names = new Set([
    ...Object.keys(c.metrics.glideins_running),
    ...Object.keys(c.metrics.glideins_idle),
    ...Object.keys(c.metrics.glideins_launched),
  ])
  const failed = new Set(countFailed(c))
  const count = (m: Record<string, number>, p: string) => (failed.has(p) ? "?" : (m[p] ?? 0))
  return [...names]
    .sort()
    .map(
      (p) =>
        `${p} ${count(c.metrics.glideins_running, p)}/${count(c.metrics.glideins_idle, p)}/${c.metrics.glideins_launched[p] ?? 0}`,
    )
    .join(", ")
}

function sitesTable(d: StatusPageData) {
  if (d.clients.length === 0) {
    return html`<p class="muted">No site has reported yet. Sites report after each <code>glidein submit</code> run.</p>`
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
    return html`<tr><td class="text site" title="${siteLabel(c.uuid, c.tokenName)}">${siteLabel(c.uuid, c.tokenName)}</td><td class="text"><time datetime="${new Date(c.lastSeen).toISOString()}">${formatAge(age)}</time></td><td class="text">${state}</td><td>${fmt(c.running)}</td><td>${fmt(c.idle)}</td><td>${fmt(c.launched)}</td><td class="text muted">${partitionsOf(c)}</td></tr>`
  })
  return html`<div class="table-wrap"><table>
<thead><tr><th scope="col" class="text">Site</th><th scope="col" class="text">Last report</th><th scope="col" class="text">State</th><th scope="col">Running</th><th scope="col">Idle</th><th scope="col">Launched</th><th scope="col" class="text">Partitions (running/idle/launched)</th></tr></thead>
<tbody>${rows}</tbody></table></div>`
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
    .map(([uuid, points]) => ({ name: labels.get(uuid) ?? uuid, points }))
  const rest = ranked.slice(MAX_SITE_LINES)
  if (rest.length > 0) {
    const sums = new Map<number, number>()
    for (const [, points] of rest) for (const p of points) sums.set(p.t, (sums.get(p.t) ?? 0) + p.v)
    series.push({
      name: `${rest.length} other sites`,
      points: [...sums.entries()].map(([t, v]) => ({ t, v })),
    })
  }
  return series
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
  const link = (r: Range, text: string) =>
    r === d.range
      ? html`<a href="?range=${r}" aria-current="page">${text}</a>`
      : html`<a href="?range=${r}">${text}</a>`
  return html`<section aria-labelledby="history">
<h2 id="history">History <nav class="range" aria-label="Chart range">${link("day", "Last day")} ${link("week", "Last week")}</nav></h2>
<div class="charts">${demandChart}${site("running", "Running glideins per site")}${site("idle", "Idle glideins per site")}${site("launched", `Glideins launched per site (per ${formatDuration(d.siteBucketMs)})`)}</div>
<p class="muted">Times in UTC.</p>
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
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="60">
<title>glidein serve — ${rows ? `${fmt(d.demand.jobs)} idle jobs` : "no demand yet"}</title>
<style>${raw(STYLE)}</style>
</head>
<body>
<header><h1>glidein serve</h1>${status.line}</header>
<main>
${status.alert}
<div class="cards">
${card("Idle jobs", rows ? fmt(d.demand.jobs) : "—", rows ? `${fmt(rows.length)} ${rows.length === 1 ? "shape" : "shapes"}` : "")}
${card("Sites reporting", `${fresh.length} / ${d.clients.length}`, `stale after ${formatDuration(d.staleAfterMs)}`)}
${card("Glideins running", fmt(sum("running")), "at fresh sites")}
${card("Glideins idle", fmt(sum("idle")), "queued at fresh sites")}
${card("Launched", fmt(sum("launched")), "in each site's last run")}
</div>
${charts(d)}
<section aria-labelledby="demand"><h2 id="demand">Demand <small>${d.demand.badLines > 0 ? `${fmt(d.demand.badLines)} condor_q lines did not parse · ` : ""}what get_state returns</small></h2>${demandTable(d)}</section>
<section aria-labelledby="sites"><h2 id="sites">Sites <small>from their monitoring reports</small></h2>${sitesTable(d)}</section>
</main>
<footer>glidein ${d.version} · <a href="/api/state">/api/state</a> · <a href="/api/clients">/api/clients</a> · <a href="/metrics">/metrics</a> · <a href="/healthz">/healthz</a> · JSON-RPC at <code>POST /jsonrpc</code></footer>
</body>
</html>`
}
