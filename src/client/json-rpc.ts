/**
 * @module
 * A small JSON-RPC 2.0 client for the glidein server: one POST per call, a timeout on every
 * attempt, a bounded number of retries for transport failures, and a cap on the reply size.
 * It never hangs past `timeoutMs × attempts` plus the pauses between them.
 */
import { GlideinError } from "../errors.ts"

/** How to reach the server and how hard to try. */
export interface RpcOptions {
  /** Per-attempt limit, covering connect, request and reading the whole reply. */
  timeoutMs: number
  /** Extra attempts after the first, for transport errors and HTTP 5xx only. */
  retries: number
  /** Pause before retry n is `retryDelayMs × n`. */
  retryDelayMs: number
  /** Sent as `Authorization: Bearer …` when set (servers started with `--tokens`). */
  token?: string
  /** Largest reply accepted, in bytes. */
  maxBytes: number
  fetch?: typeof fetch
}

/** Defaults for cron runs: a slow server costs at most about a minute. */
export const RPC_DEFAULTS: RpcOptions = {
  timeoutMs: 15_000,
  retries: 2,
  retryDelayMs: 500,
  maxBytes: 16 * 1024 * 1024,
}

let nextId = 1

/**
 * Calls `method` with `params` at `url` and returns the JSON-RPC `result`. Throws a
 * GlideinError (exit 1) with one line naming the server and what went wrong.
 */
export async function callJsonRpc(
  url: string,
  method: string,
  params: unknown,
  options: Partial<RpcOptions> = {},
): Promise<unknown> {
  const opts = { ...RPC_DEFAULTS, ...options }
  const body = JSON.stringify({ jsonrpc: "2.0", method, params, id: nextId++ })
  const headers: Record<string, string> = { "content-type": "application/json" }
  if (opts.token) headers.authorization = `Bearer ${opts.token}`
  let lastError = ""
  for (let attempt = 0; attempt <= opts.retries; attempt++) {
    if (attempt > 0) await Bun.sleep(opts.retryDelayMs * attempt)
    const outcome = await attemptCall(url, body, headers, opts)
    if (outcome.kind === "reply") return unwrap(url, method, outcome.text)
    lastError = outcome.message
    if (outcome.kind === "final") break
  }
  const tries = opts.retries > 0 ? ` (${opts.retries + 1} attempts)` : ""
  throw new GlideinError(`server ${url}: ${method} failed: ${lastError}${tries}`)
}

type Outcome =
  | { kind: "reply"; text: string }
  | { kind: "retry"; message: string }
  | { kind: "final"; message: string }

async function attemptCall(
  url: string,
  body: string,
  headers: Record<string, string>,
  opts: RpcOptions,
): Promise<Outcome> {
  const signal = AbortSignal.timeout(opts.timeoutMs)
  try {
    const response = await (opts.fetch ?? fetch)(url, { method: "POST", body, headers, signal })
    const text = await readCapped(response, opts.maxBytes)
    if (response.status >= 500) return { kind: "retry", message: `HTTP ${response.status}` }
    // JSON-RPC servers answer errors with 4xx and a JSON body; anything else is not ours.
    if (!response.ok && !text.trimStart().startsWith("{")) {
      return { kind: "final", message: `HTTP ${response.status}` }
    }
    return { kind: "reply", text }
  } catch (error) {
    if (error instanceof ReplyTooLarge) return { kind: "final", message: error.message }
    if (signal.aborted) return { kind: "retry", message: `no reply within ${opts.timeoutMs} ms` }
    return { kind: "retry", message: transportMessage(error) }
  }
}

class ReplyTooLarge extends Error {}

async function readCapped(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get("content-length") ?? Number.NaN)
  if (declared > maxBytes) throw new ReplyTooLarge(`reply larger than ${maxBytes} bytes`)
  if (!response.body) return ""
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of response.body) {
    size += chunk.byteLength
    if (size > maxBytes) throw new ReplyTooLarge(`reply larger than ${maxBytes} bytes`)
    chunks.push(chunk)
  }
  return new TextDecoder().decode(Buffer.concat(chunks))
}

function unwrap(url: string, method: string, text: string): unknown {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch {
    throw new GlideinError(`server ${url}: ${method} reply is not JSON`)
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new GlideinError(`server ${url}: ${method} reply is not a JSON-RPC response`)
  }
  const reply = data as Record<string, unknown>
  if ("error" in reply && reply.error !== null && reply.error !== undefined) {
    throw new GlideinError(
      `server ${url}: ${method} returned an error: ${describeError(reply.error)}`,
    )
  }
  if (!("result" in reply)) {
    throw new GlideinError(`server ${url}: ${method} reply has neither result nor error`)
  }
  return reply.result
}

function describeError(error: unknown): string {
  if (typeof error === "object" && error !== null) {
    const { code, message } = error as { code?: unknown; message?: unknown }
    const text = typeof message === "string" ? message.slice(0, 200) : "no message"
    return typeof code === "number" ? `${text} (code ${code})` : text
  }
  return String(error).slice(0, 200)
}

function transportMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  const code = (error as { code?: unknown }).code
  if (code === "ECONNREFUSED" || code === "ConnectionRefused") return "connection refused"
  if (code === "ENOTFOUND") return "host not found"
  if (typeof code === "string" && code !== "" && !message.includes(code))
    return `${message} (${code})`
  return message
}
