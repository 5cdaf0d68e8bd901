/**
 * @module
 * The server half of `glidein serve`: pyglidein's JSON-RPC (`get_state`, `monitoring`), a
 * JSON API, Prometheus metrics and a status page, over a SQLite store of client reports.
 *
 * @example
 * const store = ReportStore.open(":memory:")
 * const app = createApp({ demand: () => poller.snapshot(), store, log: console.error, version: "dev", delayMs: 300_000 })
 * const res = await app.request("/jsonrpc", { method: "POST", body: '{"jsonrpc":"2.0","method":"get_state","id":1}' })
 */
export { type AppDeps, createApp } from "./app.ts"
export { lockDatabase } from "./database-lock.ts"
export { DatabaseWatch } from "./database-watch.ts"
export { listen } from "./listen.ts"
export { type DemandPoint, demandPointOf, ReportStore } from "./report-store.ts"
export { ServerMetrics } from "./server-metrics.ts"
export { loadTokens, reloadTokens } from "./tokens.ts"
