/**
 * @module
 * The JSON-RPC 2.0 envelopes both sides exchange over one HTTP body: the request a client
 * posts, the result and error objects a server answers, and the error codes, including the
 * server-defined ones. pyglidein's clients read a reply the same way ours do (an `error`
 * member is a failure, else `result`), so these are the only forms on the wire.
 */

/** The standard codes, plus server-defined ones in the reserved -32000…-32099 range. */
export const RPC_CODES = {
  parseError: -32700,
  invalidRequest: -32600,
  /** Also what a server from before a method answers: `get_allotment` falls back on it. */
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  /** get_state before the first good condor_q poll. */
  notReady: -32000,
  /** monitoring without a bearer token when tokens are configured. */
  unauthorized: -32001,
  /** monitoring whose report could not be written (disk full, database gone read-only). */
  notStored: -32002,
  /** monitoring with a bearer token that is not one of the server's. */
  badToken: -32003,
  /** monitoring refused: its uuid is another token's, or the site may not add a new one now. */
  refused: -32004,
} as const

/** An error a method throws to answer with a JSON-RPC error object. */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message)
  }
}

export type RpcId = string | number | null

/** The messages the specification gives its standard codes; a server-defined code has none. */
const STANDARD_MESSAGES: Record<number, string> = {
  [RPC_CODES.parseError]: "Parse error",
  [RPC_CODES.invalidRequest]: "Invalid Request",
  [RPC_CODES.methodNotFound]: "Method not found",
  [RPC_CODES.invalidParams]: "Invalid params",
  [RPC_CODES.internalError]: "Internal error",
}

/** The body of a call, as ours and pyglidein's clients post it. */
export function encodeRequest(method: string, params: unknown, id: RpcId): string {
  return JSON.stringify({ jsonrpc: "2.0", method, params, id })
}

/** A response carrying a result already serialized as JSON (`resultJson`), spliced in as is. */
export function encodeResult(id: RpcId, resultJson: string): string {
  return `{"jsonrpc":"2.0","result":${resultJson},"id":${JSON.stringify(id)}}`
}

/**
 * A response carrying an error object. A standard code keeps the specification's message and
 * puts `detail` into `data`; a server-defined code carries `detail` as its message.
 * @example
 * encodeError(3, -32601, 'no method "get_allotment"')
 * // {"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found","data":"no method \"get_allotment\""},"id":3}
 */
export function encodeError(id: RpcId, code: number, detail?: string): string {
  const error: { code: number; message: string; data?: string } = {
    code,
    message: STANDARD_MESSAGES[code] ?? detail ?? "Server error",
  }
  if (STANDARD_MESSAGES[code] !== undefined && detail !== undefined) error.data = detail
  return `{"jsonrpc":"2.0","error":${JSON.stringify(error)},"id":${JSON.stringify(id)}}`
}

/** A parsed response body read as a client reads it. */
export type RpcResponse =
  | { kind: "result"; result: unknown }
  /** `error` is the member as sent; `code` and `message` only when they have their types. */
  | { kind: "error"; error: unknown; code?: number; message?: string }
  /** Not a response at all: `problem` completes "the reply …". */
  | { kind: "malformed"; problem: string }

/**
 * Reads a parsed response body: an `error` member that is neither null nor absent is a
 * failure (as pyglidein's client has it), else the body must have a `result`.
 */
export function decodeResponse(data: unknown): RpcResponse {
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    return { kind: "malformed", problem: "is not a JSON-RPC response" }
  }
  const reply = data as Record<string, unknown>
  const error = reply.error
  if ("error" in reply && error !== null && error !== undefined) {
    const failed: RpcResponse = { kind: "error", error }
    if (typeof error === "object") {
      const { code, message } = error as { code?: unknown; message?: unknown }
      if (typeof code === "number") failed.code = code
      if (typeof message === "string") failed.message = message
    }
    return failed
  }
  if (!("result" in reply)) return { kind: "malformed", problem: "has neither result nor error" }
  return { kind: "result", result: reply.result }
}
