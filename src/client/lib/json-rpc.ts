/**
 * @module
 * A small JSON-RPC 2.0 client for the glidein server: one POST per call through
 * `requestServer` (its timeout, retries, size cap and refusal of redirects), and a reply
 * refused before it is parsed when it nests too deep. Whatever text of the server's ends up
 * in a message is made printable first.
 */
import { GlideinError } from "../../errors.ts"
import { printable } from "../../printable.ts"
import { decodeResponse, encodeRequest, type RpcResponse } from "../../protocol/json-rpc.ts"
import { JsonRefused, parseJsonBounded } from "./parse-json-bounded.ts"
import { displayUrl, type RpcOptions, requestServer, tries } from "./server-request.ts"

export type { RpcOptions } from "./server-request.ts"

let nextId = 1

/** A JSON-RPC error object the server answered, with its code (when it gave a number). */
export class RpcErrorReply extends GlideinError {
  constructor(
    message: string,
    readonly code: number | undefined,
  ) {
    super(message)
  }
}

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
  const body = encodeRequest(method, params, nextId++)
  const reply = await requestServer(url, { method: "POST", body }, method, options)
  const failed = `server ${displayUrl(url)}: ${method} failed: HTTP ${reply.status}${explanation(reply.text)}`
  if (reply.status >= 500) throw new GlideinError(`${failed}${tries(reply.attempts)}`)
  // JSON-RPC servers answer errors with 4xx and a JSON body; anything else is not ours.
  if (reply.status >= 400 && !reply.text.trimStart().startsWith("{")) {
    const hint =
      reply.status === 404 || reply.status === 405
        ? " (is the address the server's JSON-RPC path, such as http://HOST:11001/jsonrpc?)"
        : ""
    throw new GlideinError(`${failed}${hint}`)
  }
  return unwrap(displayUrl(url), method, reply.text)
}

function unwrap(url: string, method: string, text: string): unknown {
  let data: unknown
  try {
    data = parseJsonBounded(text)
  } catch (error) {
    if (!(error instanceof JsonRefused)) throw error
    throw new GlideinError(`server ${url}: ${method} reply is ${error.message}`)
  }
  const reply = decodeResponse(data)
  if (reply.kind === "malformed") {
    throw new GlideinError(`server ${url}: ${method} reply ${reply.problem}`)
  }
  if (reply.kind === "error") {
    throw new RpcErrorReply(
      `server ${url}: ${method} returned an error: ${describeError(reply)}`,
      reply.code,
    )
  }
  return reply.result
}

function describeError(reply: Extract<RpcResponse, { kind: "error" }>): string {
  if (typeof reply.error === "object") {
    const text = reply.message !== undefined ? printable(reply.message) : "no message"
    return reply.code !== undefined ? `${text} (code ${reply.code})` : text
  }
  return printable(String(reply.error))
}

/** Longest part of a server's plain-text explanation shown. */
const MAX_EXPLANATION = 200

/**
 * What a failing server said about it (`: demand not polled yet`), from a plain-text body:
 * its first line, without control characters, cut short. A page of HTML says nothing useful
 * in one line and is left out.
 */
function explanation(text: string): string {
  const first = text.trim().split("\n", 1)[0]?.trim()
  if (!first || first.startsWith("<") || first.startsWith("{")) return ""
  const shown = printable(first)
  return `: ${shown.length > MAX_EXPLANATION ? `${shown.slice(0, MAX_EXPLANATION - 1)}…` : shown}`
}
