/**
 * A replay as text (a table per site and the assumptions), as JSON, and as a standalone SVG
 * drawn by the status page's chart code (every name escaped by its `html` template).
 */
import { html } from "hono/html"
import { lineChart, PALETTE } from "../server/svg-chart.ts"
import type { ReplayResult } from "./replay.ts"

const hours = (h: number) => h.toFixed(1)
const iso = (t: number) => new Date(t).toISOString().replace(/:\d\d\.\d{3}Z$/, "Z")

/** The replay as text: window, per-site recorded → replayed figures, totals, assumptions. */
export function replayText(result: ReplayResult, policySource: string): string {
  const header = [
    "site",
    "launched",
    "queued h",
    "running h",
    "peak queued",
    "run",
    "wasted",
    "backed off",
  ]
  const pair = (a: number, b: number) => `${a} → ${b}`
  const rows = result.sites.map((s) => [
    s.uuid + (s.failing ? " (failing)" : ""),
    pair(s.recorded.launched, s.replayed.launched),
    pair(+hours(s.recorded.queuedHours), +hours(s.replayed.queuedHours)),
    pair(+hours(s.recorded.runningHours), +hours(s.replayed.runningHours)),
    pair(s.recorded.peakQueued, s.replayed.peakQueued),
    String(s.replayed.run),
    String(s.replayed.wasted),
    `${s.replayed.backedOffRounds} rounds`,
  ])
  const sum = (f: (s: ReplayResult["sites"][number]) => number) =>
    result.sites.reduce((n, s) => n + f(s), 0)
  rows.push([
    "all sites",
    pair(
      sum((s) => s.recorded.launched),
      sum((s) => s.replayed.launched),
    ),
    pair(+hours(sum((s) => s.recorded.queuedHours)), +hours(sum((s) => s.replayed.queuedHours))),
    pair(+hours(sum((s) => s.recorded.runningHours)), +hours(sum((s) => s.replayed.runningHours))),
    pair(
      Math.max(0, ...result.rounds.map((r) => r.recordedQueued)),
      Math.max(0, ...result.rounds.map((r) => r.replayedQueued)),
    ),
    String(sum((s) => s.replayed.run)),
    String(sum((s) => s.replayed.wasted)),
    "",
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd()
  return [
    `replay of ${iso(result.from)} to ${iso(result.to)}: ${result.rounds.length} rounds of ${result.roundMs / 60_000} min, ${result.sites.length} sites, policy ${policySource}`,
    "recorded → replayed under the policy; run and wasted: replayed glideins that started with an idle job, or found none",
    "",
    line(header),
    ...rows.map(line),
    "",
    "assumed (the server does not store sites' partitions or limits):",
    ...result.assumptions.map((a) => `  - ${a}`),
    "",
  ].join("\n")
}

/** The replay as JSON (per site and per round; the assumptions included). */
export function replayJson(result: ReplayResult, policySource: string): string {
  const { queuedBySite: _, ...rest } = result
  return `${JSON.stringify({ policy: policySource, ...rest }, null, 2)}\n`
}

const WIDTH = 720
const HEIGHT = 220
/** Sites drawn one by one on the third chart; the status page draws eight too. */
const TOP_SITES = 8

/** Three charts in one SVG file: glideins queued and running, recorded and replayed, against
 *  the demand; and the queue of the sites granted most. */
export function replaySvg(result: ReplayResult, policySource: string): string {
  const { from } = result
  const to = Math.max(from + result.roundMs, result.rounds.at(-1)?.t ?? from)
  const gapMs = 3 * result.roundMs
  const series = (key: Exclude<keyof ReplayResult["rounds"][number], "t">) =>
    result.rounds.map((r) => ({ t: r.t, v: r[key] }))
  const top = [...result.sites]
    .sort((a, b) => b.replayed.launched - a.replayed.launched || a.uuid.localeCompare(b.uuid))
    .slice(0, TOP_SITES)
  /** All sites' glideins `what` as recorded and as replayed, against the idle jobs. */
  const totals = (
    what: string,
    recorded: "recordedQueued" | "recordedRunning",
    replayed: "replayedQueued" | "replayedRunning",
  ) =>
    lineChart({
      title: `Glideins ${what}, all sites`,
      series: [
        { name: "idle jobs", points: series("demand"), color: PALETTE[9] },
        { name: "recorded", points: series(recorded), color: PALETTE[0] },
        { name: "replayed", points: series(replayed), color: PALETTE[1] },
      ],
      from,
      to,
      gapMs,
      width: WIDTH,
      height: HEIGHT,
    })
  const charts = [
    totals("queued", "recordedQueued", "replayedQueued"),
    totals("running", "recordedRunning", "replayedRunning"),
    lineChart({
      title: "Replayed glideins queued, sites granted most",
      series: top.map((s) => {
        const queued = result.queuedBySite.get(s.uuid)!
        return { name: s.uuid, points: result.rounds.map((r, i) => ({ t: r.t, v: queued[i]! })) }
      }),
      from,
      to,
      gapMs,
      width: WIDTH,
      height: HEIGHT,
    }),
  ]
  const LEGEND = 18
  const legends = [
    ["idle jobs", "recorded", "replayed"],
    ["idle jobs", "recorded", "replayed"],
    top.map((s) => s.uuid),
  ]
  const colors = [
    [PALETTE[9], PALETTE[0], PALETTE[1]],
    [PALETTE[9], PALETTE[0], PALETTE[1]],
    top.map((_, i) => PALETTE[i % PALETTE.length]),
  ]
  const block = HEIGHT + 24 + LEGEND * 2
  const parts = charts.map((chart, i) => {
    // The chart's own <svg> (its figure and HTML legend do not belong in an SVG file).
    const svg = /<svg[\s\S]*<\/svg>/.exec(String(chart))?.[0] ?? ""
    const title = /<figcaption>([\s\S]*?)<\/figcaption>/.exec(String(chart))?.[1] ?? ""
    const y = 24 + i * block
    const legend = legends[i]!.map(
      (name, j) =>
        html`<g transform="translate(${52 + (j % 4) * 170} ${y + HEIGHT + 16 + Math.floor(j / 4) * LEGEND})"><rect width="10" height="10" y="-9" fill="${colors[i]![j]}"/><text x="14">${name.length > 24 ? `${name.slice(0, 23)}…` : name}</text></g>`,
    )
    return `<text x="8" y="${y - 6}" class="title">${title}</text><svg x="0" y="${y}" width="${WIDTH}" height="${HEIGHT}"${svg.slice(4)}${legend.join("")}`
  })
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${24 + 3 * block}" width="${WIDTH}" height="${24 + 3 * block}" font-family="sans-serif" font-size="11">
<style>.grid{stroke:#ddd}.minor{stroke-dasharray:2 3}.tick{fill:#666}.title{font-weight:bold;font-size:13px}.empty{fill:#999}</style>
<rect width="100%" height="100%" fill="#fff"/>
${html`<text x="8" y="14">glidein replay, policy ${policySource}</text>`}
${parts.join("\n")}
</svg>
`
}
