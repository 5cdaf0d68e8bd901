/**
 * @module
 * A small JSON-RPC 2.0 client for the glidein server: one POST per call, a timeout on every
 * attempt, a bounded number of retries for transport failures, and a cap on the reply size.
 * It never hangs past `timeoutMs × attempts` plus the pauses between them. Redirects are not
 * followed (a POST redirected elsewhere would carry the token to a host nobody configured),
 * and whatever text of the server's ends up in a message is made printable first.
 */
import { GlideinError } from "../errors.ts"
import { printable } from "./printable.ts"

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
const RPC_DEFAULTS: RpcOptions = {
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
  const shown = displayUrl(url)
  const body = JSON.stringify({ jsonrpc: "2.0", method, params, id: nextId++ })
  const headers: Record<string, string> = { "content-type": "application/json" }
  if (opts.token) headers.authorization = `Bearer ${opts.token}`
  let lastError = ""
  for (let attempt = 0; attempt <= opts.retries; attempt++) {
    if (attempt > 0) await Bun.sleep(opts.retryDelayMs * attempt)
    const outcome = await attemptCall(url, body, headers, opts)
    if (outcome.kind === "reply") return unwrap(shown, method, outcome.text)
    lastError = outcome.message
    if (outcome.kind === "final") break
  }
  const tries = opts.retries > 0 ? ` (${opts.retries + 1} attempts)` : ""
  throw new GlideinError(`server ${shown}: ${method} failed: ${lastError}${tries}`)
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
    const response = await (opts.fetch ?? fetch)(url, {
      method: "POST",
      body,
      headers,
      signal,
      redirect: "manual",
    })
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel()
      const location = printable(response.headers.get("location") ?? "")
      return {
        kind: "final",
        message: `HTTP ${response.status} redirect to "${location}" (not followed; set the server address to where it points, if that is the server)`,
      }
    }
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
  if (declared > maxBytes) {
    await response.body?.cancel()
    throw new ReplyTooLarge(`reply larger than ${maxBytes} bytes`)
  }
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
    const text = typeof message === "string" ? printable(message) : "no message"
    return typeof code === "number" ? `${text} (code ${code})` : text
  }
  return printable(String(error))
}

function transportMessage(error: unknown): string {
  // Bun's fetch says `Code fetching "URL". For more information, pass \`verbose: true\`…`; the
  // URL is already in our message and the advice is for programmers.
  const message = printable(
    (error instanceof Error ? error.message : String(error))
      .replace(/\s*For more information, pass `verbose: true`.*$/s, "")
      .replace(/ fetching "[^"]*"\.?$/, ""),
  )
  const code = (error as { code?: unknown }).code
  if (code === "ECONNREFUSED" || code === "ConnectionRefused") return "connection refused"
  if (code === "ENOTFOUND") return "host not found"
  if (typeof code === "string" && code !== "" && !message.includes(code))
    return `${message} (${code})`
  return message
}

/** `url` for messages: a password in it (`http://user:secret@host/`) is not shown. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password === "") return url
    parsed.password = "***"
    return parsed.toString()
  } catch {
    return printable(url)
  }
}
