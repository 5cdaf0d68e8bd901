/** `GET /metrics`: demand, poll health and glideins per site in Prometheus text format 0.0.4. */
import type { DemandSnapshot } from "../demand/index.ts"
import type { StoredClient } from "./report-store.ts"

/** Demand shapes exported as series; the rest only count in the totals (bounded cardinality). */
const MAX_SHAPE_SERIES = 100

/** Escapes a label value: backslash, double quote and newline. */
export function labelValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")
}

function labels(pairs: Record<string, string | number>): string {
  return `{${Object.entries(pairs)
    .map(([k, v]) => `${k}="${labelValue(String(v))}"`)
    .join(",")}}`
}

/** What the metrics describe. */
export interface MetricsData {
  now: number
  demand: DemandSnapshot
  clients: StoredClient[]
  staleAfterMs: number
}

/** Renders the metrics page. */
export function renderMetrics({ now, demand, clients, staleAfterMs }: MetricsData): string {
  const out: string[] = []
  const metric = (name: string, type: "gauge" | "counter", help: string, samples: string[]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples)
  }
  const rows = demand.rows ?? []
  metric(
    "glidein_demand_jobs",
    "gauge",
    `Idle jobs in the demand table by shape (the ${MAX_SHAPE_SERIES} largest shapes).`,
    rows
      .slice(0, MAX_SHAPE_SERIES)
      .map(
        (r) =>
          `glidein_demand_jobs${labels({ cpus: r.cpus, memory: r.memory, disk: r.disk, gpus: r.gpus, os: r.os ?? "" })} ${r.count}`,
      ),
  )
  metric("glidein_demand_idle_jobs", "gauge", "Idle jobs in the demand table.", [
    `glidein_demand_idle_jobs ${demand.jobs}`,
  ])
  metric("glidein_demand_shapes", "gauge", "Rows (distinct shapes) in the demand table.", [
    `glidein_demand_shapes ${rows.length}`,
  ])
  metric(
    "glidein_demand_bad_lines",
    "gauge",
    "condor_q lines of the last good poll that did not parse.",
    [`glidein_demand_bad_lines ${demand.badLines}`],
  )
  metric(
    "glidein_demand_set_aside_jobs",
    "gauge",
    "Idle jobs of the last good poll no site could run (over the bounds clients accept), left out of the table.",
    [`glidein_demand_set_aside_jobs ${demand.setAside?.jobs ?? 0}`],
  )
  metric("glidein_demand_poll_ok", "gauge", "1 if the latest poll succeeded, else 0.", [
    `glidein_demand_poll_ok ${demand.error === null && demand.updated !== null ? 1 : 0}`,
  ])
  if (demand.updated !== null) {
    metric("glidein_demand_age_seconds", "gauge", "Age of the demand table being served.", [
      `glidein_demand_age_seconds ${((now - demand.updated) / 1000).toFixed(3)}`,
    ])
    metric(
      "glidein_demand_last_success_timestamp_seconds",
      "gauge",
      "When the served demand table was polled.",
      [`glidein_demand_last_success_timestamp_seconds ${(demand.updated / 1000).toFixed(3)}`],
    )
  }
  const glideins: string[] = []
  const countFailures: string[] = []
  const ages: string[] = []
  let fresh = 0
  for (const c of clients) {
    const age = now - c.lastSeen
    if (age <= staleAfterMs) fresh++
    ages.push(
      `glidein_site_last_report_age_seconds${labels({ site: c.uuid })} ${(age / 1000).toFixed(3)}`,
    )
    for (const [state, name] of [
      ["running", "glideins_running"],
      ["idle", "glideins_idle"],
      ["launched", "glideins_launched"],
    ] as const) {
      for (const [partition, n] of Object.entries(c.metrics[name])) {
        glideins.push(`glidein_site_glideins${labels({ site: c.uuid, partition, state })} ${n}`)
      }
    }
    for (const partition of Object.keys(c.metrics.count_failed).sort()) {
      if ((c.metrics.count_failed[partition] ?? 0) > 0)
        countFailures.push(`glidein_site_count_failed${labels({ site: c.uuid, partition })} 1`)
    }
  }
  metric(
    "glidein_site_glideins",
    "gauge",
    "Glideins per site and partition in the site's latest report (launched: in that run).",
    glideins,
  )
  metric(
    "glidein_site_count_failed",
    "gauge",
    "1 for each partition whose glideins the site could not count in its latest report (no glidein_site_glideins running/idle series then).",
    countFailures,
  )
  metric(
    "glidein_site_last_report_age_seconds",
    "gauge",
    "Time since each site's latest report.",
    ages,
  )
  metric("glidein_sites", "gauge", "Sites known, by whether they reported recently.", [
    `glidein_sites{state="fresh"} ${fresh}`,
    `glidein_sites{state="stale"} ${clients.length - fresh}`,
  ])
  return `${out.join("\n")}\n`
}
