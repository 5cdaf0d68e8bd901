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
export { type ApiClients, ApiClientsSchema, type ApiState, ApiStateSchema } from "./api.ts"
export { type AppDeps, createApp, MAX_BODY_BYTES } from "./app.ts"
export { formatAge, formatDuration } from "./format-age.ts"
export { RPC_CODES } from "./json-rpc.ts"
export { type ListenOptions, listen } from "./listen.ts"
export { type ClientReport, METRIC_NAMES, type MetricName } from "./monitoring.ts"
export {
  DEFAULT_LIMITS,
  type DemandPoint,
  demandPointOf,
  ReportStore,
  type StoreLimits,
} from "./report-store.ts"
export { loadTokens, parseTokens, TokenSet } from "./tokens.ts"
