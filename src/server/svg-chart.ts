/**
 * Line charts as inline SVG, rendered on the server: the status page needs no script and no
 * CDN (pools often sit on private networks), and every label passes through hono's escaping
 * `html` template.
 */
import { html } from "hono/html"
import { shortLabel } from "./site-label.ts"

/** One line of a chart. Points need not be sorted or evenly spaced. */
export interface Series {
  /** Shown in the legend and on hover, cut to 40 characters (full in the legend's tooltip). */
  name: string
  points: { t: number; v: number }[]
  /** A CSS colour; by default the palette's colour for the series' place. */
  color?: string
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
/** At most this many hover areas per chart, each titled with the values under it. */
const MAX_HOVER_COLUMNS = 48
/** At most this many lines; the caller sums the rest (status page: eight sites and "others"). */
const MAX_SERIES = 12

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

const HOUR = 3_600_000
const DAY = 86_400_000

/** Time ticks (UTC): six to twelve of them, at round minutes, hours or days. */
function timeTicks(from: number, to: number): { t: number; label: string }[] {
  const span = to - from
  const step =
    span <= 2 * HOUR ? 10 * 60_000 : span <= 8 * HOUR ? HOUR : span <= 2 * DAY ? 3 * HOUR : DAY
  const ticks: { t: number; label: string }[] = []
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) {
    const d = new Date(t)
    const label =
      step < DAY
        ? `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`
        : `${DAYS[d.getUTCDay()]} ${d.getUTCDate()}`
    ticks.push({ t, label })
  }
  return ticks
}

/** "14:05 UTC", or "Sat 21 14:05 UTC" when the chart spans more than two days. */
function timeOf(t: number, span: number): string {
  const d = new Date(t)
  const hm = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`
  return span > 2 * DAY ? `${DAYS[d.getUTCDay()]} ${d.getUTCDate()} ${hm}` : hm
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

function fmt(v: number): string {
  return v.toLocaleString("en-US")
}

/**
 * Transparent columns over the plot, each with a `<title>` naming its time and every line's
 * value there: the browser shows it on hover (and screen readers read it) with no script.
 * Each column reaches halfway to its neighbours, so the pointer always finds the nearest.
 */
function hoverAreas(
  series: { name: string; points: { t: number; v: number }[] }[],
  from: number,
  to: number,
  x: (t: number) => number,
  top: number,
  height: number,
) {
  const columns = new Map<number, { t: number; values: (number | undefined)[] }>()
  series.forEach((s, i) => {
    for (const p of s.points) {
      const c = Math.min(
        MAX_HOVER_COLUMNS - 1,
        Math.floor(((p.t - from) / (to - from)) * MAX_HOVER_COLUMNS),
      )
      const column = columns.get(c) ?? { t: p.t, values: [] }
      // The latest value of each line in the column, as the line ends there.
      column.t = Math.max(column.t, p.t)
      column.values[i] = p.v
      columns.set(c, column)
    }
  })
  const sorted = [...columns.values()].sort((a, b) => a.t - b.t)
  const xs = sorted.map((c) => x(c.t))
  return sorted.map((column, i) => {
    const left = i === 0 ? x(from) : ((xs[i - 1] as number) + (xs[i] as number)) / 2
    const right = i === sorted.length - 1 ? x(to) : ((xs[i] as number) + (xs[i + 1] as number)) / 2
    const text = [
      timeOf(column.t, to - from),
      ...series.flatMap((s, j) => {
        const v = column.values[j]
        return v === undefined ? [] : [`${s.name}: ${fmt(v)}`]
      }),
    ].join("\n")
    return html`<rect class="hover" x="${left.toFixed(1)}" y="${top}" width="${Math.max(0, right - left).toFixed(1)}" height="${height}" fill="transparent"><title>${text}</title></rect>`
  })
}

/** An SVG line chart with gridlines, UTC time axis and an HTML legend. */
export function lineChart(options: ChartOptions) {
  const { title, from, to, gapMs } = options
  const width = options.width ?? 480
  const height = options.height ?? 180
  const plotW = width - MARGIN.left - MARGIN.right
  const plotH = height - MARGIN.top - MARGIN.bottom
  const series = options.series.slice(0, MAX_SERIES).map((s, i) => ({
    name: shortLabel(s.name),
    fullName: s.name,
    color: s.color ?? PALETTE[i % PALETTE.length],
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
  const lines = series.map((s) => {
    let d = ""
    let prev: number | undefined
    for (const p of s.points) {
      const joined = prev !== undefined && p.t - prev <= gap
      d += `${joined ? "L" : "M"}${x(p.t).toFixed(1)} ${y(p.v).toFixed(1)}`
      prev = p.t
    }
    const last = s.points[s.points.length - 1]
    // A lone point (one report so far) would be invisible as a path: mark the latest value.
    const dot = last
      ? html`<circle cx="${x(last.t).toFixed(1)}" cy="${y(last.v).toFixed(1)}" r="2.5" fill="${s.color}"><title>${s.name}: ${fmt(last.v)} at ${timeOf(last.t, to - from)}</title></circle>`
      : ""
    return html`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.8" stroke-linejoin="round"/>${dot}`
  })
  const legend = series.map(
    (s) =>
      html`<li title="${s.fullName}"><span class="swatch" style="background:${s.color}"></span>${s.name}</li>`,
  )
  return html`<figure class="chart">
  <figcaption>${title}</figcaption>
  <svg viewBox="0 0 ${width} ${height}" role="img" aria-label="${summary}" preserveAspectRatio="xMidYMid meet">
    <title>${summary}</title>
    ${grid}${ticks}
    ${empty ? html`<text class="empty" x="${MARGIN.left + plotW / 2}" y="${MARGIN.top + plotH / 2}" text-anchor="middle">No data in this range yet</text>` : html`${hoverAreas(series, from, to, x, MARGIN.top, plotH)}${lines}`}
  </svg>
  ${series.length > 1 ? html`<ul class="legend">${legend}</ul>` : ""}
</figure>`
}
