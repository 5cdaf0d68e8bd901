import { describe, expect, test } from "bun:test"
import path from "node:path"
import { RpcError } from "./json-rpc.ts"
import { parseMonitoringParams, total } from "./monitoring.ts"

/** What a pyglidein 1.1 client sends (captured shape: golden client monitoring_payloads). */
const V11 = {
  uuid: "golden-uuid@harness",
  timestamp: 1763726400,
  metrics: {
    avg_idle_time: { Cluster: 0 },
    glideins_idle: { Cluster: 0 },
    glideins_launched: { Cluster: 2 },
    glideins_running: { Cluster: 3 },
    max_idle_time: { Cluster: 0 },
    min_idle_time: { Cluster: 86400000000000 },
  },
}

function invalid(params: unknown): string {
  try {
    parseMonitoringParams(params)
  } catch (error) {
    if (error instanceof RpcError && error.code === -32602) return error.message
    throw error
  }
  throw new Error("accepted")
}

describe("parseMonitoringParams()", () => {
  test("reads the v1.1 shape, keeping pyglidein's huge 'no idle jobs' time", () => {
    const report = parseMonitoringParams(V11)
    expect(report.uuid).toBe("golden-uuid@harness")
    expect(report.clientTime).toBe(1763726400)
    expect(report.metrics.glideins_running).toEqual({ Cluster: 3 })
    expect(report.metrics.min_idle_time).toEqual({ Cluster: 86400000000000 })
    expect(total(report, "glideins_launched")).toBe(2)
  })

  test("reads the pre-1.1 flat shape, numbers filed under Cluster as pyglidein did", () => {
    const report = parseMonitoringParams({
      uuid: "old@client",
      glideins_running: 4,
      glideins_idle: { gpu: 1, cpu: 2 },
      glideins_launched: 0,
      something_else: "ignored",
    })
    expect(report.clientTime).toBeNull()
    expect(report.metrics.glideins_running).toEqual({ Cluster: 4 })
    expect(report.metrics.glideins_idle).toEqual({ gpu: 1, cpu: 2 })
    expect(report.metrics.avg_idle_time).toEqual({})
  })

  test("truncates fractions as pyglidein's int() did", () => {
    const report = parseMonitoringParams({ ...V11, metrics: { glideins_running: { a: 2.9 } } })
    expect(report.metrics.glideins_running).toEqual({ a: 2 })
  })

  test("drops a partition named __proto__ without touching any prototype", () => {
    const report = parseMonitoringParams({
      uuid: "x",
      timestamp: 1,
      metrics: JSON.parse('{"glideins_running":{"__proto__":{"polluted":1},"a":1}}'),
    })
    expect(Object.entries(report.metrics.glideins_running)).toEqual([["a", 1]])
    expect(Object.getPrototypeOf(report.metrics.glideins_running)).toBe(Object.prototype)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  test("refuses what pyglidein answered with a 500 or stored and then crashed on", () => {
    expect(invalid(undefined)).toBe("params: expected an object with uuid and metrics")
    expect(invalid([1, 2])).toBe("params: expected an object with uuid and metrics")
    expect(invalid({})).toBe("params.uuid: expected the client's id (a string)")
    expect(invalid({ uuid: 42 })).toBe("params.uuid: expected the client's id (a string)")
    expect(invalid({ uuid: "" })).toBe("params.uuid: expected the client's id, got an empty string")
    expect(invalid({ uuid: "a\nb" })).toBe(
      "params.uuid: must not contain control or format characters",
    )
    expect(invalid({ uuid: "x".repeat(201) })).toBe("params.uuid: longer than 200 characters")
    expect(invalid({ ...V11, timestamp: "yesterday" })).toBe(
      "params.timestamp: expected seconds since 1970",
    )
    expect(invalid({ ...V11, timestamp: 1e20 })).toBe(
      "params.timestamp: expected seconds since 1970 (a realistic date)",
    )
    expect(invalid({ ...V11, metrics: 5 })).toBe("params.metrics: expected an object of metrics")
    expect(invalid({ ...V11, metrics: { glideins_running: { Cluster: -1 } } })).toBe(
      "params.metrics.glideins_running.Cluster: expected a number of glideins ≥ 0",
    )
    expect(invalid({ ...V11, metrics: { glideins_idle: "3" } })).toBe(
      "params.metrics.glideins_idle: expected a number or an object of numbers by partition",
    )
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`p${i}`, 1]))
    expect(invalid({ ...V11, metrics: { glideins_running: many } })).toBe(
      "params.metrics.glideins_running: more than 64 partitions",
    )
  })

  test("refuses counts too large to sum exactly, and names that are not plain text", () => {
    // 64 partitions of 1e308 summed to Infinity, stored, then served as null in /api/clients.
    expect(invalid({ ...V11, metrics: { glideins_running: { a: 1e308 } } })).toBe(
      "params.metrics.glideins_running.a: expected a number of glideins ≤ 1000000",
    )
    expect(
      parseMonitoringParams({ ...V11, metrics: { glideins_idle: 1e6 } }).metrics.glideins_idle,
    ).toEqual({ Cluster: 1e6 })
    // Idle times are not summed: pyglidein's 8.64e13 "none" and larger finite values pass.
    expect(
      parseMonitoringParams({ ...V11, metrics: { max_idle_time: { a: 1e308 } } }).metrics
        .max_idle_time,
    ).toEqual({ a: 1e308 })
    for (const uuid of [
      "evil\u202Egnp.exe",
      "zero\u200Bwidth",
      "lone \uD800 surrogate",
      "\uE000",
    ]) {
      expect(invalid({ uuid })).toBe("params.uuid: must not contain control or format characters")
    }
    expect(invalid({ ...V11, metrics: { glideins_idle: { "a\u202Eb": 1 } } })).toBe(
      "params.metrics.glideins_idle.a\u202Eb: must not contain control or format characters",
    )
    expect(invalid({ ...V11, metrics: { glideins_idle: { gpu: "2" } } })).toBe(
      "params.metrics.glideins_idle.gpu: expected a number of glideins",
    )
    expect(parseMonitoringParams({ uuid: "Jörg@login.ümlaut.de ⚛" }).uuid).toBe(
      "Jörg@login.ümlaut.de ⚛",
    )
  })
})

test("a submit run, which encodes reports with this module, loads no classic zod", async () => {
  // Classic zod costs every cron run milliseconds; zod/mini is what submit's schemas use.
  const built = await Bun.build({
    entrypoints: [path.join(import.meta.dir, "../cli/submit.ts")],
    target: "bun",
    metafile: true,
    throw: false,
  })
  expect(built.logs).toEqual([])
  const loaded = Object.keys(built.metafile?.inputs ?? {})
  expect(loaded.some((file) => file.endsWith("protocol/monitoring.ts"))).toBe(true)
  expect(loaded.filter((file) => file.includes("zod/v4/classic"))).toEqual([])
})
