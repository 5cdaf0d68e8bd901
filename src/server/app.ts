/**
 * The HTTP app of `glidein serve`, a factory over its dependencies so tests drive it with
 * `app.request()` and no socket. `serve` only wires it to `Bun.serve`.
 */
import { Hono } from "hono"
import { type AllotPolicy, DEFAULT_POLICY } from "../allotment/allot-policy.ts"
import { AllotmentBook } from "../allotment/allotment-book.ts"
import type { DemandSnapshot } from "../demand/index.ts"
import { encodeError, RPC_CODES, RpcError } from "../protocol/json-rpc.ts"
import { parseMonitoringParams, total } from "../protocol/monitoring.ts"
import { allotmentMethod, allotmentRoutes } from "./allotment-method.ts"
import { apiState } from "./api.ts"
import { parseRange, RANGES, type Range } from "./chart-range.ts"
import { ClientsView } from "./clients-view.ts"
import { funnelMetrics, funnelOf, type PoolFeed, poolForAllotment } from "./funnel.ts"
import { handleJsonRpc, RawJson, type RpcMethod, rpcRefusal } from "./json-rpc.ts"
import { NewNameLimit } from "./new-name-limit.ts"
import { htmlResponse } from "./page-response.ts"
import { type RenderedMetrics, renderDemandAge, renderMetrics } from "./prometheus.ts"
import { pauseAfter, RenderCache } from "./render-cache.ts"
import {
  ReportRefused,
  type ReportStore,
  type SitePoint,
  type StoredClient,
} from "./report-store.ts"
import { ServerMetrics } from "./server-metrics.ts"
import { siteRoutes } from "./site-routes.ts"
import { renderStatusPage } from "./status-page.ts"
import type { TokenSet } from "./tokens.ts"
import { ViewGate, type ViewGateLimits } from "./view-gate.ts"

/** Request bodies larger than this are refused with 413 (pyglidein parsed 50 MB bodies whole). */
export const MAX_BODY_BYTES = 1 << 20

/** A site is stale when its latest report is older than this, unless AppDeps says otherwise. */
export const DEFAULT_STALE_AFTER_MS = 30 * 60_000

/** What the app needs. */
export interface AppDeps {
  demand: () => DemandSnapshot
  store: ReportStore
  /**
   * When set, `monitoring` needs `Authorization: Bearer <token>` from this set. Read at every
   * report, so `serve` swaps it when SIGHUP reloads the file.
   */
  tokens?: TokenSet
  /** Without tokens: new uuids one address may add per hour (default 16). */
  newNamesPerHour?: number
  /** What is wrong with the database file (deleted while serving…), asked at every report. */
  databaseProblem?: () => string | undefined
  log: (line: string) => void
  version: string
  /** The poll interval, shown on the page and used to tell gaps in the history. */
  delayMs: number
  /** A site is stale when its latest report is older than this (default 30 min). */
  staleAfterMs?: number
  /** The server's counters (`serve` shares them with the poller); a new set by default. */
  metrics?: ServerMetrics
  /** The allotment policy (`[allot]` of `serve --config`); the defaults otherwise. */
  allotPolicy?: AllotPolicy
  /** The book of allotments (shared with the pool's watch, which asks who asked); a new one otherwise. */
  allotments?: AllotmentBook
  /** The pool, when `serve` watches it with condor_status (the funnel, flags, covered demand). */
  pool?: PoolFeed
  /** How many views (pages, /metrics, /api) are answered per second (view-gate.ts). */
  viewLimits?: Partial<ViewGateLimits>
  now?: () => number
}

interface RpcContext {
  authorization: string | null
  /** The sender's address, for refusals and the new-uuid limit (computed when asked). */
  address: () => string
}

const JSON_HEADERS = { "content-type": "application/json; charset=utf-8" }
const INTERNAL_ERROR = encodeError(null, RPC_CODES.internalError)
/** Request bodies up to this size may be answered from the reply cache… */
const MAX_CACHED_REQUEST = 1024
/** …which holds this many distinct requests at most… */
const MAX_CACHED_REPLIES = 64
/**
 * …and this many characters of replies: each reply carries its own copy of the table, and a
 * pool with 100,000 job shapes has a 7 MB table, so 64 request ids must not mean 64 copies.
 */
const MAX_CACHED_CHARS = 8 << 20

/** Why a request body was not read. */
type Unread = "too large" | "cut off"

/**
 * A request body as text, up to `limit` bytes (bytes that are not UTF-8 decode to U+FFFD).
 * A body that stops arriving (the client went away, or the idle timeout closed a client that
 * declared more bytes than it sent) is "cut off": nobody is left to answer.
 */
async function readText(request: Request, limit: number): Promise<string | Unread> {
  const length = request.headers.get("content-length")
  let text: string
  try {
    if (length !== null) {
      if (Number(length) > limit) return "too large"
      // The HTTP layer holds the body to its declared length.
      text = await request.text()
    } else {
      if (request.body === null) return ""
      const chunks: Uint8Array[] = []
      let size = 0
      const reader = request.body.getReader()
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        size += value.length
        if (size > limit) {
          await reader.cancel()
          return "too large"
        }
        chunks.push(value)
      }
      text = new TextDecoder().decode(Buffer.concat(chunks))
    }
  } catch {
    return "cut off"
  }
  return text
}

/** Creates the app. */
export function createApp(deps: AppDeps): Hono {
  const now = deps.now ?? Date.now
  const staleAfterMs = deps.staleAfterMs ?? DEFAULT_STALE_AFTER_MS
  const { store, log } = deps
  const newNames = new NewNameLimit(deps.newNamesPerHour ?? 16)
  const metrics = deps.metrics ?? new ServerMetrics()
  const clientsView = new ClientsView(store, staleAfterMs)
  const allotments = deps.allotments ?? new AllotmentBook()
  const allotPolicy = deps.allotPolicy ?? DEFAULT_POLICY
  const poolAllot = deps.pool ? poolForAllotment(deps.pool) : undefined

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
    get_allotment: allotmentMethod({
      book: allotments,
      policy: allotPolicy,
      demand: deps.demand,
      clients: () => clientsView.clients(),
      tokens: () => deps.tokens,
      staleAfterMs,
      now,
      ...(poolAllot ? { pool: poolAllot } : {}),
    }),
    monitoring: (params, context) => {
      const tokens = deps.tokens
      let tokenName: string | null = null
      const refuse = (code: number, why: string): never => {
        log(`monitoring: report from ${claimedUuid(params)} (${context.address()}) refused: ${why}`)
        throw new RpcError(code, why)
      }
      if (tokens !== undefined) {
        tokenName = tokens.nameFor(context.authorization) ?? null
        if (tokenName === null && !/^Bearer[ \t]+\S/i.test(context.authorization ?? "")) {
          refuse(
            RPC_CODES.unauthorized,
            "this server needs a token with each report: send Authorization: Bearer <token> (glidein submit: token = … in the [Glidein] section of its secrets file)",
          )
        }
        if (tokenName === null) {
          refuse(
            RPC_CODES.badToken,
            "the token sent is not one of this server's tokens (mistyped, or removed from its tokens file)",
          )
        }
      }
      const report = parseMonitoringParams(params)
      const at = now()
      // Without tokens, the sender's address is all that tells one host's made-up sites apart.
      const admitNew = tokens === undefined ? () => newNames.take(context.address(), at) : undefined
      try {
        store.saveReport(report, tokenName, at, admitNew)
      } catch (error) {
        if (error instanceof ReportRefused) refuse(RPC_CODES.refused, error.message)
        // Not acknowledged, so the client keeps no false belief; its next run reports again.
        const why = error instanceof Error ? error.message : String(error)
        log(`monitoring: report from ${JSON.stringify(report.uuid)} not stored: ${why}`)
        throw new RpcError(RPC_CODES.notStored, `the report was not stored: ${why}`)
      }
      deps.databaseProblem?.()
      log(
        `monitoring: report from ${JSON.stringify(report.uuid)}${tokenName ? ` (token "${tokenName}")` : ""}: running ${total(report, "glideins_running")}, idle ${total(report, "glideins_idle")}, launched ${total(report, "glideins_launched")}`,
      )
      // pyglidein's server answered monitoring with an empty string; its clients expect nothing else.
      return ""
    },
  }

  const rpcMethods = metrics.counted(methods)
  const app = new Hono()

  // Views wait their turn beyond a share of the time, so scrapers and browsers cannot take
  // get_state's CPU (it never passes here). /healthz is exempt: a supervisor's check must not
  // queue.
  const views = new ViewGate(deps.viewLimits)
  /** The length of what a view sends, when it knows it: writing it is part of its cost. */
  const viewLength = new WeakMap<Request, number>()
  app.use(async (c, next) => {
    if (c.req.path === "/healthz") return next()
    if (await views.enter()) {
      const started = performance.now()
      try {
        return await next()
      } finally {
        views.spent(performance.now() - started, viewLength.get(c.req.raw) ?? 0)
      }
    }
    return c.json(
      { error: "too many requests for pages and metrics; try again in a second" },
      503,
      {
        "retry-after": "1",
      },
    )
  })

  // get_state is a pure function of the request's text and the table: repeated requests
  // (every pyglidein client sends the same bytes on every run) are answered from a cache of
  // replies, dropped whenever the table changes.
  let repliesFor: DemandSnapshot | undefined
  const replies = new Map<string, string>()
  let repliesChars = 0

  async function jsonRpc(request: Request, server: unknown): Promise<Response> {
    const text = await readText(request, MAX_BODY_BYTES)
    if (text === "cut off") return new Response(null, { status: 400 })
    if (text === "too large") {
      const refused = rpcRefusal(
        413,
        RPC_CODES.invalidRequest,
        `request body larger than ${MAX_BODY_BYTES} bytes`,
      )
      return new Response(refused.body, { status: refused.status, headers: JSON_HEADERS })
    }
    return jsonRpcText(text, request, server)
  }

  /** Answers a request body read in full. */
  function jsonRpcText(text: string, request: Request, server: unknown): Response {
    // Bytes that are not UTF-8 decode to U+FFFD: no request of this protocol needs that
    // character raw, and reading text (not bytes) halves the cost of the get_state path.
    if (text.includes("\uFFFD")) {
      const refused = rpcRefusal(400, RPC_CODES.parseError, "the body is not valid UTF-8")
      return new Response(refused.body, { status: refused.status, headers: JSON_HEADERS })
    }
    const demand = deps.demand()
    if (repliesFor !== demand) {
      replies.clear()
      repliesChars = 0
      repliesFor = demand
    }
    const cacheable = text.length <= MAX_CACHED_REQUEST
    const cached = cacheable ? replies.get(text) : undefined
    if (cached !== undefined) {
      metrics.getStateCalls++
      return new Response(cached, { headers: JSON_HEADERS })
    }
    const authorization = request.headers.get("authorization")
    const address = () => senderAddress(request, server)
    const reply = handleJsonRpc(text, rpcMethods, { authorization, address }, log)
    if (reply.status === 401) {
      return new Response(reply.body, {
        status: 401,
        headers: { ...JSON_HEADERS, "www-authenticate": 'Bearer realm="glidein"' },
      })
    }
    if (
      cacheable &&
      reply.method === "get_state" &&
      reply.status === 200 &&
      reply.body !== null &&
      reply.body.length <= MAX_CACHED_CHARS
    ) {
      if (
        replies.size >= MAX_CACHED_REPLIES ||
        repliesChars + reply.body.length > MAX_CACHED_CHARS
      ) {
        replies.clear()
        repliesChars = 0
      }
      replies.set(text, reply.body)
      repliesChars += reply.body.length
    }
    return new Response(reply.body, { status: reply.status, headers: JSON_HEADERS })
  }

  // Not app.all(): a second handler matching POST /jsonrpc would cost every get_state
  // hono's composed (slower) dispatch.
  app.on(["GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"], "/jsonrpc", () => {
    const reply = rpcRefusal(
      405,
      RPC_CODES.invalidRequest,
      "JSON-RPC requests are POSTed to /jsonrpc",
    )
    return new Response(reply.body, { status: 405, headers: { ...JSON_HEADERS, allow: "POST" } })
  })

  app.get("/api/state", (c) => c.json(apiState(deps.demand(), now())))

  app.get("/api/clients", (c) => {
    const body = clientsView.apiJson(now(), { database_error: deps.databaseProblem?.() ?? null })
    viewLength.set(c.req.raw, body.length)
    return c.body(body, 200, { "content-type": "application/json" })
  })

  // The sites' part of /metrics is kept while the clients and the table stand (and a costly
  // render is recent) until a site turns stale: 16 scrapers of 500 sites took get_state to
  // 8 s when each rendered it anew.
  let metricsFor:
    | {
        clients: StoredClient[]
        demand: DemandSnapshot
        rendered: RenderedMetrics
        endedAt: number
        tookMs: number
      }
    | undefined
  app.get("/metrics", (c) => {
    const at = now()
    const demand = deps.demand()
    const clients = clientsView.clients()
    const started = performance.now()
    if (
      metricsFor === undefined ||
      at >= metricsFor.rendered.validUntil ||
      ((metricsFor.clients !== clients || metricsFor.demand !== demand) &&
        started - metricsFor.endedAt >= pauseAfter(metricsFor.tookMs))
    ) {
      const rendered = renderMetrics({ now: at, demand, clients, staleAfterMs })
      const endedAt = performance.now()
      metricsFor = { clients, demand, rendered, endedAt, tookMs: endedAt - started }
    }
    const pool = deps.pool ? funnelMetrics(funnelFor(clients, [], at - RANGES.day, at)) : ""
    const text =
      metricsFor.rendered.text + renderDemandAge(at, demand) + pool + metrics.render(deps.version)
    viewLength.set(c.req.raw, text.length)
    return c.body(text, 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" })
  })

  app.get("/healthz", (c) => {
    const demand = deps.demand()
    return c.json({
      status: "ok",
      demand: demand.updated === null ? "none yet" : demand.error === null ? "fresh" : "stale",
      demand_age_s: demand.updated === null ? null : Math.round((now() - demand.updated) / 1000),
      error: demand.error,
      database_error: deps.databaseProblem?.() ?? null,
    })
  })

  // A wall of browsers (or anyone hammering the page) costs the sites' get_state nothing:
  // one render per range at a time, shared by everyone asking, reused for 5 s (a site that
  // just reported shows within seconds) and up to a minute while the store stands still, and
  // a costly render never more than a tenth of the time (a week of 500 sites takes 150–350 ms
  // to render: it is then reused for 1.5–3.5 s at least).
  const pages = new RenderCache<Range, string>({ minReuseMs: 5_000, maxReuseMs: 60_000 })

  app.get("/", async (c) => {
    const range = parseRange(c.req.query("range"))
    // A new condor_status answer is news for the page as much as a new report.
    const pool = deps.pool?.view()
    const version = store.version + (pool?.updated ?? 0) + (pool?.errorAt ?? 0)
    const html = await pages.get(range, version, () => renderPage(range))
    viewLength.set(c.req.raw, html.length)
    return htmlResponse(c.req.raw, html)
  })

  async function renderPage(range: Range): Promise<string> {
    const at = now()
    const since = at - RANGES[range]
    const siteBucketMs = store.siteBucketFor(RANGES[range])
    // Requests that arrive during the reads (get_state) are answered between them: the week
    // of 500 sites is blocks of 15–60 ms instead of one of 150 ms.
    const clients = clientsView.clients()
    await nextTurn()
    const siteHistory = store.siteHistory(since, siteBucketMs)
    await nextTurn()
    const page = await renderStatusPage({
      now: at,
      version: deps.version,
      demand: deps.demand(),
      delayMs: deps.delayMs,
      clients,
      staleAfterMs,
      range,
      demandHistory: store.demandHistory(since),
      siteHistory,
      demandBucketMs: store.bucketWidths.demandMs,
      siteBucketMs,
      allotments: allotments.latest(),
      ...(deps.pool ? { funnel: funnelFor(clients, siteHistory, since, at) } : {}),
    })
    return page.toString()
  }

  function funnelFor(clients: StoredClient[], history: SitePoint[], since: number, at: number) {
    const rows = deps.demand().rows
    return funnelOf({
      clients,
      history,
      demand: rows,
      pool: deps.pool,
      covered: rows && poolAllot ? poolAllot.demand(rows).covered : 0,
      since,
      now: at,
      staleAfterMs,
    })
  }

  // The funnel as JSON (what `glidein status --server` shows): ?range=day|week like the page.
  app.get("/api/funnel", (c) => {
    const range = parseRange(c.req.query("range"))
    const at = now()
    const since = at - RANGES[range]
    const history = store.siteHistory(since, store.siteBucketFor(RANGES[range]))
    return c.json({ range, ...funnelFor(clientsView.clients(), history, since, at) })
  })

  app.route("/", allotmentRoutes(allotments, allotPolicy))
  app.route("/", siteRoutes({ store, version: deps.version, staleAfterMs, now }))

  app.notFound((c) => c.json({ error: `not found: ${c.req.method} ${c.req.path}` }, 404))

  app.onError((error, c) => {
    // The path is the client's: quoted, so it cannot forge a log line.
    log(`http: ${c.req.method} ${JSON.stringify(c.req.path)} failed: ${error.message}`)
    return c.json({ error: "internal error" }, 500)
  })

  // get_state is the hot path (bench/get-state.ts): a POST to /jsonrpc skips hono's routing,
  // and one of a few hundred bytes whose text was answered before (every pyglidein client
  // sends the same bytes on every run) is answered with the reply kept for it, before any
  // parsing or validation. Everything else, and app.request() in tests, goes through this
  // same function.
  const route = app.fetch
  const slowRpc = (request: Request, server: unknown) =>
    jsonRpc(request, server).catch((error: Error) => {
      log(`http: POST /jsonrpc failed: ${error.message}`)
      return new Response(INTERNAL_ERROR, { status: 500, headers: JSON_HEADERS })
    })
  app.fetch = (request, ...rest) => {
    if (request.method !== "POST" || !isJsonRpcUrl(request.url)) return route(request, ...rest)
    const length = request.headers.get("content-length")
    // Up to 3 digits: the body is at most 999 bytes, under MAX_CACHED_REQUEST.
    if (length === null || length.length > 3 || repliesFor !== deps.demand()) {
      return slowRpc(request, rest[0])
    }
    return request.text().then(
      (text) => {
        // A reply is kept only for a text that passed every check of the slow path.
        const reply = replies.get(text)
        if (reply === undefined) return jsonRpcText(text, request, rest[0])
        metrics.getStateCalls++
        return new Response(reply, { headers: JSON_HEADERS })
      },
      () => new Response(null, { status: 400 }),
    )
  }
  return app
}

/** Resolves after the event loop has taken what arrived meanwhile. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** Whether an absolute URL's path is /jsonrpc (a query or fragment allowed). */
function isJsonRpcUrl(url: string): boolean {
  if (url.endsWith("/jsonrpc")) return url.indexOf("/", url.indexOf("//") + 2) === url.length - 8
  return pathOf(url) === "/jsonrpc"
}

/** The uuid a report claims, quoted for the log, before its params are checked. */
function claimedUuid(params: unknown): string {
  const uuid = (params as { uuid?: unknown } | null)?.uuid
  return typeof uuid === "string" ? JSON.stringify(uuid.slice(0, 200)) : "(no uuid)"
}

/**
 * The address a request came from (Bun's server is hono's `env`; `app.request()` has none).
 * From loopback, the last X-Forwarded-For entry: a reverse proxy on this host (docs/serve.md's
 * recipe) adds the site's address there, and every site would otherwise share 127.0.0.1.
 */
function senderAddress(request: Request, server: unknown): string {
  const peer = (
    server as { requestIP?: (r: Request) => { address: string } | null } | undefined
  )?.requestIP?.(request)?.address
  if (peer === undefined) return "unknown address"
  if (/^(127\.|::1$|::ffff:127\.)/.test(peer)) {
    const forwarded = request.headers.get("x-forwarded-for")?.split(",").at(-1)?.trim()
    if (forwarded) return JSON.stringify(forwarded.slice(0, 64)).slice(1, -1)
  }
  return peer
}

/** The path of an absolute URL, without query or fragment. */
function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2)
  if (start === -1) return "/"
  let end = url.length
  for (const c of ["?", "#"]) {
    const i = url.indexOf(c, start)
    if (i !== -1 && i < end) end = i
  }
  return url.slice(start, end)
}
