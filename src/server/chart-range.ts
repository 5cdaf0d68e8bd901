/**
 * The time ranges the status page and the site pages chart, and the links between them.
 * Short ranges matter most on a new server: a site's first hours drawn over a week (or a
 * day) were a few pixels at the right edge.
 */
import { html } from "hono/html"

/** Each range and its length in ms, shortest first. */
export const RANGES = {
  "1h": 3_600_000,
  "6h": 6 * 3_600_000,
  day: 86_400_000,
  week: 7 * 86_400_000,
} as const
export type Range = keyof typeof RANGES

const LABELS: Record<Range, string> = {
  "1h": "Last hour",
  "6h": "Last 6 hours",
  day: "Last day",
  week: "Last week",
}

/** The `?range=` of a request: one of RANGES, else `fallback`. */
export function parseRange(query: string | undefined, fallback: Range = "day"): Range {
  return query !== undefined && Object.hasOwn(RANGES, query) ? (query as Range) : fallback
}

/**
 * The shortest range holding `ageMs` of history, up to the day: a site that first reported
 * two hours ago is charted over 6 hours, not drawn as a sliver at the right of a day.
 */
export function rangeFor(ageMs: number): Range {
  return ageMs <= RANGES["1h"] ? "1h" : ageMs <= RANGES["6h"] ? "6h" : "day"
}

/** Links to every range, the current one marked. */
export function rangeNav(current: Range) {
  const links = (Object.keys(RANGES) as Range[]).map((r) =>
    r === current
      ? html`<a href="?range=${r}" aria-current="page">${LABELS[r]}</a>`
      : html`<a href="?range=${r}">${LABELS[r]}</a>`,
  )
  return html`<nav class="range" aria-label="Chart range">${links}</nav>`
}
