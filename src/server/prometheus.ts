/**
 * `GET /metrics`: demand, poll health and glideins per site in Prometheus text format 0.0.4.
 * The series are bounded whatever the sites report: 500 sites of 64 partitions each gave
 * 96,000 series (19.8 MB) when every partition was its own.
 */
import type { DemandSnapshot } from "../demand/index.ts"
import type { StoredClient } from "./report-store.ts"

/** Demand shapes exported as series; the rest only count in the totals (bounded cardinality). */
const MAX_SHAPE_SERIES = 100
/**
 * (site, partition) pairs exported as their own series, the largest by glideins; each site's
 * other partitions are summed under partition="_other", so per-site sums stay exact.
 */
export const MAX_PARTITION_SERIES = 256
/** The partition label of a site's partitions that have no series of their own. */
export const OTHER_PARTITION = "_other"

/** Escapes a label value: backslash, double quote and newline. */
export function labelValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")
}

/** `{k="v",…}` with every value escaped. */
export function labels(pairs: Record<string, string | number>): string {
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

/** Metrics text, and until when (ms) it holds if neither the store nor the demand changes. */
export interface RenderedMetrics {
  text: string
  /** When the first fresh site turns stale (and leaves the gauges); Infinity if none will. */
  validUntil: number
}

type Sample = (
  name: string,
  type: "gauge" | "counter" | "histogram",
  help: string,
  samples: string[],
) => void

/** Lines of Prometheus text, and `metric()` that adds one metric's HELP, TYPE and samples. */
export function collector(): { out: string[]; metric: Sample } {
  const out: string[] = []
  return {
    out,
    metric: (name, type, help, samples) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples)
    },
  }
}

/**
 * Renders the metrics of the demand table and the sites: everything but what changes with the
 * clock alone (`renderDemandAge`), so the text can be kept until the store or the table changes
 * or `validUntil`. Only fresh sites export glideins: a site silent for weeks no longer adds its
 * last numbers to the sums.
 */
export function renderMetrics({
  now,
  demand,
  clients,
  staleAfterMs,
}: MetricsData): RenderedMetrics {
  const { out, metric } = collector()
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
    metric(
      "glidein_demand_last_success_timestamp_seconds",
      "gauge",
      "When the served demand table was polled.",
      [`glidein_demand_last_success_timestamp_seconds ${(demand.updated / 1000).toFixed(3)}`],
    )
  }

  let validUntil = Number.POSITIVE_INFINITY
  const fresh: StoredClient[] = []
  for (const c of clients) {
    const staleAt = c.lastSeen + staleAfterMs
    if (now >= staleAt) continue
    fresh.push(c)
    validUntil = Math.min(validUntil, staleAt)
  }
  const named = largestPartitions(fresh)
  const glideins: string[] = []
  const launched: string[] = []
  const countFailures: string[] = []
  for (const c of fresh) {
    for (const [state, name] of [
      ["running", "glideins_running"],
      ["idle", "glideins_idle"],
    ] as const) {
      let other = 0
      let hasOther = false
      for (const [partition, n] of Object.entries(c.metrics[name])) {
        if (named.has(pairKey(c.uuid, partition))) {
          glideins.push(`glidein_site_glideins${labels({ site: c.uuid, partition, state })} ${n}`)
        } else {
          other += n
          hasOther = true
        }
      }
      if (hasOther) {
        glideins.push(
          `glidein_site_glideins${labels({ site: c.uuid, partition: OTHER_PARTITION, state })} ${other}`,
        )
      }
    }
    launched.push(`glidein_site_launched${labels({ site: c.uuid })} ${c.launched}`)
    let failedElsewhere = 0
    for (const partition of Object.keys(c.metrics.count_failed).sort()) {
      if ((c.metrics.count_failed[partition] ?? 0) <= 0) continue
      if (named.has(pairKey(c.uuid, partition)) || countFailures.length < MAX_PARTITION_SERIES) {
        countFailures.push(`glidein_site_count_failed${labels({ site: c.uuid, partition })} 1`)
      } else failedElsewhere++
    }
    if (failedElsewhere > 0) {
      countFailures.push(
        `glidein_site_count_failed${labels({ site: c.uuid, partition: OTHER_PARTITION })} ${failedElsewhere}`,
      )
    }
  }
  metric(
    "glidein_site_glideins",
    "gauge",
    `Running and idle glideins per fresh site and partition in its latest report (the ${MAX_PARTITION_SERIES} largest partitions; a site's others summed under partition="${OTHER_PARTITION}").`,
    glideins,
  )
  metric(
    "glidein_site_launched",
    "gauge",
    "Glideins each fresh site launched in the run of its latest report (a per-run count).",
    launched,
  )
  metric(
    "glidein_site_count_failed",
    "gauge",
    "Partitions of each fresh site whose glideins it could not count in its latest report (no glidein_site_glideins series for them then).",
    countFailures,
  )
  metric(
    "glidein_site_last_report_timestamp_seconds",
    "gauge",
    "When each known site's latest report arrived (fresh or stale).",
    clients.map(
      (c) =>
        `glidein_site_last_report_timestamp_seconds${labels({ site: c.uuid })} ${(c.lastSeen / 1000).toFixed(3)}`,
    ),
  )
  metric("glidein_sites", "gauge", "Sites known, by whether they reported recently.", [
    `glidein_sites{state="fresh"} ${fresh.length}`,
    `glidein_sites{state="stale"} ${clients.length - fresh.length}`,
  ])
  return { text: `${out.join("\n")}\n`, validUntil }
}

/** The age of the demand table: the one metric that changes with the clock alone. */
export function renderDemandAge(now: number, demand: DemandSnapshot): string {
  if (demand.updated === null) return ""
  const { out, metric } = collector()
  metric("glidein_demand_age_seconds", "gauge", "Age of the demand table being served.", [
    `glidein_demand_age_seconds ${((now - demand.updated) / 1000).toFixed(3)}`,
  ])
  return `${out.join("\n")}\n`
}

function pairKey(site: string, partition: string): string {
  return `${site}\u0000${partition}`
}

/** The (site, partition) pairs with the most running and idle glideins, MAX_PARTITION_SERIES at most. */
function largestPartitions(clients: StoredClient[]): Set<string> {
  const pairs: { key: string; n: number }[] = []
  for (const c of clients) {
    const partitions = new Set([
      ...Object.keys(c.metrics.glideins_running),
      ...Object.keys(c.metrics.glideins_idle),
    ])
    for (const p of partitions) {
      const n = (c.metrics.glideins_running[p] ?? 0) + (c.metrics.glideins_idle[p] ?? 0)
      pairs.push({ key: pairKey(c.uuid, p), n })
    }
  }
  if (pairs.length <= MAX_PARTITION_SERIES) return new Set(pairs.map((p) => p.key))
  pairs.sort((a, b) => b.n - a.n || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  return new Set(pairs.slice(0, MAX_PARTITION_SERIES).map((p) => p.key))
}
