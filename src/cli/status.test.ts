import { afterAll, afterEach, beforeAll, describe, expect, spyOn, test } from "bun:test"
import type { DemandSnapshot } from "../demand/index.ts"
import { GlideinError, UsageError } from "../errors.ts"
import { createApp, ReportStore } from "../server/index.ts"
import { serverBase, serverStatus } from "./status.ts"

const NOW = Date.UTC(2026, 10, 21, 12)
const stores: ReportStore[] = []
afterEach(() => {
  for (const s of stores.splice(0)) s.close()
})

function glideinServer() {
  const store = ReportStore.open(":memory:")
  stores.push(store)
  const rows = [{ cpus: 1, memory: 2000, disk: 10000, gpus: 0, os: null, count: 4 }]
  const demand: DemandSnapshot = {
    rows,
    rowsJson: JSON.stringify(rows),
    jobs: 4,
    badLines: 0,
    updated: NOW - 30_000,
    error: null,
    errorAt: null,
    lastPoll: NOW - 30_000,
    nextPoll: null,
    source: "demo",
  }
  const app = createApp({
    demand: () => demand,
    store,
    log: () => {},
    version: "t",
    delayMs: 10_000,
    now: () => NOW,
  })
  return (url: string, init?: RequestInit) => Promise.resolve(app.request(url, init))
}

function run(
  address: string,
  fetcher: (url: string, init?: RequestInit) => Promise<Response>,
  json = false,
) {
  const out: string[] = []
  const code = serverStatus(
    address,
    { json },
    { fetch: fetcher, stdout: (t) => out.push(t), now: () => NOW },
  )
  return code.then((c) => ({ code: c, out: out.join("") }))
}

describe("serverBase()", () => {
  test("takes host:port, a URL, or a site config's .../jsonrpc address", () => {
    expect(serverBase("pool.example.org:11001")).toBe("http://pool.example.org:11001")
    expect(serverBase("http://pool:11001/")).toBe("http://pool:11001")
    expect(serverBase("https://pool/glidein/jsonrpc")).toBe("https://pool/glidein")
    expect(() => serverBase("ftp://pool")).toThrow(UsageError)
    expect(() => serverBase("http://[bad")).toThrow(
      '--server expects a URL like http://host:11001, got "http://[bad"',
    )
  })
})

describe("serverStatus()", () => {
  test("prints the demand and the sites of a glidein serve", async () => {
    const { code, out } = await run("http://pool:11001/jsonrpc", glideinServer())
    expect(code).toBe(0)
    expect(out).toContain("Server http://pool:11001\n  demo queue ok, polled 30 s ago\n")
    expect(out).toContain("Demand: 4 idle jobs in 1 row\n")
    expect(out).toContain("Sites: none has reported yet")
  })

  test("--json gives the server's state and clients as one object", async () => {
    const { out } = await run("http://pool:11001", glideinServer(), true)
    const body = JSON.parse(out)
    expect(body.server).toBe("http://pool:11001")
    expect(body.state.rows).toEqual([
      { cpus: 1, memory: 2000, disk: 10000, gpus: 0, os: null, count: 4 },
    ])
    expect(body.clients.clients).toEqual([])
  })

  test("falls back to get_state for a pyglidein server (status page on every path)", async () => {
    const pyglidein = async (url: string, init?: RequestInit) => {
      if (url.endsWith("/jsonrpc") && init?.method === "POST") {
        const result = [{ cpus: 1, memory: 12000, disk: 3145.728, gpus: 1, os: null, count: 34 }]
        return Response.json({ jsonrpc: "2.0", result, id: 1 })
      }
      return new Response("<html><h1>Pyglidein Server</h1></html>", {
        headers: { "content-type": "text/html" },
      })
    }
    const { code, out } = await run("http://old:11001", pyglidein)
    expect(code).toBe(0)
    expect(out).toContain("(pyglidein: no poll age, errors or sites)")
    expect(out).toContain("Demand: 34 idle jobs in 1 row")
    expect(out).toContain("3,145.728")
  })

  test("fails with one line when the server cannot be reached", async () => {
    const refused = () =>
      Promise.reject(new Error("Unable to connect. Is the computer able to access the url?"))
    const error = await run("http://pool:11001", refused).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(GlideinError)
    expect((error as GlideinError).exitCode).toBe(1)
    expect((error as Error).message).toStartWith(
      "glidein status: server http://pool:11001/api/state: GET failed: ",
    )
  })

  test("fails when the address answers but is no server of ours or pyglidein's", async () => {
    const other = async () => new Response("nope", { status: 404 })
    await expect(run("http://web:8080", other)).rejects.toThrow(
      "glidein status: http://web:8080 is not a glidein or pyglidein server (GET /api/state and POST /jsonrpc get_state gave no demand; HTTP 404)",
    )
  })
})

describe("serverStatus() against a hostile server", () => {
  // Real sockets and the real fetch: redirects and streaming are what is under test.
  let hostile: ReturnType<typeof Bun.serve>
  let elsewhere: ReturnType<typeof Bun.serve>
  let answer: (req: Request) => Response = () => new Response("")
  let elsewhereHits = 0
  beforeAll(() => {
    hostile = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (req) => answer(req) })
    // Where redirects point: a pyglidein-like server with demand of its own.
    elsewhere = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch() {
        elsewhereHits++
        const result = [{ cpus: 1, memory: 1, disk: 1, gpus: 0, os: "ELSEWHERE", count: 7 }]
        return Response.json({ jsonrpc: "2.0", result, id: 1 })
      },
    })
  })
  afterAll(() => {
    hostile.stop(true)
    elsewhere.stop(true)
  })
  const base = () => `http://127.0.0.1:${hostile.port}`
  const realFetch = (url: string, init?: RequestInit) => fetch(url, init)

  for (const status of [301, 302, 307, 308]) {
    test(`serverStatus() does not follow a ${status} redirect to another host`, async () => {
      elsewhereHits = 0
      const target = `http://localhost:${elsewhere.port}`
      answer = (req) =>
        new Response("", {
          status,
          headers: { location: `${target}${new URL(req.url).pathname}` },
        })
      const outcome = await run(base(), realFetch).catch((e: unknown) => e)
      expect(outcome).toBeInstanceOf(GlideinError)
      expect((outcome as Error).message).toMatch(
        new RegExp(
          `^glidein status: server ${base()}/api/\\w+: GET failed: HTTP ${status} redirect to "${target}/api/\\w+" \\(not followed`,
        ),
      )
      expect(elsewhereHits).toBe(0)
    })
  }

  test("serverStatus() names the field an /api answer lacks, never printing undefined", async () => {
    const row = { cpus: 1, memory: 2000, disk: 10, gpus: 0, os: null, count: 3 }
    answer = (req) =>
      new URL(req.url).pathname === "/api/state"
        ? Response.json({ updated: new Date().toISOString(), rows: [row] })
        : Response.json({ clients: [] })
    const outcome = await run(base(), realFetch).catch((e: unknown) => e)
    expect((outcome as Error).message).toBe(
      `glidein status: ${base()}/api/state answered, but not as glidein serve does: age_s: missing (another version of glidein?)`,
    )
  })

  test("serverStatus() stops reading an endless body at the size cap", async () => {
    let sent = 0
    const chunk = new Uint8Array(256 * 1024).fill(0x20)
    // One endless document, so what was sent is what one read took before it stopped.
    // /api/clients answers well, so the one failure is the endless /api/state (both are asked
    // at once, and a 404 there could otherwise be named first).
    const clients = { updated: null, age_s: null, error: null, stale_after_s: 1800, clients: [] }
    answer = (req) =>
      new URL(req.url).pathname !== "/api/state"
        ? Response.json(clients)
        : new Response(
            new ReadableStream({
              pull(controller) {
                sent += chunk.byteLength
                controller.enqueue(chunk)
              },
            }),
          )
    const outcome = await run(base(), realFetch).catch((e: unknown) => e)
    expect((outcome as Error).message).toMatch(
      /^glidein status: server http:\/\/127\.0\.0\.1:\d+\/api\/state: GET failed: reply larger than 16777216 bytes$/,
    )
    // The cap, and what the sockets and streams buffer beyond it.
    expect(sent).toBeLessThan(2 * 16 * 1024 * 1024)
  })

  test("serverStatus() refuses a reply nested 8 million deep before parsing it", async () => {
    const depth = 8 * 1024 * 1024 - 64
    const deep = `${"[".repeat(depth)}${"]".repeat(depth)}`
    answer = () => new Response(deep, { headers: { "content-type": "application/json" } })
    const parse = spyOn(JSON, "parse")
    try {
      const outcome = await run(base(), realFetch).catch((e: unknown) => e)
      // Both documents are asked at once; whichever is refused first is named.
      expect((outcome as Error).message).toMatch(
        /^glidein status: server http:\/\/127\.0\.0\.1:\d+\/api\/\w+: GET reply is nested deeper than 64 levels$/,
      )
      expect(parse.mock.calls.filter(([text]) => String(text).length > 1024)).toEqual([])
    } finally {
      parse.mockRestore()
    }
  })
})

describe("glidein status (the command)", () => {
  const main = new URL("../main.ts", import.meta.url).pathname
  async function glidein(...args: string[]) {
    const proc = Bun.spawn([process.execPath, main, "status", ...args], {
      stdout: "pipe",
      stderr: "pipe",
    })
    const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()])
    return { code, stderr }
  }

  test("says what it needs without --server (exit 2)", async () => {
    expect(await glidein()).toEqual({
      code: 2,
      stderr:
        "glidein status: say which status: --server URL (a glidein serve, e.g. http://pool.example.org:11001) or --config FILE (a site)\n",
    })
  })

  test("exits 1 with one line when nothing listens at the address", async () => {
    const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } })
    const port = listener.port
    listener.stop(true)
    const { code, stderr } = await glidein("--server", `127.0.0.1:${port}`)
    expect(code).toBe(1)
    expect(stderr.split("\n")).toHaveLength(2)
    expect(stderr).toStartWith(`glidein status: server http://127.0.0.1:${port}/api/`)
    expect(stderr).toContain(": GET failed: connection refused")
  })
})

test("serverStatus() shows each site's latest allotment and the terms that produced it", async () => {
  const fetcher = glideinServer()
  const { allotmentParams } = await import("../protocol/allotment.ts")
  const { partition } = await import("../allotment/test-fixtures.ts")
  const params = allotmentParams(
    "site-a",
    [{ policy: partition(), counts: { running: 0, idle: 1 } }],
    false,
  )
  const body = JSON.stringify({ jsonrpc: "2.0", method: "get_allotment", params, id: 1 })
  await fetcher("http://pool:11001/jsonrpc", { method: "POST", body })
  const { code, out } = await run("http://pool:11001", fetcher)
  expect(code).toBe(0)
  expect(out).toContain("Allotments: 1 site\n  site-a: 3 (normal")
  expect(out).toContain("    queued 1: glideins queued here\n")
  const json = JSON.parse((await run("http://pool:11001", fetcher, true)).out)
  expect(json.allotments[0]).toMatchObject({ uuid: "site-a", total: 3 })
})
