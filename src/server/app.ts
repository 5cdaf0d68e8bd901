/**
 * The HTTP app of `glidein serve`, a factory over its dependencies so tests drive it with
 * `app.request()` and no socket. `serve` only wires it to `Bun.serve`.
 */
import { Hono } from "hono"
import type { DemandSnapshot } from "../demand/index.ts"
import { apiClients, apiState } from "./api.ts"
import {
  handleJsonRpc,
  RawJson,
  RPC_CODES,
  RpcError,
  type RpcMethod,
  rpcRefusal,
} from "./json-rpc.ts"
import { parseMonitoringParams, total } from "./monitoring.ts"
import { renderMetrics } from "./prometheus.ts"
import type { ReportStore } from "./report-store.ts"
import { RANGES, type Range, renderStatusPage } from "./status-page.ts"
import type { TokenSet } from "./tokens.ts"

/** Request bodies larger than this are refused with 413 (pyglidein parsed 50 MB bodies whole). */
export const MAX_BODY_BYTES = 1 << 20

/** What the app needs. */
export interface AppDeps {
  demand: () => DemandSnapshot
  store: ReportStore
  /** When set, `monitoring` needs `Authorization: Bearer <token>` from this set. */
  tokens?: TokenSet
  log: (line: string) => void
  version: string
  /** The poll interval, shown on the page and used to tell gaps in the history. */
  delayMs: number
  /** A site is stale when its latest report is older than this (default 30 min). */
  staleAfterMs?: number
  /** History bucket widths, as the store keeps them. */
  buckets?: { demandMs: number; siteMs: number }
  now?: () => number
}

interface RpcContext {
  authorization: string | null
}

const JSON_HEADERS = { "content-type": "application/json; charset=utf-8" }

/** Reads a request body up to `limit` bytes; undefined when it is larger. */
async function readBody(request: Request, limit: number): Promise<Uint8Array | undefined> {
  const length = request.headers.get("content-length")
  if (length !== null && Number(length) > limit) return undefined
  if (request.body === null) return new Uint8Array(0)
  if (length !== null) {
    // The HTTP layer holds the body to its declared length: read it in one go.
    const body = new Uint8Array(await request.arrayBuffer())
    return body.length > limit ? undefined : body
  }
  const chunks: Uint8Array[] = []
  let size = 0
  const reader = request.body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.length
    if (size > limit) {
      await reader.cancel()
      return undefined
    }
    chunks.push(value)
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)
}

/** Creates the app. */
export function createApp(deps: AppDeps): Hono {
  const now = deps.now ?? Date.now
  const staleAfterMs = deps.staleAfterMs ?? 30 * 60_000
  const buckets = deps.buckets ?? { demandMs: 60_000, siteMs: 300_000 }
  const { store, tokens, log } = deps

  const methods: Record<string, RpcMethod<RpcContext>> = {
    get_state: () => {
      const demand = deps.demand()
      if (demand.rows === null) {
        throw new RpcError(
          RPC_CODES.notReady,
          demand.error
            ? `no demand table yet: the last poll failed: ${demand.error}`
            : "no demand table yet: the first poll has not finished",
        )
      }
      return new RawJson(demand.rowsJson)
    },
    monitoring: (params, context) => {
      let tokenName: string | null = null
      if (tokens !== undefined) {
        tokenName = tokens.nameFor(context.authorization) ?? null
        if (tokenName === null) {
          throw new RpcError(
            RPC_CODES.unauthorized,
            "monitoring needs a valid token: send Authorization: Bearer <token>",
          )
        }
      }
      const report = parseMonitoringParams(params)
      store.saveReport(report, tokenName, now())
      log(
        `monitoring: report from ${JSON.stringify(report.uuid)}${tokenName ? ` (token "${tokenName}")` : ""}: running ${total(report, "glideins_running")}, idle ${total(report, "glideins_idle")}, launched ${total(report, "glideins_launched")}`,
      )
      // pyglidein's server answered monitoring with an empty string; its clients expect nothing else.
      return ""
    },
  }

  const app = new Hono()

  app.post("/jsonrpc", async (c) => {
    const body = await readBody(c.req.raw, MAX_BODY_BYTES)
    const reply =
      body === undefined
        ? rpcRefusal(413, `request body larger than ${MAX_BODY_BYTES} bytes`)
        : handleJsonRpc(
            body,
            methods,
            { authorization: c.req.header("authorization") ?? null },
            log,
          )
    const headers: Record<string, string> = { ...JSON_HEADERS }
    if (reply.status === 401) headers["www-authenticate"] = 'Bearer realm="glidein"'
    return new Response(reply.body, { status: reply.status, headers })
  })

  app.all("/jsonrpc", () => {
    const reply = rpcRefusal(405, "JSON-RPC requests are POSTed to /jsonrpc")
    return new Response(reply.body, { status: 405, headers: { ...JSON_HEADERS, allow: "POST" } })
  })

  app.get("/api/state", (c) => c.json(apiState(deps.demand(), now())))

  app.get("/api/clients", (c) => c.json(apiClients(store.clients(), now(), staleAfterMs)))

  app.get("/metrics", (c) => {
    const text = renderMetrics({
      now: now(),
      demand: deps.demand(),
      clients: store.clients(),
      staleAfterMs,
    })
    return c.body(text, 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" })
  })

  app.get("/healthz", (c) => {
    const demand = deps.demand()
    return c.json({
      status: "ok",
      demand: demand.updated === null ? "none yet" : demand.error === null ? "fresh" : "stale",
      demand_age_s: demand.updated === null ? null : Math.round((now() - demand.updated) / 1000),
      error: demand.error,
    })
  })

  app.get("/", async (c) => {
    const range: Range = c.req.query("range") === "week" ? "week" : "day"
    const at = now()
    const since = at - RANGES[range]
    const page = await renderStatusPage({
      now: at,
      version: deps.version,
      demand: deps.demand(),
      delayMs: deps.delayMs,
      clients: store.clients(),
      staleAfterMs,
      range,
      demandHistory: store.demandHistory(since),
      siteHistory: store.siteHistory(since),
      demandBucketMs: buckets.demandMs,
      siteBucketMs: buckets.siteMs,
    })
    return c.html(page, 200, {
      // No script at all, and nothing loaded from elsewhere: the page works offline and an
      // escaping mistake could not run code.
      "content-security-policy":
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
    })
  })

  app.notFound((c) => c.json({ error: `not found: ${c.req.method} ${c.req.path}` }, 404))

  app.onError((error, c) => {
    log(`http: ${c.req.method} ${c.req.path} failed: ${error.message}`)
    if (c.req.path === "/jsonrpc") {
      return new Response(
        `{"jsonrpc":"2.0","error":{"code":${RPC_CODES.internalError},"message":"Internal error"},"id":null}`,
        { status: 500, headers: JSON_HEADERS },
      )
    }
    return c.json({ error: "internal error" }, 500)
  })

  return app
}
