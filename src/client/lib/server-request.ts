/**
 * @module
 * The one way the client asks a glidein server anything over HTTP (`submit`'s JSON-RPC calls
 * and `status --server`'s GETs alike): a timeout on every attempt, a bounded number of
 * retries for transport failures and HTTP 5xx, a cap on the reply size counted as it is read,
 * and no redirects followed (a request redirected elsewhere would carry the token to a host
 * nobody configured, and show that host's data as the server's). Whatever text of the
 * server's ends up in a message is made printable first.
 */
import { GlideinError } from "../../errors.ts"
import { printable } from "../../printable.ts"

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
  fetch?: (url: string, init: RequestInit) => Promise<Response>
}

/** Defaults for cron runs: a slow server costs at most about a minute. */
export const RPC_DEFAULTS: RpcOptions = {
  timeoutMs: 15_000,
  retries: 2,
  retryDelayMs: 500,
  maxBytes: 16 * 1024 * 1024,
}

/** What the server answered (never a 3xx), and after how many attempts. */
export interface ServerReply {
  status: number
  text: string
  attempts: number
}

/** The request itself: a GET, or a POST with a JSON body. */
export interface ServerRequest {
  method: "GET" | "POST"
  body?: string
}

/**
 * Sends `request` to `url` and returns the reply of the last attempt: a 5xx is returned once
 * the retries are spent. Throws a GlideinError (exit 1) in one line, `server URL: WHAT failed:
 * …`, when no reply came, the reply was a redirect, or it was larger than `maxBytes`.
 */
export async function requestServer(
  url: string,
  request: ServerRequest,
  what: string,
  options: Partial<RpcOptions> = {},
): Promise<ServerReply> {
  const opts = { ...RPC_DEFAULTS, ...options }
  const headers: Record<string, string> = {}
  if (request.body !== undefined) headers["content-type"] = "application/json"
  if (opts.token) headers.authorization = `Bearer ${opts.token}`
  let lastError = ""
  let attempts = 0
  for (let attempt = 0; attempt <= opts.retries; attempt++) {
    if (attempt > 0) await Bun.sleep(opts.retryDelayMs * attempt)
    attempts++
    const outcome = await attemptRequest(url, { ...request, headers }, opts)
    if (outcome.kind === "reply") {
      if (outcome.status < 500 || attempt === opts.retries) {
        return { status: outcome.status, text: outcome.text, attempts }
      }
      continue
    }
    lastError = outcome.message
    if (outcome.kind === "final") break
  }
  throw new GlideinError(
    `server ${displayUrl(url)}: ${what} failed: ${lastError}${tries(attempts)}`,
  )
}

/** ` (3 attempts)` after a message, when there was more than one. */
export function tries(attempts: number): string {
  return attempts > 1 ? ` (${attempts} attempts)` : ""
}

type Outcome =
  | { kind: "reply"; status: number; text: string }
  | { kind: "retry"; message: string }
  | { kind: "final"; message: string }

async function attemptRequest(
  url: string,
  init: ServerRequest & { headers: Record<string, string> },
  opts: RpcOptions,
): Promise<Outcome> {
  const signal = AbortSignal.timeout(opts.timeoutMs)
  try {
    const response = await (opts.fetch ?? fetch)(url, { ...init, signal, redirect: "manual" })
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel()
      const location = printable(response.headers.get("location") ?? "")
      return {
        kind: "final",
        message: `HTTP ${response.status} redirect to "${location}" (not followed; set the server address to where it points, if that is the server)`,
      }
    }
    const text = await readCapped(response, opts.maxBytes)
    return { kind: "reply", status: response.status, text }
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
