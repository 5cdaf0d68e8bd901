/**
 * A fuzz run against the real server on a socket: a fixed seed and a fixed budget of 2,000
 * requests (random JSON, mutated valid requests, random bytes, random paths and methods), so
 * a failure is reproducible and CI time is bounded. The server must never answer 500, every
 * JSON-RPC reply must be well formed, nothing refused may be stored, and it must still answer
 * when the run is over.
 */
import { afterEach, describe, expect, test } from "bun:test"
import { seededRandom } from "../seeded-random.ts"
import { rpcReplyProblem, startTestServer, TEST_ROWS, type TestServer } from "./test-server.ts"
import { parseTokens } from "./tokens.ts"

const SEED = 0x5eed_2026
const BUDGET = 2000
const TOKEN = "fuzz-token-0123456789abcdef"

/** The fuzzer's dice, replayable from the seed. */
function random(seed: number) {
  const next = seededRandom(seed)
  const int = (n: number) => Math.floor(next() * n)
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!
  return { next, int, pick }
}
type Random = ReturnType<typeof random>

const WORDS = [
  "jsonrpc",
  "2.0",
  "method",
  "get_state",
  "monitoring",
  "params",
  "id",
  "uuid",
  "timestamp",
  "metrics",
  "glideins_running",
  "glideins_idle",
  "glideins_launched",
  "min_idle_time",
  "Cluster",
  "__proto__",
  "constructor",
  "<script>",
  "\u202e",
  "\ud800",
  "é",
  "",
]

function randomString(r: Random): string {
  if (r.next() < 0.6) return r.pick(WORDS)
  return Array.from({ length: r.int(12) }, () =>
    String.fromCharCode(r.int(r.next() < 0.8 ? 128 : 0x10000)),
  ).join("")
}

function randomNumber(r: Random): number {
  return r.pick([
    0,
    -0,
    1,
    -1,
    2.5,
    1e6,
    1e6 + 1,
    8.64e13,
    1e308,
    -1e308,
    1763726400,
    1e11,
    2 ** 53,
    r.next() * 1e9,
  ])
}

function randomJson(r: Random, depth = 0): unknown {
  const kind = depth > 4 ? r.int(4) : r.int(6)
  switch (kind) {
    case 0:
      return null
    case 1:
      return r.next() < 0.5
    case 2:
      return randomNumber(r)
    case 3:
      return randomString(r)
    case 4:
      return Array.from({ length: r.int(5) }, () => randomJson(r, depth + 1))
    default:
      return Object.fromEntries(
        Array.from({ length: r.int(5) }, () => [randomString(r), randomJson(r, depth + 1)]),
      )
  }
}

/** Valid requests of every shape the server knows, to mutate. */
function validRequests(r: Random): unknown[] {
  const uuid = `fuzz${r.int(1000)}@site`
  const v11 = {
    jsonrpc: "2.0",
    method: "monitoring",
    params: {
      uuid,
      timestamp: 1763726400,
      metrics: {
        glideins_running: { Cluster: 3, gpu: 1 },
        glideins_idle: { Cluster: 1 },
        glideins_launched: { Cluster: 2 },
        avg_idle_time: { Cluster: 0 },
        min_idle_time: { Cluster: 8.64e13 },
        max_idle_time: { Cluster: 0 },
      },
    },
    id: r.int(100),
  }
  const old = {
    jsonrpc: "2.0",
    method: "monitoring",
    params: { uuid, glideins_running: 4 },
    id: "x",
  }
  const state = { jsonrpc: "2.0", method: "get_state", params: {}, id: 0 }
  return [v11, old, state, [state, v11], [v11, { ...state, id: undefined }]]
}

/** Replaces, deletes or adds one value somewhere in a JSON value. */
function mutateValue(r: Random, value: unknown): unknown {
  if (typeof value !== "object" || value === null || r.next() < 0.25) return randomJson(r)
  if (Array.isArray(value)) {
    const copy = [...value]
    if (copy.length === 0 || r.next() < 0.2) copy.push(randomJson(r))
    else {
      const i = r.int(copy.length)
      if (r.next() < 0.2) copy.splice(i, 1)
      else copy[i] = mutateValue(r, copy[i])
    }
    return copy
  }
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) }
  const keys = Object.keys(copy)
  if (keys.length === 0 || r.next() < 0.15) copy[randomString(r)] = randomJson(r)
  else {
    const key = r.pick(keys)
    if (r.next() < 0.15) delete copy[key]
    else copy[key] = mutateValue(r, copy[key])
  }
  return copy
}

/** Flips, inserts, deletes, duplicates or cuts bytes of a text. */
function mutateBytes(r: Random, text: string): Uint8Array {
  let bytes = Array.from(new TextEncoder().encode(text))
  for (let n = 1 + r.int(4); n > 0; n--) {
    const at = r.int(bytes.length + 1)
    switch (r.int(5)) {
      case 0:
        bytes[at] = r.int(256)
        break
      case 1:
        bytes.splice(
          at,
          0,
          r.pick([0x22, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x5c, 0x00, 0xff, 0xc3]),
        )
        break
      case 2:
        bytes.splice(at, 1 + r.int(8))
        break
      case 3:
        bytes = [...bytes.slice(0, at), ...bytes.slice(r.int(bytes.length)), ...bytes.slice(at)]
        break
      default:
        bytes = bytes.slice(0, at)
    }
  }
  return new Uint8Array(bytes)
}

const PATHS = [
  "/",
  "/api/state",
  "/api/clients",
  "/metrics",
  "/healthz",
  "/jsonrpc",
  "/nope",
  "/%",
  "/%ZZ",
  "/..%2f..%2fetc",
  "//",
  "/api",
  "/?range=week",
  "/?range=%E0%A4%A",
  "/?range=<x>",
]

/** One fuzzed request: [method, path, body, headers, what it is (for the failure message)]. */
function fuzzedRequest(
  r: Random,
  i: number,
): {
  method: string
  path: string
  body?: Uint8Array | string
  headers: Record<string, string>
  what: string
} {
  const headers: Record<string, string> = {}
  if (r.next() < 0.3)
    headers.authorization = r.pick([
      `Bearer ${TOKEN}`,
      "Bearer wrong-token-0123456789",
      "Basic xyz",
      `bearer  ${TOKEN} `,
      "Bearer",
      "",
    ])
  if (r.next() < 0.3)
    headers["content-type"] = r.pick([
      "application/json",
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
    ])
  const kind = r.int(10)
  if (kind < 2)
    return {
      method: "POST",
      path: "/jsonrpc",
      body: JSON.stringify(randomJson(r)),
      headers,
      what: `#${i} random JSON`,
    }
  if (kind < 5) {
    const request = mutateValue(r, r.pick(validRequests(r)))
    return {
      method: "POST",
      path: "/jsonrpc",
      body: JSON.stringify(request) ?? "",
      headers,
      what: `#${i} mutated request`,
    }
  }
  if (kind < 7) {
    const text = JSON.stringify(r.pick(validRequests(r)))
    return {
      method: "POST",
      path: "/jsonrpc",
      body: mutateBytes(r, text),
      headers,
      what: `#${i} mutated bytes`,
    }
  }
  if (kind < 8) {
    const bytes = new Uint8Array(r.int(2048)).map(() => r.int(256))
    return { method: "POST", path: "/jsonrpc", body: bytes, headers, what: `#${i} random bytes` }
  }
  const method = r.pick(["GET", "GET", "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"])
  const path = r.pick(PATHS) + (r.next() < 0.3 ? `?${randomString(r).replace(/[#\s]/g, "")}` : "")
  const body = method === "GET" || method === "HEAD" ? undefined : JSON.stringify(randomJson(r))
  return { method, path, body, headers, what: `#${i} ${method} ${path}` }
}

const servers: TestServer[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop()
})

describe("the server under fuzzing", () => {
  test(`never answers 500 and never dies (seed ${SEED.toString(16)}, ${BUDGET} requests)`, async () => {
    const open = startTestServer()
    const guarded = startTestServer({ tokens: parseTokens(`fuzz ${TOKEN}\n`, "tokens") })
    servers.push(open, guarded)
    const r = random(SEED)
    const seen = new Map<number, number>()
    for (let i = 0; i < BUDGET; i++) {
      const server = i % 4 === 3 ? guarded : open
      const request = fuzzedRequest(r, i)
      const res = await fetch(`${server.url}${request.path}`, {
        method: request.method,
        body: request.body,
        headers: request.headers,
      })
      const text = await res.text()
      const context = `${request.what}: ${res.status} ${text.slice(0, 300)}`
      seen.set(res.status, (seen.get(res.status) ?? 0) + 1)
      expect(res.status, context).toBeLessThan(500)
      if (request.path === "/jsonrpc" && request.method === "POST") {
        expect([200, 204, 400, 401, 403, 413], context).toContain(res.status)
        if (res.status !== 204) expect(rpcReplyProblem(text), context).toBeUndefined()
      }
    }
    for (const server of [open, guarded]) {
      // No method ever failed inside: every refusal was a JSON-RPC error, not a caught crash.
      expect(server.logged.filter((l) => l.includes("failed"))).toEqual([])
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200)
      const state = await fetch(`${server.url}/jsonrpc`, {
        method: "POST",
        body: '{"jsonrpc":"2.0","method":"get_state","id":1}',
      })
      expect(((await state.json()) as { result: unknown }).result).toEqual(TEST_ROWS)
      for (const c of server.store.clients()) {
        expect(c.uuid).toMatch(/^\P{C}{1,200}$/u)
        for (const n of [c.running, c.idle, c.launched]) expect(Number.isSafeInteger(n)).toBe(true)
      }
    }
    // The run reached every kind of answer, not just one refusal over and over.
    expect([...seen.keys()].sort()).toEqual(expect.arrayContaining([200, 204, 400, 401, 404, 405]))
    expect(open.store.clients().length).toBeGreaterThan(10)
  }, 60_000)
})
