/**
 * Line charts as inline SVG, rendered on the server: the status page needs no script and no
 * CDN (pools often sit on private networks), and every label passes through hono's escaping
 * `html` template.
 */
import { html } from "hono/html"

/** One line of a chart. Points need not be sorted or evenly spaced. */
export interface Series {
  name: string
  points: { t: number; v: number }[]
}

/** What to draw. Times are ms since the epoch. */
export interface ChartOptions {
  /** Short title, also the accessible name of the image. */
  title: string
  series: Series[]
  from: number
  to: number
  /** Points further apart than this are not joined (a gap in the data). */
  gapMs: number
  width?: number
  height?: number
}

/** Colour-blind-friendly categorical palette (Tableau 10), readable on light and dark. */
export const PALETTE = [
  "#4e79a7",
  "#f28e2b",
  "#59a14f",
  "#e15759",
  "#76b7b2",
  "#edc948",
  "#b07aa1",
  "#ff9da7",
  "#9c755f",
  "#bab0ac",
]

const MARGIN = { left: 52, right: 14, top: 14, bottom: 26 }
/** At most this many points per line; beyond, buckets keep their largest value. */
const MAX_POINTS = 360

/** 1, 2, 2.5, 5 × 10^n at or above `v` (at least 1), so gridlines fall on round numbers. */
export function niceCeil(v: number): number {
  if (v <= 1) return 1
  const p = 10 ** Math.floor(Math.log10(v))
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p
  return 10 * p
}

/** 1234 → "1.2k", 2000000 → "2M". */
export function compactNumber(v: number): string {
  const abs = Math.abs(v)
  if (abs >= 1e6) return `${+(v / 1e6).toFixed(1)}M`
  if (abs >= 1e4) return `${Math.round(v / 1e3)}k`
  if (abs >= 1e3) return `${+(v / 1e3).toFixed(1)}k`
  return `${+v.toFixed(abs < 10 ? 1 : 0)}`
}

function pad(n: number): string {
  return String(n).padStart(2, "0")
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]

/** Time ticks (UTC): every 3 hours for ranges up to two days, else every day. */
function timeTicks(from: number, to: number): { t: number; label: string }[] {
  const span = to - from
  const step = span <= 2 * 86_400_000 ? 3 * 3_600_000 : 86_400_000
  const ticks: { t: number; label: string }[] = []
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) {
    const d = new Date(t)
    const label =
      step < 86_400_000 ? `${pad(d.getUTCHours())}:00` : `${DAYS[d.getUTCDay()]} ${d.getUTCDate()}`
    ticks.push({ t, label })
  }
  return ticks
}

/** Reduces a sorted series to at most MAX_POINTS, keeping each bucket's peak. */
function downsample(points: { t: number; v: number }[], from: number, to: number) {
  if (points.length <= MAX_POINTS) return points
  const width = (to - from) / MAX_POINTS
  const out: { t: number; v: number }[] = []
  for (const p of points) {
    const last = out[out.length - 1]
    if (last && Math.floor((last.t - from) / width) === Math.floor((p.t - from) / width)) {
      if (p.v > last.v) last.v = p.v
    } else {
      out.push({ t: p.t, v: p.v })
    }
  }
  return out
}

/** An SVG line chart with gridlines, UTC time axis and an HTML legend. */
export function lineChart(options: ChartOptions) {
  const { title, from, to, gapMs } = options
  const width = options.width ?? 480
  const height = options.height ?? 180
  const plotW = width - MARGIN.left - MARGIN.right
  const plotH = height - MARGIN.top - MARGIN.bottom
  const series = options.series.map((s) => ({
    name: s.name,
    points: downsample(
      s.points.filter((p) => p.t >= from && p.t <= to).sort((a, b) => a.t - b.t),
      from,
      to,
    ),
  }))
  const peak = Math.max(0, ...series.flatMap((s) => s.points.map((p) => p.v)))
  // Three or four gridlines at round steps above the peak.
  const step = niceCeil(peak / 4)
  const yMax = Math.max(step, step * Math.ceil(peak / step))
  const x = (t: number) => MARGIN.left + ((t - from) / (to - from)) * plotW
  const y = (v: number) => MARGIN.top + plotH - (v / yMax) * plotH
  const empty = series.every((s) => s.points.length === 0)
  const summary = empty
    ? `${title}: no data in this range`
    : `${title}: ${series
        .map(
          (s) =>
            `${s.name} latest ${s.points[s.points.length - 1]?.v ?? 0}, peak ${Math.max(...s.points.map((p) => p.v))}`,
        )
        .join("; ")}`

  const levels = Array.from({ length: Math.round(yMax / step) + 1 }, (_, i) => i * step)
  const grid = levels.map((v) => {
    return html`<line class="grid" x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}"/><text class="tick" x="${MARGIN.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${compactNumber(v)}</text>`
  })
  const ticks = timeTicks(from, to).map(
    ({ t, label }) =>
      html`<line class="grid minor" x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}"/><text class="tick" x="${x(t).toFixed(1)}" y="${height - 8}" text-anchor="middle">${label}</text>`,
  )
  // After downsampling, neighbours are a bucket apart: only a longer silence is a gap.
  const gap = Math.max(gapMs, (2.5 * (to - from)) / MAX_POINTS)
  const lines = series.map((s, i) => {
    let d = ""
    let prev: number | undefined
    for (const p of s.points) {
      const joined = prev !== undefined && p.t - prev <= gap
      d += `${joined ? "L" : "M"}${x(p.t).toFixed(1)} ${y(p.v).toFixed(1)}`
      prev = p.t
    }
    const color = PALETTE[i % PALETTE.length]
    const last = s.points[s.points.length - 1]
    // A lone point (one report so far) would be invisible as a path: mark the latest value.
    const dot = last
      ? html`<circle cx="${x(last.t).toFixed(1)}" cy="${y(last.v).toFixed(1)}" r="2.5" fill="${color}"/>`
      : ""
    return html`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.8" stroke-linejoin="round"/>${dot}`
  })
  const legend = series.map(
    (s, i) =>
      html`<li><span class="swatch" style="background:${PALETTE[i % PALETTE.length]}"></span>${s.name}</li>`,
  )
  return html`<figure class="chart">
  <figcaption>${title}</figcaption>
  <svg viewBox="0 0 ${width} ${height}" role="img" aria-label="${summary}" preserveAspectRatio="xMidYMid meet">
    <title>${summary}</title>
    ${grid}${ticks}
    ${empty ? html`<text class="empty" x="${MARGIN.left + plotW / 2}" y="${MARGIN.top + plotH / 2}" text-anchor="middle">No data in this range yet</text>` : lines}
  </svg>
  ${series.length > 1 ? html`<ul class="legend">${legend}</ul>` : ""}
</figure>`
}
