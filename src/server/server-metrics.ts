/**
 * What `glidein serve` counts about itself for `/metrics`: polls and their duration, reports
 * stored and refused, JSON-RPC requests by method, and the process (memory, CPU, open files).
 * Counters only ever grow; Prometheus takes rates of them.
 */
import { readdirSync } from "node:fs"
import type { DemandSource } from "../demand/index.ts"
import { RPC_CODES, RpcError } from "../protocol/json-rpc.ts"
import type { RpcMethod } from "./json-rpc.ts"
import { collector, labels } from "./prometheus.ts"

/** Upper bounds (s) of the poll-duration histogram: a small pool answers in a second, -global over a big one in minutes. */
const POLL_BUCKETS_S = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600]

/** Why a report was refused, as the label of `glidein_reports_refused_total`: its error's name. */
const REFUSAL_REASONS = new Map<number, string>(
  Object.entries(RPC_CODES).map(([name, code]) => [
    code,
    name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
  ]),
)

/** When this process started (s since the epoch): Bun's time origin is its start. */
const START_TIME_S = performance.timeOrigin / 1000

/** The counters of one server; `serve` makes one and hands it to the poller and the app. */
export class ServerMetrics {
  polls = 0
  pollFailures = 0
  /** Poll durations: count per bucket of POLL_BUCKETS_S (cumulative when rendered), sum in s. */
  private readonly pollBuckets = POLL_BUCKETS_S.map(() => 0)
  private pollSeconds = 0
  reports = 0
  private readonly refused = new Map<string, number>()
  /** get_state calls: a plain field, counted on the hot path (replies from the cache too). */
  getStateCalls = 0
  private readonly calls = new Map<string, number>()

  /** `source`, timed and counted: each call is one poll, a rejection a failed one. */
  timePolls(source: DemandSource): DemandSource {
    return async (signal) => {
      const started = performance.now()
      try {
        return await source(signal)
      } catch (error) {
        this.pollFailures++
        throw error
      } finally {
        this.recordPoll((performance.now() - started) / 1000)
      }
    }
  }

  /**
   * `methods`, each call counted by its name (get_state in `getStateCalls`), and each
   * `monitoring` call as a stored or a refused report.
   */
  counted<C>(methods: Record<string, RpcMethod<C>>): Record<string, RpcMethod<C>> {
    const wrap = (name: string, method: RpcMethod<C>): RpcMethod<C> => {
      if (name === "get_state") {
        return (params, context) => {
          this.getStateCalls++
          return method(params, context)
        }
      }
      return (params, context) => {
        this.calls.set(name, (this.calls.get(name) ?? 0) + 1)
        if (name !== "monitoring") return method(params, context)
        try {
          const result = method(params, context)
          this.reports++
          return result
        } catch (error) {
          this.recordRefusal(error)
          throw error
        }
      }
    }
    return Object.fromEntries(Object.entries(methods).map(([name, m]) => [name, wrap(name, m)]))
  }

  /** Counts one poll that took `seconds`. */
  recordPoll(seconds: number): void {
    this.polls++
    this.pollSeconds += seconds
    const i = POLL_BUCKETS_S.findIndex((le) => seconds <= le)
    if (i !== -1) this.pollBuckets[i] = (this.pollBuckets[i] ?? 0) + 1
  }

  /** Counts a refused report under the reason its JSON-RPC error code names. */
  recordRefusal(error: unknown): void {
    const reason =
      error instanceof RpcError ? (REFUSAL_REASONS.get(error.code) ?? "error") : "error"
    this.refused.set(reason, (this.refused.get(reason) ?? 0) + 1)
  }

  /** The counters, build and process metrics in Prometheus text format (a few dozen lines). */
  render(version: string): string {
    const { out, metric } = collector()
    metric("glidein_build_info", "gauge", "1, labelled with the version glidein serve runs.", [
      `glidein_build_info${labels({ version: version.replace(/["\\\n]/g, "_"), bun: Bun.version })} 1`,
    ])
    metric("glidein_demand_polls_total", "counter", "condor_q polls finished, good or not.", [
      `glidein_demand_polls_total ${this.polls}`,
    ])
    metric(
      "glidein_demand_poll_failures_total",
      "counter",
      "condor_q polls that failed (the last good table was kept).",
      [`glidein_demand_poll_failures_total ${this.pollFailures}`],
    )
    let cumulative = 0
    const buckets = POLL_BUCKETS_S.map((le, i) => {
      cumulative += this.pollBuckets[i] ?? 0
      return `glidein_demand_poll_duration_seconds_bucket{le="${le}"} ${cumulative}`
    })
    metric("glidein_demand_poll_duration_seconds", "histogram", "How long condor_q polls took.", [
      ...buckets,
      `glidein_demand_poll_duration_seconds_bucket{le="+Inf"} ${this.polls}`,
      `glidein_demand_poll_duration_seconds_sum ${this.pollSeconds.toFixed(3)}`,
      `glidein_demand_poll_duration_seconds_count ${this.polls}`,
    ])
    metric("glidein_reports_total", "counter", "Monitoring reports stored.", [
      `glidein_reports_total ${this.reports}`,
    ])
    metric(
      "glidein_reports_refused_total",
      "counter",
      "Monitoring reports refused, by the name of the JSON-RPC error sent (invalid_params, unauthorized, not_stored, …).",
      [...this.refused].map(
        ([reason, n]) => `glidein_reports_refused_total${labels({ reason })} ${n}`,
      ),
    )
    metric("glidein_rpc_requests_total", "counter", "JSON-RPC calls by method.", [
      `glidein_rpc_requests_total{method="get_state"} ${this.getStateCalls}`,
      ...[...this.calls].map(
        ([method, n]) => `glidein_rpc_requests_total${labels({ method })} ${n}`,
      ),
    ])
    const cpu = process.cpuUsage()
    metric("process_cpu_seconds_total", "counter", "User and system CPU time spent.", [
      `process_cpu_seconds_total ${((cpu.user + cpu.system) / 1e6).toFixed(3)}`,
    ])
    metric("process_resident_memory_bytes", "gauge", "Resident memory size.", [
      `process_resident_memory_bytes ${process.memoryUsage.rss()}`,
    ])
    metric("process_start_time_seconds", "gauge", "When the process started.", [
      `process_start_time_seconds ${START_TIME_S.toFixed(3)}`,
    ])
    const fds = openFds()
    if (fds !== null) {
      metric("process_open_fds", "gauge", "Open file descriptors.", [`process_open_fds ${fds}`])
    }
    return `${out.join("\n")}\n`
  }
}

/** Open file descriptors (Linux: /proc/self/fd), or null where that cannot be read. */
function openFds(): number | null {
  try {
    // One entry is the directory handle readdir itself holds.
    return readdirSync("/proc/self/fd").length - 1
  } catch {
    return null
  }
}
