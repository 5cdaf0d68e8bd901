/**
 * @module
 * Test support for the server's socket-level tests (hostile.test.ts, fuzz.test.ts): the real
 * app listening on a free loopback port through `listen()`, raw TCP exchanges that can lie
 * about lengths or drip bytes, an HTTP/1.1 response reader, and a check that a body is a
 * well-formed JSON-RPC 2.0 reply.
 */
import { connect } from "node:net"
import type { DemandRow } from "../demand/index.ts"
import { demandSnapshot } from "../test-support.ts"
import { createApp } from "./app.ts"
import { listen } from "./listen.ts"
import { ReportStore, type StoreLimits } from "./report-store.ts"
import type { TokenSet } from "./tokens.ts"

export const TEST_ROWS: DemandRow[] = [
  { cpus: 1, memory: 4000, disk: 10000, gpus: 0, os: "centos7", count: 120 },
  { cpus: 1, memory: 12000, disk: 3146, gpus: 1, os: null, count: 7 },
]

/** A running test server; `stop()` closes it and its store. */
export interface TestServer {
  port: number
  url: string
  store: ReportStore
  logged: string[]
  stop(): Promise<void>
}

/** The app over an in-memory store, listening on 127.0.0.1 with a short idle timeout. */
export function startTestServer(
  options: {
    idleTimeoutS?: number
    tokens?: TokenSet
    newNamesPerHour?: number
    limits?: Partial<StoreLimits>
  } = {},
): TestServer {
  const demand = demandSnapshot(TEST_ROWS, Date.now())
  const store = ReportStore.open(":memory:", options.limits)
  const logged: string[] = []
  const app = createApp({
    demand: () => demand,
    store,
    tokens: options.tokens,
    newNamesPerHour: options.newNamesPerHour,
    log: (line) => logged.push(line),
    version: "test",
    delayMs: 300_000,
  })
  const server = listen(app, {
    hostname: "127.0.0.1",
    port: 0,
    idleTimeoutS: options.idleTimeoutS ?? 1,
  })
  const port = server.port ?? 0
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    store,
    logged,
    async stop() {
      await server.stop(true)
      store.close()
    },
  }
}

/** What came back on one raw connection, up to the server closing it. */
export interface Exchange {
  /** Every byte received, as latin1 text. */
  text: string
  /** The responses in it, in order. */
  responses: HttpResponse[]
}

export interface HttpResponse {
  status: number
  headers: Record<string, string>
  body: string
}

/**
 * Opens a TCP connection, writes `parts` (waiting `gapMs` between them) and resolves with
 * everything received once the server closes the connection. Nothing here times out: the
 * server's idle timeout is what ends a connection that lies about its length or drips.
 */
export function exchange(
  port: number,
  parts: (string | Uint8Array)[],
  gapMs = 0,
): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1")
    const received: Buffer[] = []
    let writing = true
    socket.on("data", (data: Buffer) => received.push(data))
    socket.on("error", (error: NodeJS.ErrnoException) => {
      // The server may close while a dripping client still writes: that is the point.
      if (error.code !== "EPIPE" && error.code !== "ECONNRESET") reject(error)
    })
    socket.on("close", () => {
      writing = false
      const text = Buffer.concat(received).toString("latin1")
      resolve({ text, responses: readResponses(text) })
    })
    void (async () => {
      for (const part of parts) {
        if (!writing) return
        socket.write(part)
        if (gapMs > 0) await Bun.sleep(gapMs)
      }
    })()
  })
}

/** Splits HTTP/1.1 responses (each with a Content-Length, or none and no body). */
export function readResponses(text: string): HttpResponse[] {
  const responses: HttpResponse[] = []
  let at = 0
  while (at < text.length) {
    const end = text.indexOf("\r\n\r\n", at)
    if (end === -1) break
    const [statusLine = "", ...lines] = text.slice(at, end).split("\r\n")
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? Number.NaN)
    const headers: Record<string, string> = {}
    for (const line of lines) {
      const colon = line.indexOf(":")
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
    }
    const length = Number(headers["content-length"] ?? 0)
    const body = Buffer.from(text.slice(end + 4, end + 4 + length), "latin1").toString("utf8")
    responses.push({ status, headers, body })
    at = end + 4 + length
  }
  return responses
}

/** A POST of `body` to /jsonrpc as raw HTTP, declaring `length` (default: the true one). */
export function rawPost(body: string | Uint8Array, length?: number | string): Uint8Array {
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body
  const head = `POST /jsonrpc HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: ${length ?? bytes.length}\r\nConnection: close\r\n\r\n`
  return Buffer.concat([Buffer.from(head), bytes])
}

/**
 * Why `body` is not a well-formed JSON-RPC 2.0 reply (a response object, or for a batch a
 * non-empty array of them), or undefined when it is.
 */
export function rpcReplyProblem(body: string): string | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    return `not JSON: ${body.slice(0, 200)}`
  }
  const one = (r: unknown): string | undefined => {
    if (typeof r !== "object" || r === null || Array.isArray(r)) return "not an object"
    const o = r as Record<string, unknown>
    if (o.jsonrpc !== "2.0") return '"jsonrpc" is not "2.0"'
    if (!("id" in o)) return "no id"
    if (o.id !== null && typeof o.id !== "string" && typeof o.id !== "number") return "bad id"
    if ("result" in o === "error" in o) return "not exactly one of result and error"
    if ("error" in o) {
      const e = o.error as Record<string, unknown> | null
      if (typeof e !== "object" || e === null) return "error is not an object"
      if (!Number.isInteger(e.code)) return "error.code is not an integer"
      if (typeof e.message !== "string") return "error.message is not a string"
    }
    return undefined
  }
  if (Array.isArray(parsed)) {
    if (parsed.length === 0) return "an empty batch reply"
    for (const r of parsed) {
      const problem = one(r)
      if (problem !== undefined) return `in a batch: ${problem}`
    }
    return undefined
  }
  return one(parsed)
}
