import { afterEach, describe, expect, test } from "bun:test"
import { resolve } from "node:path"
import { partition } from "../allotment/test-fixtures.ts"
import type { DemandRow, DemandSnapshot } from "../demand/index.ts"
import { allotmentParams } from "../protocol/allotment.ts"
import { ApiClientsSchema, ApiStateSchema } from "../protocol/api.ts"
import { emptyMetrics } from "../protocol/monitoring.ts"
import { demandSnapshot } from "../test-support.ts"
import { createApp, MAX_BODY_BYTES } from "./app.ts"
import { listen } from "./listen.ts"
import { ReportStore, type StoreLimits } from "./report-store.ts"
import { TEST_ROWS } from "./test-server.ts"
import { parseTokens } from "./tokens.ts"

type Body = string | Uint8Array

/** A JSON body of a response, as the shape the test reads. */
async function jsonBody(
  res: Response,
): Promise<{ error: { code: number; message: string; data?: string } }> {
  return (await res.json()) as { error: { code: number; message: string; data?: string } }
}

const NOW = Date.UTC(2026, 10, 21, 12, 0, 0)

/** The table polled 90 s before NOW, with `over` changed. */
function snapshot(over: Partial<DemandSnapshot> = {}): DemandSnapshot {
  return demandSnapshot(over.rows === undefined ? TEST_ROWS : over.rows, NOW - 90_000, over)
}

const stores: ReportStore[] = []
afterEach(() => {
  for (const s of stores.splice(0)) s.close()
})

function setup(
  options: { demand?: DemandSnapshot; tokens?: string; limits?: Partial<StoreLimits> } = {},
) {
  const store = ReportStore.open(":memory:", options.limits)
  stores.push(store)
  const logged: string[] = []
  const app = createApp({
    demand: () => options.demand ?? snapshot(),
    store,
    tokens: options.tokens ? parseTokens(options.tokens, "tokens") : undefined,
    log: (l) => logged.push(l),
    version: "test",
    delayMs: 300_000,
    now: () => NOW,
  })
  const rpc = async (body: Body, headers: Record<string, string> = {}) => {
    const res = await app.request("/jsonrpc", { method: "POST", body, headers })
    const text = await res.text()
    return { res, text, json: text ? JSON.parse(text) : null }
  }
  return { app, store, logged, rpc }
}

const V11 = (uuid: unknown) => ({
  jsonrpc: "2.0",
  method: "monitoring",
  params: {
    uuid,
    timestamp: 1763726400,
    metrics: {
      glideins_running: { Cluster: 3 },
      glideins_idle: { Cluster: 1 },
      glideins_launched: { Cluster: 2 },
    },
  },
  id: 1,
})

describe("createApp() POST /jsonrpc", () => {
  test("get_state answers pyglidein's request with the table in its wire format", async () => {
    const { rpc } = setup()
    const { res, text } = await rpc(
      '{"jsonrpc": "2.0", "method": "get_state", "params": {}, "id": 0}',
      {
        "content-type": "application/json",
      },
    )
    expect(res.status).toBe(200)
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8")
    expect(text).toBe(`{"jsonrpc":"2.0","result":${JSON.stringify(TEST_ROWS)},"id":0}`)
  })

  test("get_state answers a repeated request from its reply cache until the table changes", async () => {
    const store = ReportStore.open(":memory:")
    stores.push(store)
    let demand = snapshot()
    const app = createApp({
      demand: () => demand,
      store,
      log: () => {},
      version: "t",
      delayMs: 1,
      now: () => NOW,
    })
    const ask = async (id = 0) => {
      const body = `{"jsonrpc": "2.0", "method": "get_state", "params": {}, "id": ${id}}`
      const res = await app.request("/jsonrpc", { method: "POST", body })
      return (await res.json()) as { result: DemandRow[] }
    }
    expect((await ask()).result).toEqual(TEST_ROWS)
    expect((await ask()).result).toEqual(TEST_ROWS)
    // The same snapshot with other JSON: only a reply from the cache still carries TEST_ROWS, and
    // only for the bytes it was cached under.
    demand.rowsJson = "[]"
    expect((await ask()).result).toEqual(TEST_ROWS)
    expect((await ask(1)).result).toEqual([])
    const next = [{ ...TEST_ROWS[0]!, count: 1 }]
    demand = snapshot({ rows: next })
    expect((await ask()).result).toEqual(next)
    // A report is never answered from the cache: each one is stored.
    const report = JSON.stringify(V11("same@bytes"))
    for (let i = 0; i < 2; i++) await app.request("/jsonrpc", { method: "POST", body: report })
    // Both reports landed in the same history bucket: launched glideins add up (2 + 2).
    expect(store.siteHistory(0).map((p) => p.launched)).toEqual([4])
  })

  test("get_state before the first good poll is an error saying why, never []", async () => {
    const { rpc } = setup({
      demand: snapshot({ rows: null, updated: null, error: 'condor_q not found: "condor_q"' }),
    })
    const { res, json } = await rpc('{"jsonrpc":"2.0","method":"get_state","id":1}')
    expect(res.status).toBe(503)
    expect(json.error).toEqual({
      code: -32000,
      message: 'no demand table yet: the last poll failed: condor_q not found: "condor_q"',
    })
  })

  test("get_state after a failed poll still serves the last good table", async () => {
    const { rpc } = setup({
      demand: snapshot({ error: "condor_q timed out", errorAt: NOW - 1000 }),
    })
    expect((await rpc('{"jsonrpc":"2.0","method":"get_state","id":1}')).json.result).toEqual(
      TEST_ROWS,
    )
  })

  test("monitoring stores a v1.1 report and a pre-1.1 one, answering as pyglidein did", async () => {
    const { rpc, store } = setup()
    const v11 = await rpc(JSON.stringify(V11("alice@login1")))
    expect(v11.json).toEqual({ jsonrpc: "2.0", result: "", id: 1 })
    const old = await rpc(
      JSON.stringify({
        jsonrpc: "2.0",
        method: "monitoring",
        params: { uuid: "bob@old", glideins_running: 4 },
        id: 2,
      }),
    )
    expect(old.json.result).toBe("")
    expect(store.clients().map((c) => [c.uuid, c.running])).toEqual([
      ["alice@login1", 3],
      ["bob@old", 4],
    ])
  })

  test("a partition the site could not count shows as count failed, on the page and in /metrics", async () => {
    const { app, rpc } = setup()
    const report = {
      ...V11("alice@login1"),
      params: {
        uuid: "alice@login1",
        timestamp: 1763726400,
        metrics: {
          glideins_running: {},
          glideins_idle: {},
          glideins_launched: { gpu: 0 },
          count_failed: { gpu: 1 },
        },
      },
    }
    expect((await rpc(JSON.stringify(report))).json.result).toBe("")
    const page = await (await app.request("/")).text()
    expect(page).toContain("count failed</span>")
    expect(page).toContain("gpu ?/?/0")
    const metrics = await (await app.request("/metrics")).text()
    expect(metrics).toContain('glidein_site_count_failed{site="alice@login1",partition="gpu"} 1')
  })

  // The baseline's list of what pyglidein got wrong, each now a JSON-RPC error.
  const bad: [string, Body, number, number, string][] = [
    ["a non-JSON body", "hello", 400, -32700, "the body is not valid JSON"],
    ["an empty body", "", 400, -32700, "the body is not valid JSON"],
    [
      "an invalid UTF-8 body",
      new Uint8Array([0x22, 0xc3, 0x28, 0x22]),
      400,
      -32700,
      "the body is not valid UTF-8",
    ],
    [
      "a non-string method",
      '{"jsonrpc":"2.0","method":["get_state"],"id":1}',
      400,
      -32600,
      '"method" must be a string',
    ],
    ["a JSON number", "12", 400, -32600, "expected a request object"],
    ["a JSON string", '"get_state"', 400, -32600, "expected a request object"],
    ["JSON null", "null", 400, -32600, "expected a request object"],
    [
      "monitoring without params",
      '{"jsonrpc":"2.0","method":"monitoring","id":1}',
      400,
      -32602,
      "params: expected an object with uuid and metrics",
    ],
    [
      "monitoring without uuid",
      '{"jsonrpc":"2.0","method":"monitoring","params":{},"id":1}',
      400,
      -32602,
      "params.uuid: expected the client's id (a string)",
    ],
    [
      "monitoring with a non-string uuid",
      JSON.stringify(V11(12)),
      400,
      -32602,
      "params.uuid: expected the client's id (a string)",
    ],
    [
      "a string timestamp",
      JSON.stringify({ ...V11("a"), params: { ...V11("a").params, timestamp: "now" } }),
      400,
      -32602,
      "params.timestamp: expected seconds since 1970",
    ],
    [
      "a timestamp of 1e20",
      JSON.stringify({ ...V11("a"), params: { ...V11("a").params, timestamp: 1e20 } }),
      400,
      -32602,
      "params.timestamp: expected seconds since 1970 (a realistic date)",
    ],
    [
      "an unknown method",
      '{"jsonrpc":"2.0","method":"drop_tables","id":1}',
      400,
      -32601,
      'no method "drop_tables"',
    ],
  ]
  for (const [what, body, status, code, data] of bad) {
    test(`answers ${what} with a JSON-RPC error ${code}`, async () => {
      const { rpc, store } = setup()
      const { res, json } = await rpc(body)
      expect(res.status).toBe(status)
      expect(res.headers.get("content-type")).toContain("application/json")
      expect(json.jsonrpc).toBe("2.0")
      expect(json.error.code).toBe(code)
      expect(json.error.data).toBe(data)
      expect(store.clients()).toEqual([])
    })
  }

  test('answers a batch (pyglidein: "jsonrpc is not 2.0")', async () => {
    const { rpc } = setup()
    const { res, json } = await rpc(
      JSON.stringify([
        { jsonrpc: "2.0", method: "get_state", id: 1 },
        V11("c@d"),
        { jsonrpc: "2.0", method: "get_state" },
      ]),
    )
    expect(res.status).toBe(200)
    expect(json).toEqual([
      { jsonrpc: "2.0", result: TEST_ROWS, id: 1 },
      { jsonrpc: "2.0", result: "", id: 1 },
    ])
  })

  test("refuses a body over 1 MiB with 413, declared or streamed, before parsing it", async () => {
    const { app } = setup()
    const big = `{"jsonrpc":"2.0","method":"get_state","params":{"pad":"${"x".repeat(MAX_BODY_BYTES)}"},"id":1}`
    const declared = await app.request("/jsonrpc", { method: "POST", body: big })
    expect(declared.status).toBe(413)
    expect((await jsonBody(declared)).error).toEqual({
      code: -32600,
      message: "Invalid Request",
      data: `request body larger than ${MAX_BODY_BYTES} bytes`,
    })
    const bytes = new TextEncoder().encode(big)
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 65536)
          controller.enqueue(bytes.subarray(i, i + 65536))
        controller.close()
      },
    })
    const streamed = await app.request("/jsonrpc", {
      method: "POST",
      body: stream,
      duplex: "half",
    } as RequestInit)
    expect(streamed.status).toBe(413)
  })

  test("reads bodies as UTF-8 whether declared or streamed, refusing raw U+FFFD as not UTF-8", async () => {
    const { app, rpc } = setup()
    const streamOf = (bytes: Uint8Array) =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(bytes)
          controller.close()
        },
      })
    const invalid = new Uint8Array([0x22, 0xff, 0x22])
    const streamed = await app.request("/jsonrpc", {
      method: "POST",
      body: streamOf(invalid),
      duplex: "half",
    } as RequestInit)
    expect((await jsonBody(streamed)).error).toEqual({
      code: -32700,
      message: "Parse error",
      data: "the body is not valid UTF-8",
    })
    expect(
      (await rpc('{"jsonrpc":"2.0","method":"get_state","id":"\uFFFD"}')).json.error.data,
    ).toBe("the body is not valid UTF-8")
    // Escaped, the same character is fine: the body's bytes are plain ASCII.
    expect((await rpc('{"jsonrpc":"2.0","method":"get_state","id":"\\ufffd"}')).json.id).toBe(
      "\uFFFD",
    )
    const good = new TextEncoder().encode('{"jsonrpc":"2.0","method":"get_state","id":"é"}')
    const ok = await app.request("/jsonrpc", {
      method: "POST",
      body: streamOf(good),
      duplex: "half",
    } as RequestInit)
    expect(((await ok.json()) as { id: string }).id).toBe("é")
  })

  test("answers other HTTP methods on /jsonrpc with 405 and a JSON-RPC error", async () => {
    const { app } = setup()
    const res = await app.request("/jsonrpc")
    expect(res.status).toBe(405)
    expect(res.headers.get("allow")).toBe("POST")
    expect((await jsonBody(res)).error.code).toBe(-32600)
  })

  test("with --tokens, monitoring needs a valid bearer token and is attributed to its name", async () => {
    const { rpc, store } = setup({ tokens: "alberta s3cr3t-token-alberta-0001\n" })
    const none = await rpc(JSON.stringify(V11("x@y")))
    expect(none.res.status).toBe(401)
    expect(none.res.headers.get("www-authenticate")).toBe('Bearer realm="glidein"')
    expect(none.json.error.code).toBe(-32001)
    const wrong = await rpc(JSON.stringify(V11("x@y")), {
      authorization: "Bearer s3cr3t-token-alberta-0002",
    })
    expect(wrong.res.status).toBe(401)
    expect(store.clients()).toEqual([])
    const good = await rpc(JSON.stringify(V11("x@y")), {
      authorization: "Bearer s3cr3t-token-alberta-0001",
    })
    expect(good.json.result).toBe("")
    expect(store.clients()[0]).toMatchObject({ uuid: "x@y", tokenName: "alberta" })
    // get_state stays open: pyglidein clients send no token.
    expect((await rpc('{"jsonrpc":"2.0","method":"get_state","id":1}')).res.status).toBe(200)
  })
})

describe("createApp() get_allotment with tokens", () => {
  test("get_allotment refuses a site reported under another token", async () => {
    const tokens = "alberta s3cr3t-token-alberta-0001\nbravo s3cr3t-token-bravo-00001\n"
    const { rpc } = setup({ tokens })
    const alberta = { authorization: "Bearer s3cr3t-token-alberta-0001" }
    const bravo = { authorization: "Bearer s3cr3t-token-bravo-00001" }
    expect((await rpc(JSON.stringify(V11("site-a")), alberta)).json.result).toBe("")
    const ask = (uuid: string) =>
      JSON.stringify({
        jsonrpc: "2.0",
        method: "get_allotment",
        params: allotmentParams(
          uuid,
          [{ policy: partition(), counts: { running: 0, idle: 0 } }],
          true,
        ),
        id: 7,
      })
    const stolen = await rpc(ask("site-a"), bravo)
    expect(stolen.json.error).toMatchObject({
      code: -32004,
      message: 'the site "site-a" reports under another token; ask for your own site\'s allotment',
    })
    // Its own site, and a name nobody holds yet, are answered.
    expect((await rpc(ask("site-a"), alberta)).json.result?.uuid).toBe("site-a")
    expect((await rpc(ask("site-b"), bravo)).json.result?.uuid).toBe("site-b")
  })
})

describe("createApp() GET routes", () => {
  test("/api/state gives the table with its age and error", async () => {
    const { app } = setup({
      demand: snapshot({ error: "condor_q exited with status 1", errorAt: NOW - 5000 }),
    })
    const body = ApiStateSchema.parse(await (await app.request("/api/state")).json())
    expect(body).toEqual({
      updated: new Date(NOW - 90_000).toISOString(),
      age_s: 90,
      error: "condor_q exited with status 1",
      error_at: new Date(NOW - 5000).toISOString(),
      last_poll: new Date(NOW - 90_000).toISOString(),
      next_poll: new Date(NOW + 210_000).toISOString(),
      source: "condor_q",
      jobs: 127,
      bad_lines: 0,
      set_aside: null,
      merged: null,
      note: null,
      rows: TEST_ROWS,
    })
  })

  test("/api/clients lists the sites with their last report and staleness", async () => {
    const { app, store } = setup()
    store.saveReport(
      {
        uuid: "old@site",
        clientTime: null,
        metrics: { ...emptyMetrics(), glideins_running: { Cluster: 1 } },
      },
      null,
      NOW - 3_600_000,
    )
    store.saveReport(
      {
        uuid: "new@site",
        clientTime: 1,
        metrics: { ...emptyMetrics(), glideins_idle: { gpu: 2 } },
      },
      null,
      NOW - 60_000,
    )
    const body = ApiClientsSchema.parse(await (await app.request("/api/clients")).json())
    expect(body.updated).toBe(new Date(NOW - 60_000).toISOString())
    expect(body.age_s).toBe(60)
    expect(body.error).toBeNull()
    expect(body.clients.map((c) => [c.uuid, c.stale, c.age_s, c.running, c.idle])).toEqual([
      ["new@site", false, 60, 0, 2],
      ["old@site", true, 3600, 1, 0],
    ])
  })

  test("/metrics is Prometheus text with escaped labels", async () => {
    const { app, store } = setup()
    store.saveReport(
      {
        uuid: 'evil"\\\nsite',
        clientTime: null,
        metrics: { ...emptyMetrics(), glideins_running: { Cluster: 2 } },
      },
      null,
      NOW,
    )
    const res = await app.request("/metrics")
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8")
    const text = await res.text()
    expect(text).toContain(
      'glidein_demand_jobs{cpus="1",memory="4000",disk="10000",gpus="0",os="centos7"} 120',
    )
    expect(text).toContain("glidein_demand_idle_jobs 127")
    expect(text).toContain("glidein_demand_age_seconds 90.000")
    expect(text).toContain(
      'glidein_site_glideins{site="evil\\"\\\\\\nsite",partition="Cluster",state="running"} 2',
    )
    expect(text).toContain('glidein_sites{state="fresh"} 1')
    for (const line of text.trimEnd().split("\n")) {
      expect(line).toMatch(
        /^(# (HELP|TYPE) (glidein|process)_\w+ .+|(glidein|process)_\w+(\{.*\})? -?[\d.]+)$/,
      )
    }
  })

  test("/healthz says ok and how fresh the demand is", async () => {
    const { app } = setup()
    const res = await app.request("/healthz")
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({
      status: "ok",
      demand: "fresh",
      demand_age_s: 90,
      error: null,
      database_error: null,
    })
  })

  test("/ escapes everything a client sends (pyglidein had stored XSS through uuid)", async () => {
    const { app, store } = setup()
    const uuid = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    store.saveReport(
      {
        uuid,
        clientTime: null,
        metrics: { ...emptyMetrics(), glideins_running: { "<b>p</b>": 1 } },
      },
      "<i>token</i>",
      NOW,
    )
    const res = await app.request("/")
    expect(res.status).toBe(200)
    expect(res.headers.get("content-type")).toBe("text/html; charset=UTF-8")
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'")
    const page = await res.text()
    expect(page).not.toContain("<script")
    expect(page).not.toContain("<img")
    expect(page).not.toContain("<b>p</b>")
    expect(page).not.toContain("<i>token</i>")
    expect(page).toContain(
      "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;",
    )
    expect(page).toContain("centos7")
    expect(page).toContain("<svg")
  })

  test("/ shows a failing condor_q and what is served meanwhile", async () => {
    const { app } = setup({
      demand: snapshot({ error: "condor_q did not finish within 300 s", errorAt: NOW - 120_000 }),
    })
    const page = await (await app.request("/?range=week")).text()
    expect(page).toContain("condor_q failing")
    expect(page).toContain("condor_q did not finish within 300 s")
    expect(page).toContain('aria-current="page">Last week')
  })

  test("/ charts history in the store's bucket widths", async () => {
    const { app } = setup({ limits: { siteBucketMs: 600_000 } })
    const page = await (await app.request("/")).text()
    expect(page).toContain("Glideins launched per site (per 10 min)")
  })

  test("unknown paths are 404, not the status page", async () => {
    const { app } = setup()
    for (const path of ["/favicon.ico", "/admin", "/jsonrpc/x", "/api"]) {
      const res = await app.request(path)
      expect(res.status).toBe(404)
      expect(((await res.json()) as { error: string }).error).toBe(`not found: GET ${path}`)
    }
  })
})

describe("createApp() with a pyglidein-format client", () => {
  const python = Bun.which("python3")
  test.skipIf(python === null)("round-trips get_state and monitoring over HTTP", async () => {
    const { app, store } = setup()
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: app.fetch })
    try {
      const proc = Bun.spawn(
        [
          python!,
          resolve(import.meta.dir, "testdata/pyglidein-client.py"),
          `http://127.0.0.1:${server.port}/jsonrpc`,
        ],
        { stdout: "pipe", stderr: "pipe" },
      )
      const [out, err, code] = await Promise.all([
        new Response(proc.stdout).text(),
        new Response(proc.stderr).text(),
        proc.exited,
      ])
      expect(err).toBe("")
      expect(code).toBe(0)
      const lines = out
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l))
      expect(lines[0]).toEqual({ get_state: TEST_ROWS })
      expect(lines[1]).toEqual({ monitoring: "" })
      // urllib raises on the 400 before reading the body, as pyglidein's client does.
      expect(lines[2].refused).toContain("HTTP Error 400")
      expect(store.clients()).toMatchObject([
        {
          uuid: "pyglidein@login.example.org",
          running: 2,
          idle: 1,
          launched: 127,
          clientTime: 1763726400,
        },
      ])
    } finally {
      await server.stop(true)
    }
  })
})

describe("createApp() get_state's short path", () => {
  test("answers a body it answered before with the same bytes, counts it, and follows a new table at once", async () => {
    let demand = snapshot()
    const store = ReportStore.open(":memory:")
    stores.push(store)
    const app = createApp({
      demand: () => demand,
      store,
      log: () => {},
      version: "test",
      delayMs: 300_000,
    })
    const server = listen(app, { hostname: "127.0.0.1", port: 0 })
    try {
      const url = `http://127.0.0.1:${server.port}`
      const post = async (path: string, body: string) => {
        const res = await fetch(`${url}${path}`, { method: "POST", body })
        return { status: res.status, type: res.headers.get("content-type"), text: await res.text() }
      }
      // pyglidein's form (Python's json.dumps) and a compact one, each asked three times,
      // also with a query string: the first answer fills the cache, the rest come from it.
      for (const body of [
        '{"jsonrpc": "2.0", "method": "get_state", "params": {}, "id": 1}',
        '{"jsonrpc":"2.0","method":"get_state","id":"x"}',
      ]) {
        const first = await post("/jsonrpc", body)
        expect(first.status).toBe(200)
        expect(JSON.parse(first.text).result).toEqual(TEST_ROWS)
        for (const path of ["/jsonrpc", "/jsonrpc", "/jsonrpc?from=site"]) {
          expect(await post(path, body)).toEqual(first)
        }
      }
      // One byte off is another request, checked in full.
      const broken = await post(
        "/jsonrpc",
        '{"jsonrpc": "2.0", "method": "get_state", "params": {}, "id": 1',
      )
      expect(JSON.parse(broken.text).error.code).toBe(-32700)
      // A new table is served at once, never a reply kept for the old one.
      demand = snapshot({ rows: [{ ...TEST_ROWS[0]!, count: 5 }] })
      const again = await post("/jsonrpc", '{"jsonrpc":"2.0","method":"get_state","id":"x"}')
      expect(JSON.parse(again.text).result).toEqual([{ ...TEST_ROWS[0]!, count: 5 }])
      const metrics = await (await fetch(`${url}/metrics`)).text()
      expect(metrics).toContain('glidein_rpc_requests_total{method="get_state"} 9')
    } finally {
      await server.stop(true)
    }
  })
})
