import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { callJsonRpc } from "./json-rpc.ts"

type Handler = (
  body: { method: string; params: unknown; id: number },
  req: Request,
) => Response | Promise<Response>
let handler: Handler = () => new Response("")
let requests = 0
let server: ReturnType<typeof Bun.serve>
let url = ""

beforeAll(() => {
  server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      requests++
      return handler((await req.json()) as Parameters<Handler>[0], req)
    },
  })
  url = `http://127.0.0.1:${server.port}/jsonrpc`
})
afterAll(() => server.stop(true))

const fast = { timeoutMs: 500, retries: 2, retryDelayMs: 10 }

async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (error) {
    return (error as Error).message
  }
  throw new Error("expected a failure")
}

describe("callJsonRpc()", () => {
  test("callJsonRpc() posts a JSON-RPC 2.0 request and returns the result", async () => {
    let seen: unknown
    handler = (body, req) => {
      seen = { ...body, auth: req.headers.get("authorization") }
      return Response.json({ jsonrpc: "2.0", result: [1, 2], id: body.id })
    }
    expect(await callJsonRpc(url, "get_state", {}, { ...fast, token: "t0k" })).toEqual([1, 2])
    expect(seen).toMatchObject({
      jsonrpc: "2.0",
      method: "get_state",
      params: {},
      auth: "Bearer t0k",
    })
  })

  test("callJsonRpc() reports a JSON-RPC error in one line without retrying", async () => {
    requests = 0
    handler = (body) =>
      Response.json({
        jsonrpc: "2.0",
        error: { code: -32601, message: "Method not found" },
        id: body.id,
      })
    expect(await failure(callJsonRpc(url, "nope", {}, fast))).toBe(
      `server ${url}: nope returned an error: Method not found (code -32601)`,
    )
    expect(requests).toBe(1)
  })

  test("callJsonRpc() retries server errors a bounded number of times", async () => {
    requests = 0
    handler = () => new Response("oops", { status: 503 })
    expect(await failure(callJsonRpc(url, "get_state", {}, fast))).toBe(
      `server ${url}: get_state failed: HTTP 503: oops (3 attempts)`,
    )
    expect(requests).toBe(3)
  })

  test("callJsonRpc() keeps what a failing server said, in one line, and hints at the path on a 404", async () => {
    handler = () => new Response("demand not polled yet\u001b[31m\nsecond line", { status: 503 })
    expect(await failure(callJsonRpc(url, "get_state", {}, fast))).toBe(
      `server ${url}: get_state failed: HTTP 503: demand not polled yet\\u001b[31m (3 attempts)`,
    )
    handler = () => new Response("<html><body>Service Unavailable</body></html>", { status: 503 })
    expect(await failure(callJsonRpc(url, "get_state", {}, fast))).toBe(
      `server ${url}: get_state failed: HTTP 503 (3 attempts)`,
    )
    handler = () => new Response("not found: POST /", { status: 404 })
    expect(await failure(callJsonRpc(url, "get_state", {}, fast))).toBe(
      `server ${url}: get_state failed: HTTP 404: not found: POST / (is the address the server's JSON-RPC path, such as http://HOST:11001/jsonrpc?)`,
    )
  })

  test("callJsonRpc() gives up on a server that does not answer within the timeout", async () => {
    // The handler never answers: only the client's own timeout can end this call.
    handler = () => new Promise(() => {})
    const message = await failure(
      callJsonRpc(url, "get_state", {}, { timeoutMs: 100, retries: 1, retryDelayMs: 10 }),
    )
    expect(message).toBe(`server ${url}: get_state failed: no reply within 100 ms (2 attempts)`)
  })

  test("callJsonRpc() reports a refused connection", async () => {
    const closed = Bun.serve({ port: 0, fetch: () => new Response("") })
    const port = closed.port
    closed.stop(true)
    const message = await failure(
      callJsonRpc(`http://127.0.0.1:${port}/jsonrpc`, "get_state", {}, { ...fast, retries: 0 }),
    )
    expect(message).toStartWith(`server http://127.0.0.1:${port}/jsonrpc: get_state failed:`)
    expect(message).not.toContain("\n")
  })

  test("callJsonRpc() refuses a reply that is not JSON or too large", async () => {
    handler = () => new Response("<html>hi</html>")
    expect(await failure(callJsonRpc(url, "get_state", {}, fast))).toBe(
      `server ${url}: get_state reply is not JSON`,
    )
    handler = () => new Response(JSON.stringify({ result: "x".repeat(5000) }))
    expect(await failure(callJsonRpc(url, "get_state", {}, { ...fast, maxBytes: 1000 }))).toContain(
      "reply larger than 1000 bytes",
    )
  })
})
