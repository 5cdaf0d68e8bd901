/**
 * Every message both sides speak, encoded by one side and decoded by the other: the server
 * (`createApp()` through `app.request()`, no socket) answers what the client's encoders
 * produce, and the client's decoders read what the server answers — and pyglidein's forms
 * both ways: its client's requests and reports, and its server's `get_state` reply.
 */
import { afterEach, describe, expect, test } from "bun:test"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import path from "node:path"
import { partition } from "../allotment/test-fixtures.ts"
import { parseJsonBounded } from "../client/lib/parse-json-bounded.ts"
import type { DemandSnapshot } from "../demand/index.ts"
import { createApp } from "../server/app.ts"
import { handleJsonRpc, type RpcMethod } from "../server/json-rpc.ts"
import { ReportStore } from "../server/report-store.ts"
import { parseTokens } from "../server/tokens.ts"
import { demandSnapshot } from "../test-support.ts"
import {
  ALLOTMENT_METHOD,
  AllotmentParamsSchema,
  AllotmentSchema,
  allotmentParams,
  partitionsOf,
} from "./allotment.ts"
import { ApiClientsSchema, ApiStateSchema } from "./api.ts"
import { DEMAND_LIMITS, type DemandRow, parseDemand } from "./demand.ts"
import {
  decodeResponse,
  encodeError,
  encodeRequest,
  encodeResult,
  RPC_CODES,
  RpcError,
  type RpcResponse,
} from "./json-rpc.ts"
import { emptyMetrics, monitoringParams, parseMonitoringParams } from "./monitoring.ts"

const GOLDEN = path.resolve(import.meta.dir, "../..", "../shared/golden")
const HAVE_GOLDEN = existsSync(GOLDEN)
if (!HAVE_GOLDEN)
  console.warn(`protocol round-trip: pyglidein's captures skipped, ${GOLDEN} is absent`)

const NOW = Date.UTC(2026, 10, 21, 12, 0, 0)
const ROWS: DemandRow[] = [
  { cpus: 1, memory: 4000, disk: 10000, gpus: 0, os: "el9", count: 120 },
  { cpus: 8, memory: 64000, disk: 100000, gpus: 0, os: null, count: 5 },
  { cpus: 1, memory: 12000, disk: 3146, gpus: 1, os: null, count: 7 },
]
const TOKENS = "alberta s3cr3t-token-alberta-0001\n"

const stores: ReportStore[] = []
afterEach(() => {
  for (const s of stores.splice(0)) s.close()
})

/** The server as `glidein serve` builds it, over an in-memory store. */
function server(options: { demand?: DemandSnapshot; tokens?: string } = {}) {
  const store = ReportStore.open(":memory:")
  stores.push(store)
  const app = createApp({
    demand: () => options.demand ?? demandSnapshot(ROWS, NOW - 60_000),
    store,
    tokens: options.tokens ? parseTokens(options.tokens, "tokens") : undefined,
    log: () => {},
    version: "test",
    delayMs: 300_000,
    now: () => NOW,
  })
  /** Posts one body to /jsonrpc; the reply as the client reads it (bounded parse, then decode). */
  const call = async (body: string, headers: Record<string, string> = {}) => {
    const res = await app.request("/jsonrpc", { method: "POST", body, headers })
    const text = await res.text()
    return { status: res.status, text, reply: decodeResponse(parseJsonBounded(text)) }
  }
  const get = async (route: string) => (await app.request(route)).json()
  return { store, call, get }
}

/** The result of a reply that must be one. */
function resultOf(reply: RpcResponse): unknown {
  if (reply.kind !== "result") throw new Error(`expected a result, got ${JSON.stringify(reply)}`)
  return reply.result
}

/** What pyglidein's client makes of a reply: any `error` member fails, else `result`. */
function pyglideinReads(text: string): { failed: unknown } | { result: unknown } {
  const data = JSON.parse(text) as Record<string, unknown>
  return "error" in data ? { failed: data.error } : { result: data.result }
}

/** pyglidein's request: its client counts ids from 0. */
const pyglideinRequest = (method: string, params: unknown, id = 0) =>
  JSON.stringify({ jsonrpc: "2.0", method, params, id })

describe("get_state", () => {
  test("the server's table decodes on the client row for row", async () => {
    const { call } = server()
    const { status, reply } = await call(encodeRequest("get_state", {}, 1))
    expect(status).toBe(200)
    expect(parseDemand(resultOf(reply), "server")).toEqual({ rows: ROWS })
  })

  test("a table at the protocol's bounds is served and taken whole", async () => {
    const edge: DemandRow = {
      cpus: DEMAND_LIMITS.cpus,
      memory: DEMAND_LIMITS.memory,
      disk: DEMAND_LIMITS.disk,
      gpus: DEMAND_LIMITS.gpus,
      os: "A".repeat(32),
      count: DEMAND_LIMITS.count,
    }
    const { call } = server({ demand: demandSnapshot([edge], NOW) })
    const { reply } = await call(encodeRequest("get_state", {}, 2))
    expect(parseDemand(resultOf(reply), "server")).toEqual({ rows: [edge] })
  })

  test("pyglidein's client reads our get_state as its own server's", async () => {
    const { call } = server()
    const { text } = await call(pyglideinRequest("get_state", {}))
    expect(pyglideinReads(text)).toEqual({ result: ROWS })
    expect(JSON.parse(text).id).toBe(0)
  })

  test("pyglidein's server reply, fractional disk and all, decodes with disk rounded up", () => {
    // pyglidein divides RequestDisk (KiB) by 1000 and writes floats; undefined disk stays 10000.
    const text =
      '{"jsonrpc":"2.0","result":[{"cpus":1,"memory":12000,"disk":3145.728,"gpus":1,"os":null,"count":34},{"cpus":2,"memory":2000,"disk":40000.0,"gpus":1,"os":"sl6","count":512},{"cpus":1,"memory":1000,"disk":10000,"gpus":0,"os":null,"count":32}],"id":1}'
    expect(parseDemand(resultOf(decodeResponse(parseJsonBounded(text))), "pyglidein")).toEqual({
      rows: [
        { cpus: 1, memory: 12000, disk: 3146, gpus: 1, os: null, count: 34 },
        { cpus: 2, memory: 2000, disk: 40000, gpus: 1, os: "sl6", count: 512 },
        { cpus: 1, memory: 1000, disk: 10000, gpus: 0, os: null, count: 32 },
      ],
    })
  })

  test.skipIf(!HAVE_GOLDEN)(
    "pyglidein's captured get_state reply (10,000 jobs) decodes whole",
    () => {
      const file = path.join(GOLDEN, "pyglidein-server/live_get_state_N10000_long_seed1.json")
      const sent = JSON.parse(readFileSync(file, "utf8")).result as DemandRow[]
      const { rows, skipped } = parseDemand(
        resultOf(decodeResponse(parseJsonBounded(readFileSync(file, "utf8")))),
        file,
      )
      expect(skipped).toBeUndefined()
      expect(rows.map((r) => r.count)).toEqual(sent.map((r) => r.count))
      expect(rows.map((r) => r.disk)).toEqual(sent.map((r) => Math.ceil(r.disk)))
      expect(rows.reduce((n, r) => n + r.count, 0)).toBe(10_000)
    },
  )

  test("before the first poll, -32000 reaches the client with its reason", async () => {
    const { call } = server({ demand: demandSnapshot(null, NOW) })
    const { status, reply } = await call(encodeRequest("get_state", {}, 3))
    expect(status).toBe(503)
    expect(reply).toEqual({
      kind: "error",
      code: RPC_CODES.notReady,
      message: "no demand table yet: the first poll has not finished",
      error: {
        code: RPC_CODES.notReady,
        message: "no demand table yet: the first poll has not finished",
      },
    })
  })
})

describe("/api", () => {
  test("/api/state decodes with the protocol's schema, and its rows as a state file's", async () => {
    const { get } = server()
    const state = ApiStateSchema.parse(await get("/api/state"))
    expect(state).toMatchObject({ jobs: 132, source: "condor_q", age_s: 60 })
    expect(parseDemand(state.rows, "state file")).toEqual({ rows: ROWS })
  })

  test("/api/clients decodes with the protocol's schema and holds the reports sent", async () => {
    const { call, get } = server()
    const report = monitoringParams("site@login/cpu", new Date(NOW), [
      { partition: "cpu", running: 3, idle: 1, launched: 2 },
    ])
    await call(encodeRequest("monitoring", report, 1))
    const clients = ApiClientsSchema.parse(await get("/api/clients"))
    expect(clients.clients).toMatchObject([
      { uuid: "site@login/cpu", running: 3, idle: 1, launched: 2, client_timestamp: NOW / 1000 },
    ])
  })
})

describe("monitoring", () => {
  test("the tarball's token expiry travels with the report and is stored with it", async () => {
    const expires = NOW / 1000 + 86_400
    const sent = monitoringParams(
      "site@login/cpu",
      new Date(NOW),
      [{ partition: "cpu", launched: 0 }],
      expires,
    )
    expect(sent.metrics.token_expires).toEqual({ tarball: expires })
    const { call, store } = server()
    await call(encodeRequest("monitoring", JSON.parse(JSON.stringify(sent)), 5))
    expect(store.clients()[0]?.metrics.token_expires).toEqual({ tarball: expires })
    // Without a token that expires, the report says nothing of it.
    expect(monitoringParams("s", new Date(NOW), []).metrics.token_expires).toBeUndefined()
  })

  test("the client's report is read by the server as sent, uncounted partitions included", async () => {
    const sent = monitoringParams("site@login/cpu", new Date(NOW + 999), [
      { partition: "cpu", running: 3, idle: 1, launched: 2 },
      { partition: "gpu", launched: 1 },
    ])
    expect(parseMonitoringParams(JSON.parse(JSON.stringify(sent)))).toEqual({
      uuid: "site@login/cpu",
      clientTime: NOW / 1000,
      metrics: {
        ...emptyMetrics(),
        glideins_running: { cpu: 3 },
        glideins_idle: { cpu: 1 },
        glideins_launched: { cpu: 2, gpu: 1 },
        count_failed: { gpu: 1 },
      },
    })
    const { call, store } = server()
    const { reply } = await call(encodeRequest("monitoring", sent, 4))
    // pyglidein's server answered "", and its clients expect nothing else.
    expect(reply).toEqual({ kind: "result", result: "" })
    expect(store.clients()).toMatchObject([
      { uuid: "site@login/cpu", running: 3, idle: 1, launched: 3, clientTime: NOW / 1000 },
    ])
  })

  test("pyglidein 1.1's report, with its 'no idle jobs' time, is stored and acknowledged", async () => {
    const { call, store } = server()
    const bundle = {
      uuid: "ice3simprod@condor00.umd.edu",
      timestamp: 1763726400,
      metrics: {
        avg_idle_time: { Cluster: 0 },
        glideins_idle: { Cluster: 0, cpu: 0, gpu: 0 },
        glideins_launched: { Cluster: 0, cpu: 5, gpu: 1 },
        glideins_running: { Cluster: 0, cpu: 0, gpu: 0 },
        max_idle_time: { Cluster: 0 },
        min_idle_time: { Cluster: 86400000000000 },
      },
    }
    const { text } = await call(pyglideinRequest("monitoring", bundle))
    expect(pyglideinReads(text)).toEqual({ result: "" })
    expect(store.clients()).toMatchObject([
      { uuid: bundle.uuid, launched: 6, clientTime: 1763726400 },
    ])
    expect(store.clients()[0]?.metrics.min_idle_time).toEqual({ Cluster: 86400000000000 })
  })

  test("a pre-1.1 pyglidein report, metrics at the top level, is read with numbers as Cluster", () => {
    expect(
      parseMonitoringParams({ uuid: "old@client", glideins_running: 4, glideins_idle: { gpu: 1 } })
        .metrics,
    ).toEqual({ ...emptyMetrics(), glideins_running: { Cluster: 4 }, glideins_idle: { gpu: 1 } })
  })

  test.skipIf(!HAVE_GOLDEN)(
    "every report pyglidein's client sent in the captures is read whole",
    () => {
      const root = path.join(GOLDEN, "pyglidein-client")
      let read = 0
      for (const config of readdirSync(root)) {
        const dir = path.join(root, config)
        if (!existsSync(path.join(dir, "config.used"))) continue
        for (const state of readdirSync(dir).filter((s) => /^s\d/.test(s))) {
          const result = JSON.parse(readFileSync(path.join(dir, state, "result.json"), "utf8"))
          for (const payload of result.monitoring_payloads as Record<string, unknown>[]) {
            // The captures blank the clock out; any real one is seconds since 1970.
            const report = parseMonitoringParams({ ...payload, timestamp: 1763726400 })
            const metrics = payload.metrics as Record<string, Record<string, number>>
            for (const [name, byPartition] of Object.entries(metrics)) {
              expect(report.metrics[name as keyof typeof report.metrics]).toEqual(byPartition)
            }
            read++
          }
        }
      }
      expect(read).toBeGreaterThan(100)
    },
  )

  test("a refused report reaches both clients as an error, with its code for ours", async () => {
    const { call } = server({ tokens: TOKENS })
    const sent = monitoringParams("site", new Date(NOW), [{ partition: "a", launched: 0 }])
    const { status, text, reply } = await call(encodeRequest("monitoring", sent, 5))
    expect(status).toBe(401)
    expect(reply).toMatchObject({ kind: "error", code: RPC_CODES.unauthorized })
    expect(pyglideinReads(text)).toHaveProperty("failed")
    const bad = await call(encodeRequest("monitoring", { uuid: 5 }, 6), {
      authorization: "Bearer s3cr3t-token-alberta-0001",
    })
    expect(bad.reply).toMatchObject({ kind: "error", code: RPC_CODES.invalidParams })
    expect(JSON.parse(bad.text).error.data).toBe("params.uuid: expected the client's id (a string)")
  })
})

describe("get_allotment", () => {
  const partitions = [
    {
      policy: partition({
        name: "cpu",
        os: "el9",
        wholeNode: { cpus: 64, memory: 256000, disk: 1e6 },
      }),
      counts: { running: 4, idle: 1, held: 2 },
    },
    {
      policy: partition({
        name: "gpu",
        scheduler: "htcondor",
        gpuOnly: true,
        prioritize: ["gpus"],
      }),
      counts: { running: 0, idle: 0 },
    },
  ]

  test("the client's params decode on the server to the partitions it described", () => {
    const sent = JSON.parse(JSON.stringify(allotmentParams("site@login/x", partitions, true)))
    const params = AllotmentParamsSchema.parse(sent)
    expect(params).toMatchObject({ uuid: "site@login/x", dry_run: true })
    // Wall time sizes nothing the server decides, so it does not travel.
    expect(partitionsOf(params)).toEqual(
      partitions.map((p) => ({ ...p, policy: { ...p.policy, walltimeHours: 0 } })),
    )
    expect(AllotmentParamsSchema.parse(allotmentParams("s", partitions, false)).dry_run).toBe(
      undefined,
    )
  })

  test("the server's allotment decodes on the client as it was sent", async () => {
    const { call } = server()
    const { status, text, reply } = await call(
      encodeRequest(ALLOTMENT_METHOD, allotmentParams("site@login/x", partitions, false), 7),
    )
    expect(status).toBe(200)
    const allotment = AllotmentSchema.parse(resultOf(reply))
    expect(allotment).toEqual(JSON.parse(text).result)
    expect(allotment).toMatchObject({ uuid: "site@login/x", at: NOW })
    expect(allotment.partitions.map((p) => p.partition)).toEqual(["cpu", "gpu"])
    expect(allotment.total).toBeGreaterThan(0)
  })

  test("a server without the method answers -32601, the client's cue to plan as before", () => {
    // A server from before get_allotment: the same dispatcher, only the older methods.
    const older: Record<string, RpcMethod<object>> = {
      get_state: () => ROWS,
      monitoring: () => "",
    }
    const body = encodeRequest(ALLOTMENT_METHOD, allotmentParams("s", partitions, false), 8)
    const { status, body: text } = handleJsonRpc(body, older, {})
    expect(status).toBe(400)
    expect(decodeResponse(JSON.parse(text ?? ""))).toMatchObject({
      kind: "error",
      code: RPC_CODES.methodNotFound,
      message: "Method not found",
    })
  })
})

describe("errors", () => {
  test("every code a method throws reaches the client with that code", () => {
    for (const code of Object.values(RPC_CODES)) {
      const methods = {
        fail: () => {
          throw new RpcError(code, "the reason")
        },
      }
      const { body } = handleJsonRpc(encodeRequest("fail", undefined, 9), methods, {})
      const reply = decodeResponse(JSON.parse(body ?? ""))
      expect(reply).toMatchObject({ kind: "error", code })
      // Standard codes keep the specification's message and carry the reason as data.
      const error = (reply as { error: { message: string; data?: string } }).error
      expect(error.data ?? error.message).toBe("the reason")
    }
  })

  test("an error object decodes to its code and message; a lone error value stays as sent", () => {
    expect(decodeResponse(JSON.parse(encodeError(1, -32099, "custom")))).toEqual({
      kind: "error",
      code: -32099,
      message: "custom",
      error: { code: -32099, message: "custom" },
    })
    expect(decodeResponse({ jsonrpc: "2.0", error: "boom", id: 1 })).toEqual({
      kind: "error",
      error: "boom",
    })
    expect(decodeResponse({ jsonrpc: "2.0", error: { code: "x" }, id: 1 })).toEqual({
      kind: "error",
      error: { code: "x" },
    })
  })

  test("a null error member is no error, and a body with neither is no response", () => {
    expect(decodeResponse({ jsonrpc: "2.0", error: null, result: [1], id: 1 })).toEqual({
      kind: "result",
      result: [1],
    })
    expect(decodeResponse(JSON.parse(encodeResult(null, "null")))).toEqual({
      kind: "result",
      result: null,
    })
    expect(decodeResponse({ jsonrpc: "2.0", id: 1 })).toEqual({
      kind: "malformed",
      problem: "has neither result nor error",
    })
    for (const body of [[], "x", 5, null]) {
      expect(decodeResponse(body)).toEqual({
        kind: "malformed",
        problem: "is not a JSON-RPC response",
      })
    }
  })

  test("a request the client encodes without params reaches the method as no params", () => {
    let seen: unknown = "not called"
    const methods = {
      look: (params: unknown) => {
        seen = params
        return "ok"
      },
    }
    expect(encodeRequest("look", undefined, 1)).toBe('{"jsonrpc":"2.0","method":"look","id":1}')
    const { body } = handleJsonRpc(encodeRequest("look", undefined, 1), methods, {})
    expect(seen).toBeUndefined()
    expect(decodeResponse(JSON.parse(body ?? ""))).toEqual({ kind: "result", result: "ok" })
  })
})
