import { describe, expect, test } from "bun:test"
import { demandSnapshot } from "../test-support.ts"
import { createApp } from "./app.ts"
import { ReportStore } from "./report-store.ts"
import { ServerMetrics } from "./server-metrics.ts"
import { TEST_ROWS } from "./test-server.ts"

/** The value of the sample `series` (name and labels as written), or undefined. */
function value(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

describe("ServerMetrics", () => {
  test("timePolls() counts every poll, the failed ones, and their durations", async () => {
    const metrics = new ServerMetrics()
    let fail = false
    const source = metrics.timePolls(async () => {
      if (fail) throw new Error("condor_q exited with status 1")
      return { rows: [], jobs: 0, badLines: 0, firstBad: null } as never
    })
    const signal = new AbortController().signal
    await source(signal)
    fail = true
    await expect(source(signal)).rejects.toThrow("status 1")
    const text = metrics.render("1.2.3")
    expect(value(text, "glidein_demand_polls_total")).toBe(2)
    expect(value(text, "glidein_demand_poll_failures_total")).toBe(1)
    expect(value(text, "glidein_demand_poll_duration_seconds_count")).toBe(2)
    expect(value(text, 'glidein_demand_poll_duration_seconds_bucket{le="+Inf"}')).toBe(2)
    expect(value(text, 'glidein_demand_poll_duration_seconds_bucket{le="0.1"}')).toBe(2)
    expect(text).toContain("# TYPE glidein_demand_polls_total counter")
    expect(text).toContain("# TYPE glidein_demand_poll_duration_seconds histogram")
  })

  test("renders the build and the process: memory, CPU seconds, start time, open files", () => {
    const text = new ServerMetrics().render('1.2.3"x')
    expect(text).toContain(`glidein_build_info{version="1.2.3_x",bun="${Bun.version}"} 1`)
    expect(value(text, "process_resident_memory_bytes")).toBeGreaterThan(1 << 20)
    expect(value(text, "process_cpu_seconds_total")).toBeGreaterThan(0)
    const start = value(text, "process_start_time_seconds")!
    expect(start).toBeLessThanOrEqual(Date.now() / 1000)
    expect(start).toBeGreaterThan(Date.now() / 1000 - 3600)
    expect(value(text, "process_open_fds")).toBeGreaterThan(2)
    expect(text).toContain("# TYPE process_cpu_seconds_total counter")
  })

  test("/metrics counts JSON-RPC calls by method (replies from the cache too) and reports stored and refused", async () => {
    const store = ReportStore.open(":memory:")
    const demand = demandSnapshot(TEST_ROWS, Date.now())
    const app = createApp({
      demand: () => demand,
      store,
      log: () => {},
      version: "test",
      delayMs: 300_000,
    })
    const post = (body: string) => app.request("/jsonrpc", { method: "POST", body })
    for (let i = 0; i < 3; i++) await post('{"jsonrpc":"2.0","method":"get_state","id":1}')
    await post(
      '{"jsonrpc":"2.0","method":"monitoring","params":{"uuid":"a@x","timestamp":1,"metrics":{"glideins_running":{"c":1}}},"id":2}',
    )
    await post('{"jsonrpc":"2.0","method":"monitoring","params":{"uuid":"","metrics":{}},"id":3}')
    const text = await (await app.request("/metrics")).text()
    expect(value(text, 'glidein_rpc_requests_total{method="get_state"}')).toBe(3)
    expect(value(text, 'glidein_rpc_requests_total{method="monitoring"}')).toBe(2)
    expect(value(text, "glidein_reports_total")).toBe(1)
    expect(value(text, 'glidein_reports_refused_total{reason="invalid_params"}')).toBe(1)
    expect(text).toContain("# TYPE glidein_reports_total counter")
    expect(text).toContain("# TYPE glidein_rpc_requests_total counter")
    // Every sample name ending in _total is a counter's.
    const types = new Map(
      [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!] as const),
    )
    for (const [name, type] of types) if (name.endsWith("_total")) expect(type).toBe("counter")
    store.close()
  })
})
