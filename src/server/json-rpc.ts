/**
 * The server's JSON-RPC 2.0 dispatch over one HTTP body: parsing, batches, notifications and
 * the HTTP status of each error. Every malformed request gets a JSON-RPC error (pyglidein
 * answered some with an HTML page and others with a 500), and no method ever sees anything
 * but a checked request. The envelopes and codes are the protocol's (src/protocol/json-rpc.ts).
 */
import { encodeError, encodeResult, RPC_CODES, RpcError, type RpcId } from "../protocol/json-rpc.ts"

/** A result already serialized as JSON, spliced into the response as is. */
export class RawJson {
  constructor(readonly json: string) {}
}

/** A method: takes the request's params (absent → undefined), returns a result or throws. */
export type RpcMethod<Ctx> = (params: unknown, context: Ctx) => unknown

/** What to send back: the HTTP status and the body (null for 204 No Content). */
export interface RpcReply {
  status: number
  body: string | null
  /** For a single request that reached a method: its name. */
  method?: string
}

/** Largest batch answered; a bigger one is refused as a whole. */
export const MAX_BATCH = 100

/** The HTTP status for a single (non-batch) answer: pyglidein clients treat any non-2xx as failure. */
function statusFor(code: number): number {
  if (code === RPC_CODES.unauthorized || code === RPC_CODES.badToken) return 401
  if (code === RPC_CODES.refused) return 403
  // Both pass with time or an operator's fix, and the client's next run asks again.
  if (code === RPC_CODES.notReady || code === RPC_CODES.notStored) return 503
  if (code === RPC_CODES.internalError) return 500
  return 400
}

type Answer = { json: string; code: number; method?: string } | null

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
}

/**
 * Answers one request object. Returns null for a notification (a request without `id`),
 * which gets no response unless the request itself is invalid.
 */
function answer<Ctx>(
  request: unknown,
  methods: Record<string, RpcMethod<Ctx>>,
  context: Ctx,
  log: (line: string) => void,
): Answer {
  if (!isPlainObject(request)) {
    return {
      json: encodeError(null, RPC_CODES.invalidRequest, "expected a request object"),
      code: RPC_CODES.invalidRequest,
    }
  }
  const hasId = Object.hasOwn(request, "id")
  const rawId = request.id
  const idValid = rawId === null || typeof rawId === "string" || typeof rawId === "number"
  const id: RpcId = hasId && idValid ? (rawId as RpcId) : null
  const invalid = (detail: string): Answer => ({
    json: encodeError(id, RPC_CODES.invalidRequest, detail),
    code: RPC_CODES.invalidRequest,
  })
  if (request.jsonrpc !== "2.0") return invalid('"jsonrpc" must be "2.0"')
  if (hasId && !idValid) return invalid('"id" must be a string, a number or null')
  if (typeof request.method !== "string") return invalid('"method" must be a string')
  const params = request.params
  if (params !== undefined && typeof params !== "object") {
    return invalid('"params" must be an object or an array')
  }
  const method = Object.hasOwn(methods, request.method) ? methods[request.method] : undefined
  if (method === undefined) {
    if (!hasId) return null
    return {
      json: encodeError(
        id,
        RPC_CODES.methodNotFound,
        `no method "${request.method.slice(0, 100)}"`,
      ),
      code: RPC_CODES.methodNotFound,
    }
  }
  let result: unknown
  try {
    result = method(params === null ? undefined : params, context)
  } catch (error) {
    if (!(error instanceof RpcError)) {
      log(
        `jsonrpc: ${request.method} failed: ${error instanceof Error ? error.message : String(error)}`,
      )
      if (!hasId) return null
      return { json: encodeError(id, RPC_CODES.internalError), code: RPC_CODES.internalError }
    }
    if (!hasId) return null
    return { json: encodeError(id, error.code, error.message), code: error.code }
  }
  if (!hasId) return null
  const resultJson = result instanceof RawJson ? result.json : JSON.stringify(result ?? null)
  return {
    json: encodeResult(id, resultJson),
    code: 0,
    method: request.method,
  }
}

/**
 * Handles one HTTP body of JSON-RPC: a single request or a batch.
 * @example
 * handleJsonRpc('{"jsonrpc":"2.0","method":"ping","id":1}', { ping: () => "pong" }, {})
 * // { status: 200, body: '{"jsonrpc":"2.0","result":"pong","id":1}' }
 */
export function handleJsonRpc<Ctx>(
  text: string,
  methods: Record<string, RpcMethod<Ctx>>,
  context: Ctx,
  log: (line: string) => void = () => {},
): RpcReply {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return rpcRefusal(400, RPC_CODES.parseError, "the body is not valid JSON")
  }
  if (Array.isArray(parsed)) {
    if (parsed.length === 0) {
      return rpcRefusal(400, RPC_CODES.invalidRequest, "empty batch")
    }
    if (parsed.length > MAX_BATCH) {
      return rpcRefusal(400, RPC_CODES.invalidRequest, `batch of more than ${MAX_BATCH} requests`)
    }
    const parts: string[] = []
    for (const request of parsed) {
      const a = answer(request, methods, context, log)
      if (a !== null) parts.push(a.json)
    }
    return parts.length === 0
      ? { status: 204, body: null }
      : { status: 200, body: `[${parts.join(",")}]` }
  }
  const a = answer(parsed, methods, context, log)
  if (a === null) return { status: 204, body: null }
  const reply: RpcReply = { status: a.code === 0 ? 200 : statusFor(a.code), body: a.json }
  if (a.method !== undefined) reply.method = a.method
  return reply
}

/** The reply to a body refused as a whole (not JSON, not UTF-8, too large, wrong HTTP method). */
export function rpcRefusal(status: number, code: number, detail: string): RpcReply {
  return { status, body: encodeError(null, code, detail) }
}
