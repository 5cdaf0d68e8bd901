/**
 * @module
 * The `monitoring` call: the report a site sends after each run, and how a server reads it.
 * Two shapes are on the wire: pyglidein ≥ 1.1 (and `glidein submit`) sends
 * `{uuid, timestamp, metrics: {name: {partition: n}}}`; older pyglidein clients sent the
 * metrics at the top level, each a number or `{partition: n}`. A server answers `""`.
 */
import { z } from "zod/mini"
import { RPC_CODES, RpcError } from "./json-rpc.ts"

/** The metrics pyglidein clients report (anything else in a report is ignored, as pyglidein did). */
export const METRIC_NAMES = [
  "glideins_running",
  "glideins_idle",
  "glideins_launched",
  /** 1 for each partition whose glideins the site could not count (its numbers are unknown). */
  "count_failed",
  /** When the newest valid token in the site's glidein tarball expires (Unix seconds), by
   *  tarball; absent when its pool credential does not expire (a password, a token without
   *  `exp`). The server warns before glideins stop joining. */
  "token_expires",
  "avg_idle_time",
  "min_idle_time",
  "max_idle_time",
] as const

export type MetricName = (typeof METRIC_NAMES)[number]

/** One partition's numbers for the report; `running` and `idle` are unknown when its glideins
 *  could not be counted (then reported as `count_failed`, never as 0). */
export interface PartitionReport {
  partition: string
  running?: number
  idle?: number
  launched: number
}

/**
 * The `monitoring` params `glidein submit` sends. pyglidein's idle-time metrics are left
 * out: they needed a queue-time query per scheduler (and the htcondor Python bindings), and a
 * made-up zero would read as a measurement.
 */
export interface MonitoringParams {
  uuid: string
  /** Unix seconds. */
  timestamp: number
  metrics: {
    glideins_running: Record<string, number>
    glideins_idle: Record<string, number>
    glideins_launched: Record<string, number>
    /** Partitions whose glideins could not be counted; servers before it ignore it. */
    count_failed?: Record<string, number>
    /** `{tarball: seconds}`: when the tarball's token expires; servers before it ignore it. */
    token_expires?: Record<string, number>
  }
}

/** Builds the report of one round. */
export function monitoringParams(
  uuid: string,
  now: Date,
  partitions: PartitionReport[],
  tokenExpires?: number,
): MonitoringParams {
  const metrics: MonitoringParams["metrics"] = {
    glideins_running: {},
    glideins_idle: {},
    glideins_launched: {},
  }
  for (const p of partitions) {
    if (p.running === undefined || p.idle === undefined) {
      metrics.count_failed = { ...metrics.count_failed, [p.partition]: 1 }
    } else {
      metrics.glideins_running[p.partition] = p.running
      metrics.glideins_idle[p.partition] = p.idle
    }
    metrics.glideins_launched[p.partition] = p.launched
  }
  if (tokenExpires !== undefined) metrics.token_expires = { tarball: tokenExpires }
  return { uuid, timestamp: Math.floor(now.getTime() / 1000), metrics }
}

/** A report as a server reads it (either shape): per metric, a value per partition. */
export interface ClientReport {
  uuid: string
  /** The client's own clock (seconds), if it sent one. pyglidein's is skewed by its UTC bug. */
  clientTime: number | null
  metrics: Record<MetricName, Record<string, number>>
}

/** Every metric with no partition in it: what a report that says nothing holds. */
export function emptyMetrics(): ClientReport["metrics"] {
  return Object.fromEntries(METRIC_NAMES.map((name) => [name, {}])) as ClientReport["metrics"]
}

const MAX_PARTITIONS = 64
/**
 * Far above any site (pyglidein's largest configs run thousands), and small enough that a
 * site's totals stay exact integers: 1e308 in every partition summed to Infinity, which JSON
 * writes as null and the status page as "∞".
 */
const MAX_COUNT = 1_000_000
const COUNT_METRICS = new Set<string>([
  "glideins_running",
  "glideins_idle",
  "glideins_launched",
  "count_failed",
])

// zod/mini, as every schema a submit run loads: this module also carries the client's report.
const plainText = (what: string, max: number) =>
  z.string({ error: `expected ${what} (a string)` }).check(
    z.minLength(1, { error: `expected ${what}, got an empty string` }),
    z.maxLength(max, { error: `longer than ${max} characters` }),
    // \p{C}: control and format characters (bidi overrides that would reorder a site's name
    // on the page), private-use code points and lone surrogates, which are not text.
    z.regex(/^\P{C}*$/u, { error: "must not contain control or format characters" }),
  )

const uuid = plainText("the client's id", 200)
const partition = plainText("a partition name", 128)
// Idle times may be huge (pyglidein sends timedelta.max, 8.64e13 s, for "no idle jobs") or,
// through the client's clock bug, negative; counts may not.
const time = z.number({ error: "expected a number of seconds" })
const count = z
  .number({ error: "expected a number of glideins" })
  .check(
    z.gte(0, { error: "expected a number of glideins ≥ 0" }),
    z.lte(MAX_COUNT, { error: `expected a number of glideins ≤ ${MAX_COUNT}` }),
  )

function metricValue(name: string) {
  const value = COUNT_METRICS.has(name) ? count : time
  return z.union(
    [
      value,
      z.record(partition, value).check(
        z.refine((r) => Object.keys(r).length <= MAX_PARTITIONS, {
          error: `more than ${MAX_PARTITIONS} partitions`,
        }),
      ),
    ],
    { error: "expected a number or an object of numbers by partition" },
  )
}

const metricsShape = Object.fromEntries(
  METRIC_NAMES.map((name) => [name, z.optional(metricValue(name))]),
) as Record<MetricName, z.ZodMiniOptional<ReturnType<typeof metricValue>>>

const v11 = z.object({
  uuid,
  timestamp: z
    .number({ error: "expected seconds since 1970" })
    .check(
      z.gte(0, { error: "expected seconds since 1970 (≥ 0)" }),
      z.lte(1e11, { error: "expected seconds since 1970 (a realistic date)" }),
    ),
  metrics: z.object(metricsShape, { error: "expected an object of metrics" }),
})

const pre11 = z.object({ uuid, ...metricsShape })

/** "params.metrics.glideins_running.Cluster: expected …" for the first problem zod found. */
function describe(error: z.core.$ZodError): string {
  let issue: z.core.$ZodIssue | undefined = error.issues[0]
  if (issue === undefined) return "params: invalid"
  const path: PropertyKey[] = [...issue.path]
  // A metric is a number or an object by partition: when it is an object, the object's own
  // complaint names the partition ("….glideins_idle.gpu: expected a number of glideins").
  while (issue.code === "invalid_union") {
    const inner: z.core.$ZodIssue | undefined = issue.errors
      .map((branch) => branch[0])
      .find((first) => first !== undefined && first.path.length > 0)
    if (inner === undefined) break
    path.push(...inner.path)
    issue = inner
  }
  const message =
    issue.code === "invalid_key" ? (issue.issues[0]?.message ?? issue.message) : issue.message
  return `${["params", ...path.map(String)].join(".")}: ${message}`
}

/** Validates monitoring params (either shape) into a report; throws RpcError -32602. */
export function parseMonitoringParams(params: unknown): ClientReport {
  if (typeof params !== "object" || params === null || Array.isArray(params)) {
    throw new RpcError(RPC_CODES.invalidParams, "params: expected an object with uuid and metrics")
  }
  const isV11 = "timestamp" in params && "metrics" in params
  const parsed = (isV11 ? v11 : pre11).safeParse(params)
  if (!parsed.success) throw new RpcError(RPC_CODES.invalidParams, describe(parsed.error))
  const data = parsed.data
  const source: Partial<Record<MetricName, number | Record<string, number>>> =
    "metrics" in data ? data.metrics : data
  const metrics = emptyMetrics()
  for (const name of METRIC_NAMES) {
    const value = source[name]
    if (value === undefined) continue
    // A bare number is the old clients' single-partition form; pyglidein filed it as "Cluster".
    const byPartition = typeof value === "number" ? { Cluster: value } : value
    metrics[name] = Object.fromEntries(
      Object.entries(byPartition).map(([p, v]) => [p, Math.trunc(v)]),
    )
  }
  return {
    uuid: data.uuid,
    clientTime: "timestamp" in data ? data.timestamp : null,
    metrics,
  }
}

/** Sum over partitions of one metric. */
export function total(report: Pick<ClientReport, "metrics">, name: MetricName): number {
  let sum = 0
  for (const v of Object.values(report.metrics[name])) sum += v
  return sum
}

/** The partitions a report says could not be counted, sorted. */
export function countFailed(report: Pick<ClientReport, "metrics">): string[] {
  return Object.entries(report.metrics.count_failed)
    .filter(([, n]) => n > 0)
    .map(([p]) => p)
    .sort()
}
