/**
 * `glidein status --server` for a terminal: the server's demand table and sites in aligned
 * columns, with the poll's age and last error. Pure: takes the API's JSON, returns text.
 */
import type { Allotment } from "../allotment/allot.ts"
import type { DemandRow } from "../demand/index.ts"
import { printable } from "../printable.ts"
import type { ApiClients, ApiFunnel, ApiState } from "../protocol/api.ts"
import { formatAge, formatDuration } from "./format-age.ts"
import { siteLabel } from "./site-label.ts"

type Align = "left" | "right"

/** Columns padded to their widest cell; numbers right-aligned, text left. */
export function formatTable(headers: string[], rows: string[][], align: Align[]): string {
  // Not Math.max(...rows): a spread of 600,000 rows overflowed the stack.
  const widths = headers.map((h, i) =>
    rows.reduce((w, r) => Math.max(w, (r[i] ?? "").length), h.length),
  )
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (align[i] === "right" ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd()
  return [line(headers), ...rows.map(line)].map((l) => `  ${l}`).join("\n")
}

function n(value: number): string {
  return value.toLocaleString("en-US")
}

function ms(iso: string | null): number | null {
  return iso === null ? null : Date.parse(iso)
}

function pollLine(state: ApiState, now: number): string[] {
  const source = state.source === "demo" ? "demo queue" : "condor_q"
  const updated = ms(state.updated)
  const next = ms(state.next_poll)
  const nextText = next !== null && next > now ? `, next in ${formatDuration(next - now)}` : ""
  if (state.error === null) {
    if (updated === null) return [`${source}: waiting for the first poll`]
    return [`${source} ok, polled ${formatAge(now - updated)}${nextText}`]
  }
  const since = ms(state.error_at)
  const lines = [
    `${source} FAILING${since === null ? "" : ` (${formatAge(now - since)})`}: ${printable(state.error)}`,
  ]
  lines.push(
    updated === null
      ? "no demand table yet"
      : `serving the last good table, polled ${formatAge(now - updated)}${nextText}`,
  )
  return lines
}

/** The demand table alone, as the server's get_state returns it. */
export function demandTable(rows: DemandRow[]): string {
  return formatTable(
    ["JOBS", "CPUS", "MEMORY MB", "DISK MB", "GPUS", "OS"],
    rows.map((r) => [
      n(r.count),
      String(r.cpus),
      n(r.memory),
      n(r.disk),
      String(r.gpus),
      printable(r.os ?? "any"),
    ]),
    ["right", "right", "right", "right", "right", "left"],
  )
}

/** The whole report. */
export function renderStatusText(
  server: string,
  state: ApiState,
  clients: ApiClients,
  now: number,
): string {
  const out = [`Server ${server}`, ...pollLine(state, now).map((l) => `  ${l}`), ""]
  if (state.rows === null) {
    out.push("Demand: none yet")
  } else {
    const bad = state.bad_lines > 0 ? ` (${n(state.bad_lines)} condor_q lines did not parse)` : ""
    out.push(
      `Demand: ${counted(state.jobs, "idle job")} in ${counted(state.rows.length, "row")}${bad}`,
    )
    if (state.merged) {
      out.push(
        `  ${counted(state.merged.shapes, "shape")} merged, each value at most ${state.merged.within_percent} % above a job's`,
      )
    }
    const aside = state.set_aside
    if (aside) {
      out.push(
        `  ${counted(aside.jobs, "idle job")} set aside, no site could run them: ${printable(aside.first)}${aside.shapes > 1 ? ", …" : ""}`,
      )
    }
    if (state.note) out.push(`  note: ${printable(state.note)}`)
    if (state.rows.length > 0) out.push(demandTable(state.rows))
  }
  out.push("")
  const stale = clients.clients.filter((c) => c.stale).length
  out.push(
    clients.clients.length === 0
      ? "Sites: none has reported yet"
      : `Sites: ${clients.clients.length} (${clients.clients.length - stale} reporting, ${stale} stale after ${formatDuration(clients.stale_after_s * 1000)})`,
  )
  if (clients.clients.length > 0) {
    out.push(
      formatTable(
        ["SITE", "LAST REPORT", "RUNNING", "IDLE", "LAUNCHED", "STATE"],
        clients.clients.map((c) => [
          printable(siteLabel(c.uuid, c.token_name)),
          formatAge(now - Date.parse(c.last_report)),
          n(c.running),
          n(c.idle),
          n(c.launched),
          c.stale ? "stale" : stateOf(c.metrics.count_failed),
        ]),
        ["left", "left", "right", "right", "right", "left"],
      ),
    )
  }
  return `${out.join("\n")}\n`
}

/** "ok", or which partitions the site could not count (their numbers are unknown). */
function stateOf(countFailed: Record<string, number> | undefined): string {
  const failed = Object.entries(countFailed ?? {})
    .filter(([, n]) => n > 0)
    .map(([p]) => printable(p))
    .sort()
  return failed.length > 0 ? `count failed: ${failed.join(", ")}` : "ok"
}

/** `1 row`, `1,127 idle jobs`. */
function counted(count: number, word: string): string {
  return `${n(count)} ${word}${count === 1 ? "" : "s"}`
}

/** Each site's latest allotment and the terms that produced it (`GET /api/allotments`). */
export function allotmentsText(allotments: Allotment[], now: number): string {
  if (allotments.length === 0) return "Allotments: none asked for yet\n"
  const out = [`Allotments: ${counted(allotments.length, "site")}`]
  for (const a of allotments) {
    const per = a.partitions.map((p) => `[${printable(p.partition)}] ${n(p.count)}`).join(", ")
    out.push(
      `  ${printable(a.uuid)}: ${n(a.total)} (${a.state}, ${formatAge(now - a.at)})${per ? `: ${per}` : ""}`,
    )
    for (const t of a.terms) out.push(`    ${printable(t.name)} ${t.value}: ${printable(t.note)}`)
  }
  return `${out.join("\n")}\n`
}

/** Core-hours and the wasted share, `12.5 of 40.0 (31 %)`. */
function coreHours(s: { coreHours: number; wastedCoreHours: number }): string {
  if (s.coreHours <= 0) return "—"
  const share = Math.round((100 * s.wastedCoreHours) / s.coreHours)
  return `${s.wastedCoreHours.toFixed(1)} of ${s.coreHours.toFixed(1)} (${share} %)`
}

/** The pool's side per site (`GET /api/funnel`): from glideins submitted to jobs completed. */
export function funnelText(f: ApiFunnel, now: number): string {
  if (!f.watched) return "Pool: not watched (glidein serve --condor-status)\n"
  const polled =
    f.updated === null
      ? "condor_status has not answered yet"
      : `polled ${formatAge(now - f.updated)}`
  const out = [
    `Pool (${printable(f.range)}; ${polled}${f.error ? `; last poll failed: ${printable(f.error)}` : ""})`,
  ]
  if (f.covered > 0) {
    out.push(
      `  ${counted(f.covered, "idle job")} of ${n(f.demand)} fit in unclaimed cores of joined glideins`,
    )
  }
  const header = [
    "site",
    "submitted",
    "queued",
    "running",
    "joined",
    "claimed",
    "jobs",
    "done",
    "no job",
    "wasted core-h",
  ]
  const rows = [...f.sites, { ...f.total, uuid: "total", reporting: true, flag: undefined }].map(
    (s) => [
      printable(s.uuid),
      n(s.submitted),
      n(s.queued),
      n(s.running),
      n(s.joined),
      n(s.claimed),
      n(s.jobsStarted),
      n(s.jobsCompleted),
      n(s.endedNoJob),
      coreHours(s),
    ],
  )
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) =>
    `  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")}`.trimEnd()
  out.push(line(header), ...rows.map(line))
  for (const s of f.sites) {
    if (s.flag)
      out.push(
        `  ${printable(s.uuid)} flagged (${printable(s.flag.kind)}): ${printable(s.flag.reason)}`,
      )
  }
  return `${out.join("\n")}\n`
}
