/**
 * The server against hostile clients, over real sockets where the socket matters: lying
 * lengths, dripping clients, raw invalid bytes, oversized and deeply nested bodies, wrong
 * types in every field, and sites whose reports carry markup, absurd numbers or sheer
 * numbers of uuids. Every case gets a JSON-RPC error (or Bun's bare HTTP 400/431 for bytes
 * that are not HTTP), nothing is stored that was refused, and the server keeps serving.
 */
import { afterEach, describe, expect, test } from "bun:test"
import { DemandPoller, parseCondorQ } from "../demand/index.ts"
import { ApiClientsSchema, ApiStateSchema } from "../protocol/api.ts"
import { DEMAND_LIMITS, parseDemand } from "../protocol/demand.ts"
import { emptyMetrics } from "../protocol/monitoring.ts"
import { seededRandom } from "../seeded-random.ts"
import { demandSnapshot } from "../test-support.ts"
import { createApp, MAX_BODY_BYTES } from "./app.ts"
import { ReportStore } from "./report-store.ts"
import { renderStatusText } from "./status-text.ts"
import {
  exchange,
  rawPost,
  rpcReplyProblem,
  startTestServer,
  TEST_ROWS,
  type TestServer,
} from "./test-server.ts"
import { parseTokens } from "./tokens.ts"

const servers: TestServer[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop()
})

function start(
  idleTimeoutS = 1,
  options: Omit<Parameters<typeof startTestServer>[0], "idleTimeoutS"> = {},
): TestServer {
  const server = startTestServer({ idleTimeoutS, ...options })
  servers.push(server)
  return server
}

const GET_STATE = '{"jsonrpc":"2.0","method":"get_state","params":{},"id":1}'

function report(uuid: unknown, metrics: unknown = { glideins_running: { Cluster: 2 } }) {
  return {
    jsonrpc: "2.0",
    method: "monitoring",
    params: { uuid, timestamp: 1763726400, metrics },
    id: 1,
  }
}

async function post(server: TestServer, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}/jsonrpc`, { method: "POST", body, headers })
  const text = await res.text()
  return { status: res.status, text, json: text === "" ? null : JSON.parse(text) }
}

/** The server still answers: get_state gives the table. */
async function stillServing(server: TestServer) {
  const reply = await post(server, GET_STATE)
  expect(reply.status).toBe(200)
  expect(reply.json.result).toEqual(TEST_ROWS)
}

describe("listen() against hostile connections", () => {
  test("answers invalid UTF-8 sent as raw bytes with a JSON-RPC parse error", async () => {
    const server = start()
    const invalid = [
      [0x22, 0xc3, 0x28, 0x22], // a broken two-byte sequence
      [0x22, 0xff, 0xfe, 0x22], // bytes that are never UTF-8
      [0x22, 0xed, 0xa0, 0x80, 0x22], // an encoded surrogate
      [0x22, 0xc0, 0xaf, 0x22], // an overlong "/"
    ]
    for (const bytes of invalid) {
      const { responses } = await exchange(server.port, [rawPost(new Uint8Array(bytes))])
      expect(responses).toHaveLength(1)
      expect(responses[0]!.status).toBe(400)
      expect(JSON.parse(responses[0]!.body).error).toEqual({
        code: -32700,
        message: "Parse error",
        data: "the body is not valid UTF-8",
      })
    }
    await stillServing(server)
  })

  test("reads a body only to its declared length: the rest is not taken for a request", async () => {
    const server = start()
    const { responses } = await exchange(server.port, [rawPost(GET_STATE, 20)])
    expect(responses[0]!.status).toBe(400)
    expect(JSON.parse(responses[0]!.body).error.code).toBe(-32700)
    expect(responses.slice(1).every((r) => r.status === 400)).toBe(true)
    await stillServing(server)
  })

  test("closes a connection that declared more than it sent, at the idle timeout, storing nothing", async () => {
    const server = start()
    const body = JSON.stringify(report("liar@site"))
    const lying = exchange(server.port, [rawPost(body, body.length + 100)])
    // While the liar waits, everyone else is served.
    await stillServing(server)
    const { text } = await lying
    expect(text).toBe("")
    expect(server.store.clients()).toEqual([])
    // A client that went away is not a server failure.
    expect(server.logged.filter((l) => l.includes("failed"))).toEqual([])
  })

  test("ends a body dripped a byte at a time at the idle timeout, and serves others meanwhile", async () => {
    const server = start()
    const body = new TextEncoder().encode(JSON.stringify(report("drip@site")))
    const head = rawPost(body).subarray(0, -body.length)
    const drips = Array.from({ length: 20 }, () =>
      exchange(server.port, [head, ...Array.from(body, (b) => new Uint8Array([b]))], 150),
    )
    for (let i = 0; i < 5; i++) await stillServing(server)
    const ended = await Promise.all(drips)
    // 150 ms a byte would take over 10 s; the idle timeout (1 s here, which uWebSockets checks
    // every 4 s) ended each one first.
    for (const { text } of ended) expect(text).toBe("")
    expect(server.store.clients()).toEqual([])
  })

  test("ends a request line and headers dripped a byte at a time, and serves others meanwhile", async () => {
    const server = start()
    const request = `GET /healthz HTTP/1.1\r\nHost: test\r\n${"X-Slow: loris\r\n".repeat(20)}\r\n`
    // uWebSockets gives headers about 10 s, whatever the idle timeout: 400 ms a byte over
    // 342 bytes would take over two minutes.
    const drip = exchange(server.port, request.split(""), 400)
    await stillServing(server)
    expect((await drip).responses).toEqual([])
    await stillServing(server)
  }, 30_000)

  test("answers any declared body over 1 MiB with a JSON-RPC 413 without reading it", async () => {
    const server = start()
    for (const length of [MAX_BODY_BYTES + 1, 2 ** 30, Number.MAX_SAFE_INTEGER]) {
      const { responses } = await exchange(server.port, [rawPost("{", length)])
      expect(responses[0]!.status).toBe(413)
      expect(JSON.parse(responses[0]!.body)).toEqual({
        jsonrpc: "2.0",
        error: {
          code: -32600,
          message: "Invalid Request",
          data: `request body larger than ${MAX_BODY_BYTES} bytes`,
        },
        id: null,
      })
    }
    await stillServing(server)
  })

  test("cuts a streamed body at 1 MiB with 413 and discards the 32 MiB that follow", async () => {
    const server = start()
    const chunk = `${(1 << 16).toString(16)}\r\n${"x".repeat(1 << 16)}\r\n`
    const parts = [
      "POST /jsonrpc HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
      ...Array.from({ length: 512 }, () => chunk),
      "0\r\n\r\n",
    ]
    const { responses } = await exchange(server.port, parts)
    expect(responses[0]!.status).toBe(413)
    expect(JSON.parse(responses[0]!.body).error.code).toBe(-32600)
    await stillServing(server)
  })

  test("leaves what is not HTTP to Bun: bare 400 or 431, and the connection closed", async () => {
    const server = start()
    const cases: [string, number][] = [
      [`${rawPost(GET_STATE, "ten").toString()}`, 400],
      [`${rawPost(GET_STATE, -5).toString()}`, 400],
      [`${rawPost(GET_STATE, "99999999999999999999999").toString()}`, 400],
      [
        "POST /jsonrpc HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n1234567",
        400,
      ],
      [
        `POST /jsonrpc HTTP/1.1\r\nHost: t\r\nContent-Length: ${GET_STATE.length}\r\nTransfer-Encoding: chunked\r\n\r\n${GET_STATE}`,
        400,
      ],
      [`GET / HTTP/1.1\r\nHost: t\r\nX-Big: ${"a".repeat(100_000)}\r\n\r\n`, 431],
      ["\u0000\u00ff\u00fe garbage \r\n\r\n", 400],
    ]
    for (const [request, status] of cases) {
      const { responses } = await exchange(server.port, [Buffer.from(request, "latin1")])
      expect(responses.map((r) => r.status)).toEqual([status])
    }
    await stillServing(server)
  })

  test("serves HTTP/1.0 requests without Host (and an empty Host) like any other", async () => {
    const server = start()
    const getState = `POST /jsonrpc HTTP/1.0\r\nContent-Length: ${GET_STATE.length}\r\n\r\n${GET_STATE}`
    const cases = [
      "GET /api/state HTTP/1.0\r\n\r\n",
      "GET /healthz HTTP/1.0\r\n\r\n",
      "GET / HTTP/1.0\r\n\r\n",
      getState,
      "GET /api/state HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n",
    ]
    for (const request of cases) {
      const { responses } = await exchange(server.port, [request])
      expect(responses.map((r) => r.status)).toEqual([200])
    }
    const { responses } = await exchange(server.port, [getState])
    expect(JSON.parse(responses[0]!.body).result).toEqual(TEST_ROWS)
    await stillServing(server)
  })

  test("answers pipelined requests in order on one connection", async () => {
    const server = start()
    const one = `POST /jsonrpc HTTP/1.1\r\nHost: t\r\nContent-Length: ${GET_STATE.length}\r\n\r\n${GET_STATE}`
    const last = `GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`
    const { responses } = await exchange(server.port, [one + one + one + last])
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200])
    expect(JSON.parse(responses[2]!.body).result).toEqual(TEST_ROWS)
    expect(JSON.parse(responses[3]!.body).status).toBe("ok")
  })
})

describe("createApp() against malformed JSON-RPC", () => {
  const VALUES: unknown[] = [null, true, false, 0, -1, 1.5, 1e308, "", "x", [], [1], {}, { a: 1 }]

  /** Every field of the envelope and of monitoring's params, each set to every JSON type. */
  function variants(): { what: string; body: unknown }[] {
    const out: { what: string; body: unknown }[] = []
    const base = report("types@site")
    for (const field of ["jsonrpc", "method", "id", "params"] as const) {
      for (const v of VALUES)
        out.push({ what: `${field}=${JSON.stringify(v)}`, body: { ...base, [field]: v } })
    }
    for (const field of ["uuid", "timestamp", "metrics"] as const) {
      for (const v of VALUES) {
        out.push({
          what: `params.${field}=${JSON.stringify(v)}`,
          body: { ...base, params: { ...base.params, [field]: v } },
        })
      }
    }
    for (const metric of [
      "glideins_running",
      "glideins_idle",
      "glideins_launched",
      "min_idle_time",
    ]) {
      for (const v of VALUES) {
        out.push({
          what: `${metric}=${JSON.stringify(v)}`,
          body: report("types@site", { [metric]: v }),
        })
        out.push({
          what: `${metric}.p=${JSON.stringify(v)}`,
          body: report("types@site", { [metric]: { p: v } }),
        })
      }
    }
    return out
  }

  test("answers wrong types in every field with a JSON-RPC reply, storing only what it accepts", async () => {
    const server = start()
    for (const { what, body } of variants()) {
      const before = server.store.clients().length
      const reply = await post(server, JSON.stringify(body))
      const context = `${what}: ${reply.status} ${reply.text}`
      expect([200, 204, 400], context).toContain(reply.status)
      if (reply.status === 204) {
        expect(reply.text, context).toBe("")
        continue
      }
      expect(rpcReplyProblem(reply.text), context).toBeUndefined()
      if (reply.json.error !== undefined) {
        expect(reply.status, context).toBe(400)
        expect([-32600, -32601, -32602], context).toContain(reply.json.error.code)
        expect(server.store.clients().length, context).toBe(before)
      } else {
        expect(reply.json.result, context).toBe("")
        expect(
          server.store.clients().map((c) => c.uuid),
          context,
        ).toContain("types@site")
      }
    }
    await stillServing(server)
  })

  test("answers batches of every kind member by member, storing the good reports of a mixed one", async () => {
    const server = start()
    const mixed = await post(
      server,
      JSON.stringify([
        report("good1@site"),
        { ...report(42), id: 2 },
        { jsonrpc: "2.0", method: "get_state", id: 3 },
        { jsonrpc: "2.0", method: "nope", id: 4 },
        { ...report("good2@site"), id: 5 },
        { jsonrpc: "2.0", method: "get_state" },
        7,
        [],
        [report("nested@site")],
      ]),
    )
    expect(mixed.status).toBe(200)
    expect(rpcReplyProblem(mixed.text)).toBeUndefined()
    expect(
      mixed.json.map((r: { id: unknown; error?: { code: number } }) => [r.id, r.error?.code ?? 0]),
    ).toEqual([
      [1, 0],
      [2, -32602],
      [3, 0],
      [4, -32601],
      [5, 0],
      [null, -32600],
      [null, -32600],
      [null, -32600],
    ])
    expect(
      server.store
        .clients()
        .map((c) => c.uuid)
        .sort(),
    ).toEqual(["good1@site", "good2@site"])
    const only = await post(server, JSON.stringify([{ jsonrpc: "2.0", method: "get_state" }]))
    expect(only.status).toBe(204)
    for (const [body, data] of [
      ["[]", "empty batch"],
      [
        JSON.stringify(Array.from({ length: 101 }, () => JSON.parse(GET_STATE))),
        "batch of more than 100 requests",
      ],
    ] as const) {
      const reply = await post(server, body)
      expect(reply.status).toBe(400)
      expect(reply.json.error).toEqual({ code: -32600, message: "Invalid Request", data })
    }
    await stillServing(server)
  })

  test("answers nesting 500,000 deep in the body, the params, the id and a batch", async () => {
    const server = start()
    const depth = 500_000
    const arrays = `${"[".repeat(depth)}${"]".repeat(depth)}`
    const objects = `${'{"a":'.repeat(100_000)}1${"}".repeat(100_000)}`
    const bodies: [string, number, number][] = [
      [arrays, 200, -32600], // a batch of one request that is an array
      [`{"jsonrpc":"2.0","method":"get_state","params":${arrays},"id":1}`, 200, 0],
      [`{"jsonrpc":"2.0","method":"monitoring","params":${objects},"id":1}`, 400, -32602],
      [
        `{"jsonrpc":"2.0","method":"monitoring","params":{"uuid":"d","timestamp":1,"metrics":{"glideins_running":${objects}}},"id":1}`,
        400,
        -32602,
      ],
      [`{"jsonrpc":"2.0","method":"get_state","id":${arrays}}`, 400, -32600],
      [`[${arrays}]`, 200, -32600],
      [`${"[".repeat(depth)}`, 400, -32700],
    ]
    for (const [body, status, code] of bodies) {
      expect(body.length).toBeLessThanOrEqual(MAX_BODY_BYTES)
      const reply = await post(server, body)
      const context = `${body.slice(0, 60)}: ${reply.text.slice(0, 200)}`
      expect(reply.status, context).toBe(status)
      expect(rpcReplyProblem(reply.text), context).toBeUndefined()
      const first = Array.isArray(reply.json) ? reply.json[0] : reply.json
      expect(first.error?.code ?? 0, context).toBe(code)
    }
    expect(server.store.clients()).toEqual([])
    await stillServing(server)
  })
})

describe("createApp() against hostile monitoring reports", () => {
  test("shows markup from a site's uuid and partitions escaped on the page, in /metrics and /api/clients", async () => {
    const server = start()
    const uuid = `<script>alert(1)</script>"'><img src=x onerror=alert(2)>&amp;`
    const partition = "</td><svg onload=alert(3)>"
    const reply = await post(
      server,
      JSON.stringify(report(uuid, { glideins_running: { [partition]: 4 } })),
    )
    expect(reply.json.result).toBe("")
    const page = await (await fetch(`${server.url}/`)).text()
    expect(page).not.toContain("<script")
    expect(page).not.toContain("<img")
    expect(page).not.toContain("<svg onload")
    expect(page).toContain(
      "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&gt;&lt;img src=x onerror=alert(2)&gt;&amp;amp;",
    )
    const metrics = await (await fetch(`${server.url}/metrics`)).text()
    expect(metrics).toContain(
      `site="<script>alert(1)</script>\\"'><img src=x onerror=alert(2)>&amp;"`,
    )
    const clients = ApiClientsSchema.parse(await (await fetch(`${server.url}/api/clients`)).json())
    expect(clients.clients[0]!.uuid).toBe(uuid)
    expect((await fetch(`${server.url}/api/clients`)).headers.get("content-type")).toContain(
      "application/json",
    )
  })

  test("refuses absurd timestamps and counts, accepts the odd but real ones, and every view still renders", async () => {
    const server = start()
    const refused: [unknown, unknown, string][] = [
      [-1, {}, "params.timestamp: expected seconds since 1970 (≥ 0)"],
      [1e12, {}, "params.timestamp: expected seconds since 1970 (a realistic date)"],
      ["2026-11-21", {}, "params.timestamp: expected seconds since 1970"],
      [[1763726400], {}, "params.timestamp: expected seconds since 1970"],
      [
        1,
        { glideins_running: { a: 1e6 + 1 } },
        "params.metrics.glideins_running.a: expected a number of glideins ≤ 1000000",
      ],
      [
        1,
        { glideins_idle: -0.5 },
        "params.metrics.glideins_idle: expected a number of glideins ≥ 0",
      ],
      [
        1,
        { glideins_launched: { a: "5" } },
        "params.metrics.glideins_launched.a: expected a number of glideins",
      ],
    ]
    for (const [timestamp, metrics, data] of refused) {
      const body = { ...report("absurd@site"), params: { uuid: "absurd@site", timestamp, metrics } }
      const reply = await post(server, JSON.stringify(body))
      expect(reply.json.error).toEqual({ code: -32602, message: "Invalid params", data })
    }
    // 1e999 parses to Infinity, which is not a number of anything.
    const infinite = await post(
      server,
      '{"jsonrpc":"2.0","method":"monitoring","params":{"uuid":"a","timestamp":1e999,"metrics":{}},"id":1}',
    )
    expect(infinite.json.error.code).toBe(-32602)
    expect(server.store.clients()).toEqual([])

    const partitions = Object.fromEntries(
      Array.from({ length: 64 }, (_, i) => [`${"p".repeat(120)}${i}`, 1e6]),
    )
    const accepted: [string, number, unknown][] = [
      ["epoch@site", 0, { glideins_running: { a: 0 } }],
      ["future@site", 99_999_999_999, { glideins_idle: 1e6 }],
      [
        "fraction@site",
        1763726400.999,
        { glideins_running: { a: 2.9 }, avg_idle_time: { a: -1e308 } },
      ],
      ["negzero@site", 1763726400, { glideins_launched: { a: -0 }, min_idle_time: { a: 8.64e13 } }],
      [
        "wide@site",
        1763726400,
        { glideins_running: partitions, glideins_idle: partitions, glideins_launched: partitions },
      ],
    ]
    for (const [uuid, timestamp, metrics] of accepted) {
      const body = { ...report(uuid), params: { uuid, timestamp, metrics } }
      expect((await post(server, JSON.stringify(body))).json.result).toBe("")
    }
    const clients = ApiClientsSchema.parse(await (await fetch(`${server.url}/api/clients`)).json())
    const wide = clients.clients.find((c) => c.uuid === "wide@site")!
    expect([wide.running, wide.idle, wide.launched]).toEqual([64e6, 64e6, 64e6])
    expect(clients.clients.find((c) => c.uuid === "fraction@site")!.running).toBe(2)
    for (const c of clients.clients) {
      for (const n of [c.running, c.idle, c.launched]) expect(Number.isSafeInteger(n)).toBe(true)
    }
    for (const path of ["/", "/?range=week", "/metrics", "/api/state", "/healthz"]) {
      const res = await fetch(`${server.url}${path}`)
      expect(res.status).toBe(200)
      const text = await res.text()
      expect(text).not.toContain("Infinity")
      expect(text).not.toContain("NaN")
    }
  })

  test("keeps the first 500 of 10,000 distinct sites, refusing the rest, the views stay bounded and the server keeps answering", async () => {
    // 100 new uuids an hour per address, each batch from an address of its own (behind a
    // proxy on loopback): the store's cap is what refuses here, not the per-address limit.
    const server = start(10, { newNamesPerHour: 100 })
    const sites = 10_000
    Bun.gc(true)
    const heapBefore = process.memoryUsage().heapUsed
    let accepted = 0
    for (let batch = 0; batch < sites / 100; batch++) {
      const calls = Array.from({ length: 100 }, (_, i) => {
        const n = batch * 100 + i
        return {
          ...report(`user${n}@login${n}.site${n % 97}.example.org`, {
            glideins_running: { Cluster: n % 50 },
            glideins_idle: { Cluster: 1 },
          }),
          id: n,
        }
      })
      const reply = await post(server, JSON.stringify(calls), {
        "x-forwarded-for": `10.0.${batch}.1`,
      })
      accepted += (reply.json as { result?: string }[]).filter((r) => r.result === "").length
      if (batch % 20 === 0) await stillServing(server)
    }
    expect(accepted).toBe(500)
    const clients = server.store.clients()
    expect(clients).toHaveLength(500)
    // The 500 kept are the first, with their history: a newcomer never pushes a site out.
    expect(
      clients.map((c) => Number(/^user(\d+)@/.exec(c.uuid)![1])).sort((a, b) => b - a)[0],
    ).toBe(499)
    const sizes: Record<string, number> = {}
    for (const path of ["/", "/?range=week", "/metrics", "/api/clients"]) {
      const res = await fetch(`${server.url}${path}`)
      expect(res.status).toBe(200)
      sizes[path] = (await res.arrayBuffer()).byteLength
    }
    // 500 sites of one partition each: about 370 bytes a site on the page, 300 in /metrics and
    // 400 in /api/clients (pyglidein's page grew by 440 bytes for every uuid it ever saw, to
    // 2.2 MB at 5,000, and kept them all in memory).
    expect(sizes["/"]!).toBeLessThan(500 * 600 + 64_000)
    expect(sizes["/metrics"]!).toBeLessThan(500 * 600 + 8_000)
    expect(sizes["/api/clients"]!).toBeLessThan(500 * 800 + 1_000)
    expect(server.store.siteHistory(0).length).toBe(500)
    await stillServing(server)
    // Nothing is kept per uuid outside the bounded store.
    Bun.gc(true)
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(16 * 1024 * 1024)
  }, 60_000)
})

describe("createApp() asked for its status page over and over", () => {
  test("renders the page at most once a second per range, however often it is asked", async () => {
    const server = start()
    let reads = 0
    const clients = server.store.clients.bind(server.store)
    server.store.clients = () => {
      reads++
      return clients()
    }
    const started = performance.now()
    const pages = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        fetch(`${server.url}/${i % 2 ? "?range=week" : ""}`).then((r) => r.text()),
      ),
    )
    const seconds = Math.floor((performance.now() - started) / 1000)
    expect(new Set(pages).size).toBeLessThanOrEqual(2 * (1 + seconds))
    expect(reads).toBeLessThanOrEqual(2 * (1 + seconds))
    expect(pages.every((p) => p.includes("</html>"))).toBe(true)
  })
})

describe("createApp() asked for a huge table under many request ids", () => {
  test("keeps a bounded number of reply copies: 64 ids of a 7 MB table are not 64 copies", async () => {
    // 100,000 job shapes: a pool whose users vary their memory requests job by job.
    const rows = Array.from({ length: 100_000 }, (_, i) => ({
      ...TEST_ROWS[0]!,
      memory: 1000 + i,
      count: 1,
    }))
    const snapshot = demandSnapshot(rows, Date.now(), { nextPoll: null })
    const store = ReportStore.open(":memory:")
    const app = createApp({
      demand: () => snapshot,
      store,
      log: () => {},
      version: "test",
      delayMs: 300_000,
    })
    Bun.gc(true)
    const before = process.memoryUsage().heapUsed
    for (let id = 0; id < 64; id++) {
      const res = await app.request("/jsonrpc", {
        method: "POST",
        body: `{"jsonrpc":"2.0","method":"get_state","id":${id}}`,
      })
      expect(((await res.json()) as { result: unknown[] }).result).toHaveLength(rows.length)
    }
    Bun.gc(true)
    // Unbounded, the cache held 64 copies (400 MB); bounded, at most 8 M characters of them.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(64 * 1024 * 1024)
    store.close()
  }, 30_000)
})

describe("createApp() over a queue no site could take whole", () => {
  test("publishes 200,000 distinct shapes and a mistyped 200,000-cpu job as a table every client takes, and shows what it set aside", async () => {
    const random = seededRandom(14)
    const lines = ['200000, 2000, 10000000, 0, (TARGET.Arch == "X86_64")']
    for (let i = 0; i < 200_000; i++) {
      const cpus = 1 + Math.floor(random() * 64)
      const disk = Math.floor(random() * 1e8)
      const os = `el${8 + Math.floor(random() * 2)}`
      lines.push(`${cpus}, ${1000 + i}, ${disk}, ${i % 4}, (TARGET.OpSysAndVer == "${os}")`)
    }
    const parsed = await parseCondorQ([new TextEncoder().encode(lines.join("\n"))])
    const poller = new DemandPoller({
      source: async () => parsed,
      sourceName: "condor_q",
      delayMs: 300_000,
      log: () => {},
    })
    await poller.poll()
    const store = ReportStore.open(":memory:")
    const app = createApp({
      demand: () => poller.snapshot(),
      store,
      log: () => {},
      version: "test",
      delayMs: 300_000,
    })
    const reply = await app.request("/jsonrpc", { method: "POST", body: GET_STATE })
    const table = parseDemand(((await reply.json()) as { result: unknown }).result, "get_state")
    expect(table.skipped).toBeUndefined()
    expect(table.rows.length).toBeLessThanOrEqual(DEMAND_LIMITS.rows)
    expect(table.rows.reduce((n, r) => n + r.count, 0)).toBe(200_000)

    const page = await app.request("/")
    expect(page.status).toBe(200)
    expect(await page.text()).toContain(
      "1 idle job set aside, no site could run them (cpus 200000 &gt; 100000)",
    )
    const state = ApiStateSchema.parse(await (await app.request("/api/state")).json())
    expect(state.set_aside).toEqual({ jobs: 1, shapes: 1, first: "cpus 200000 > 100000" })
    expect(state.merged?.shapes).toBe(200_000)
    const clients = ApiClientsSchema.parse(await (await app.request("/api/clients")).json())
    expect(renderStatusText("test", state, clients, Date.now())).toContain(
      "1 idle job set aside, no site could run them: cpus 200000 > 100000",
    )
    expect(await (await app.request("/metrics")).text()).toContain(
      "\nglidein_demand_set_aside_jobs 1\n",
    )
    store.close()
  }, 60_000)
})

describe("createApp() when the store fails under it", () => {
  test("does not acknowledge a report it could not store: 503 with -32002, and get_state goes on", async () => {
    const server = start()
    // As a full disk or a database turned read-only would: every write now throws.
    server.store.close()
    const reply = await post(server, JSON.stringify(report("lost@site")))
    expect(reply.status).toBe(503)
    expect(reply.json.error.code).toBe(-32002)
    expect(reply.json.error.message).toStartWith("the report was not stored: ")
    expect(server.logged.at(-1)).toStartWith('monitoring: report from "lost@site" not stored: ')
    await stillServing(server)
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200)
  })
})

describe("createApp() against sites that report as others", () => {
  const ALBERTA = "s3cr3t-token-alberta-0001"
  const MALLORY = "s3cr3t-token-mallory-0001"
  const tokens = () => parseTokens(`alberta ${ALBERTA}\nmallory ${MALLORY}\n`, "tokens")
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

  test("with tokens, a uuid is its first token's: another token can neither overwrite it nor evict it", async () => {
    const server = start(10, { tokens: tokens() })
    for (let i = 0; i < 3; i++) {
      const reply = await post(server, JSON.stringify(report(`site${i}@alberta`)), bearer(ALBERTA))
      expect(reply.json.result).toBe("")
    }
    const forged = await post(
      server,
      JSON.stringify(report("site0@alberta", { glideins_running: { Cluster: 999 } })),
      bearer(MALLORY),
    )
    expect(forged.status).toBe(403)
    expect(forged.json.error.code).toBe(-32004)
    expect(forged.json.error.message).toContain("reported with another site's token")
    expect(server.store.clients().find((c) => c.uuid === "site0@alberta")).toMatchObject({
      running: 2,
      tokenName: "alberta",
    })
    expect(server.logged.at(-1)).toMatch(
      /^monitoring: report from "site0@alberta" \(127\.0\.0\.1\) refused: the uuid "site0@alberta" is reported with another site's token/,
    )
    // 500 new uuids in batches: the token holds 64 at most, and alberta's sites stay.
    let accepted = 0
    for (let batch = 0; batch < 5; batch++) {
      const calls = Array.from({ length: 100 }, (_, i) => ({
        ...report(`fake${batch * 100 + i}@mallory`),
        id: i,
      }))
      const reply = await post(server, JSON.stringify(calls), bearer(MALLORY))
      accepted += (reply.json as { result?: string }[]).filter((r) => r.result === "").length
    }
    expect(accepted).toBe(64)
    const refused = await post(server, JSON.stringify(report("one-more@mallory")), bearer(MALLORY))
    expect(refused.json.error).toMatchObject({ code: -32004 })
    expect(refused.json.error.message).toContain('the token "mallory" already reports 64 uuids')
    const kept = server.store.clients()
    expect(
      kept
        .filter((c) => c.tokenName === "alberta")
        .map((c) => c.uuid)
        .sort(),
    ).toEqual(["site0@alberta", "site1@alberta", "site2@alberta"])
    expect(new Set(server.store.siteHistory(0).map((p) => p.uuid)).has("site0@alberta")).toBe(true)
    await stillServing(server)
  })

  test("with tokens, a missing token and a wrong one are told apart, and both are logged", async () => {
    const server = start(1, { tokens: tokens() })
    const none = await post(server, JSON.stringify(report("x@y")))
    const wrong = await post(
      server,
      JSON.stringify(report("x@y")),
      bearer("s3cr3t-token-nobody-01"),
    )
    expect([none.status, wrong.status]).toEqual([401, 401])
    expect(none.json.error.code).toBe(-32001)
    expect(none.json.error.message).toContain("needs a token with each report")
    expect(wrong.json.error.code).toBe(-32003)
    expect(wrong.json.error.message).toContain("not one of this server's tokens")
    expect(server.logged.filter((l) => l.includes("refused"))).toEqual([
      expect.stringMatching(
        /^monitoring: report from "x@y" \(127\.0\.0\.1\) refused: this server needs a token/,
      ),
      expect.stringMatching(
        /^monitoring: report from "x@y" \(127\.0\.0\.1\) refused: the token sent is not one/,
      ),
    ])
    expect(server.logged.join("\n")).not.toContain("s3cr3t")
    expect(server.store.clients()).toEqual([])
  })

  test("without tokens, one address adds 16 new uuids an hour, and sites it knows are never limited", async () => {
    const server = start(10)
    const calls = Array.from({ length: 500 }, (_, i) => ({ ...report(`fake${i}@site`), id: i }))
    const replies: { result?: string; error?: { code: number } }[] = []
    for (let i = 0; i < 500; i += 100) {
      replies.push(...(await post(server, JSON.stringify(calls.slice(i, i + 100)))).json)
    }
    expect(replies.filter((r) => r.result === "")).toHaveLength(16)
    expect(replies.filter((r) => r.error?.code === -32004)).toHaveLength(484)
    // A known uuid reports again; another address (through a proxy on loopback) adds its own.
    expect((await post(server, JSON.stringify(report("fake0@site")))).json.result).toBe("")
    const other = await post(server, JSON.stringify(report("real@site")), {
      "x-forwarded-for": "192.0.2.7",
    })
    expect(other.json.result).toBe("")
    expect(server.store.clients()).toHaveLength(17)
    expect(
      server.logged.some((l) => l.includes("127.0.0.1 added 16 new uuids in the last hour")),
    ).toBe(true)
  })

  test("without tokens, a full store refuses a newcomer instead of evicting a site with history", async () => {
    const server = start(10, { limits: { maxClients: 3 } })
    for (const uuid of ["a@site", "b@site", "c@site"]) {
      expect((await post(server, JSON.stringify(report(uuid)))).json.result).toBe("")
    }
    const newcomer = await post(server, JSON.stringify(report("d@site")), {
      "x-forwarded-for": "192.0.2.8",
    })
    expect(newcomer.status).toBe(403)
    expect(newcomer.json.error.message).toContain(
      "the server keeps 3 sites and all have reported in the last 8 days",
    )
    expect(
      server.store
        .clients()
        .map((c) => c.uuid)
        .sort(),
    ).toEqual(["a@site", "b@site", "c@site"])
  })
})

describe("createApp() against a site named to break the status page", () => {
  test("a 196-character name of markup with 64 partitions of 128 characters: pages escaped, bounded, gzipped", async () => {
    const server = start()
    const uuid = `<script>alert(1)</script><b>${"w".repeat(160)}`.slice(0, 196)
    const partitions = Object.fromEntries(
      Array.from({ length: 64 }, (_, i) => [`</td><i>${i}</i>${"p".repeat(110)}`.slice(0, 128), i]),
    )
    const reply = await post(server, JSON.stringify(report(uuid, { glideins_running: partitions })))
    expect(reply.json.result).toBe("")
    const site = `/site/${encodeURIComponent(uuid)}`
    for (const path of ["/", "/?range=1h", site, `/api/sites/${encodeURIComponent(uuid)}`]) {
      const res = await fetch(`${server.url}${path}`, { headers: { "accept-encoding": "gzip" } })
      expect([path, res.status]).toEqual([path, 200])
      const text = await res.text()
      expect(text.length).toBeLessThan(64_000)
      // JSON carries the name as sent, as /api/clients does; HTML never has it raw.
      if (path.startsWith("/api/")) {
        expect(res.headers.get("content-type")).toContain("application/json")
        continue
      }
      expect(text).not.toContain("<script>")
      expect(text).not.toContain("<b>")
      expect(text).not.toContain("<i>")
    }
    const raw = await fetch(`${server.url}/`, {
      headers: { "accept-encoding": "gzip" },
      decompress: false,
    })
    expect(raw.headers.get("content-encoding")).toBe("gzip")
    const page = await (await fetch(`${server.url}/`)).text()
    // The row names six partitions and counts the rest; the site's own page lists all 64.
    expect(page).toContain(" and 58 more")
    expect(page).not.toContain("p".repeat(40))
    const own = await (await fetch(`${server.url}${site}`)).text()
    expect(own.match(/<tr><td class="text site">/g)?.length).toBe(64)
    const unknown = await fetch(`${server.url}/site/${"%3Cx%3E".repeat(2000)}`)
    expect(unknown.status).toBe(404)
    expect((await unknown.text()).length).toBeLessThan(16_000)
    await stillServing(server)
  })
})

describe("createApp() with 500 sites of 64 partitions, under scrapers and browsers", () => {
  function crowded(): TestServer {
    const server = start()
    const at = Date.now()
    for (let s = 0; s < 500; s++) {
      const partitions = Object.fromEntries(
        Array.from({ length: 64 }, (_, p) => [`partition-${p}`, (s + p) % 40]),
      )
      server.store.saveReport(
        {
          uuid: `site${s}@login.example.org`,
          clientTime: null,
          metrics: {
            ...emptyMetrics(),
            glideins_running: partitions,
            glideins_idle: partitions,
            glideins_launched: partitions,
          },
        },
        null,
        at,
      )
    }
    return server
  }

  function counting<T extends object, K extends keyof T>(target: T, key: K): { calls: number } {
    const counter = { calls: 0 }
    const original = (target[key] as (...args: unknown[]) => unknown).bind(target)
    target[key] = ((...args: unknown[]) => {
      counter.calls++
      return original(...args)
    }) as T[K]
    return counter
  }

  test("16 scrapers read the store once, get bounded series, and get_state is answered among them", async () => {
    const server = crowded()
    const reads = counting(server.store, "clients")
    const [scrapes] = await Promise.all([
      Promise.all(
        Array.from({ length: 16 }, () => fetch(`${server.url}/metrics`).then((r) => r.text())),
      ),
      Promise.all(Array.from({ length: 16 }, () => stillServing(server))),
    ])
    expect(reads.calls).toBe(1)
    for (const text of scrapes) {
      const series = text.split("\n").filter((l) => l.startsWith("glidein_site_glideins{"))
      // Every partition its own series: 500 × 64 × 3 = 96,000 lines, 19.8 MB.
      expect(series.length).toBeLessThanOrEqual(2 * (256 + 500))
      expect(text.length).toBeLessThan(1 << 20)
      expect(text).not.toContain('state="launched"')
    }
    const clients = await Promise.all(
      Array.from({ length: 4 }, () => fetch(`${server.url}/api/clients`).then((r) => r.json())),
    )
    expect(reads.calls).toBe(1)
    expect(ApiClientsSchema.parse(clients[0]).clients).toHaveLength(500)
  }, 30_000)

  test("four browsers asking for the week page at once get one render, from hourly points", async () => {
    const server = crowded()
    const history = counting(server.store, "siteHistory")
    // app.request(): the four are in flight together, as four browsers are while a render of
    // seconds runs (over a socket, this quick render would end before the next request is read).
    const app = createApp({
      demand: () => demandSnapshot(TEST_ROWS, Date.now()),
      store: server.store,
      log: () => {},
      version: "test",
      delayMs: 300_000,
    })
    const pages = await Promise.all(
      Array.from({ length: 4 }, async () => (await app.request("/?range=week")).text()),
    )
    expect(new Set(pages).size).toBe(1)
    expect(pages[0]).toContain("</html>")
    expect(history.calls).toBe(1)
    await stillServing(server)
  }, 30_000)
})

describe("createApp() flooded with views", () => {
  test("gives views a bounded share of the time, queues a bounded number, refuses the rest with 503, and get_state never waits", async () => {
    const store = ReportStore.open(":memory:")
    const demand = demandSnapshot(TEST_ROWS, Date.now())
    const app = createApp({
      demand: () => demand,
      store,
      log: () => {},
      version: "test",
      delayMs: 300_000,
      viewLimits: { msPerSecond: 20, burstMs: 5, minCostMs: 1, maxWaiting: 10 },
    })
    let answered = 0
    const scrapes = Array.from({ length: 40 }, async () => {
      const res = await app.request("/metrics")
      if (res.status === 200) answered++
      return res
    })
    // The burst is answered at once; get_state does not queue behind the 10 waiting.
    const state = await app.request("/jsonrpc", { method: "POST", body: GET_STATE })
    expect(state.status).toBe(200)
    expect(answered).toBeLessThanOrEqual(5)
    expect((await app.request("/healthz")).status).toBe(200)
    const replies = await Promise.all(scrapes)
    expect(replies.filter((r) => r.status === 200)).toHaveLength(15)
    const refused = replies.filter((r) => r.status === 503)
    expect(refused).toHaveLength(25)
    expect(refused[0]!.headers.get("retry-after")).toBe("1")
    store.close()
  })
})
