/**
 * The socket side of `glidein serve`: `Bun.serve` with the settings that bound what one
 * connection can cost. `serve` and the socket-level tests both listen through this, so the
 * tests exercise the settings production runs with.
 */
import type { Hono } from "hono"

/**
 * A connection idle this long is closed, and a request body gets this long in all, however
 * it trickles in: a client dripping a byte a second, or one that declared more bytes than it
 * sends, holds its connection 10–14 s at most (uWebSockets checks its timers every 4 s).
 * Request headers get about 10 s of uWebSockets' own. pyglidein's clients send their few
 * hundred bytes at once.
 */
const IDLE_TIMEOUT_S = 10

/**
 * Bun's own body cap, far above the app's 1 MiB: the app answers any larger declared body
 * with a JSON-RPC 413 before reading it (Bun's own 413 has no body), and Bun then discards
 * what still arrives, in constant memory, until the client stops or the idle timeout ends it.
 */
const BUN_BODY_LIMIT = Number.MAX_SAFE_INTEGER

/** Where to listen. */
export interface ListenOptions {
  hostname: string
  /** 0 for any free port. */
  port: number
  /** For tests that need a short timeout; `serve` uses IDLE_TIMEOUT_S. */
  idleTimeoutS?: number
}

/** Starts serving `app`; throws as `Bun.serve` does (EADDRINUSE). */
export function listen(
  app: Pick<Hono, "fetch">,
  options: ListenOptions,
): ReturnType<typeof Bun.serve> {
  return Bun.serve({
    hostname: options.hostname,
    port: options.port,
    idleTimeout: options.idleTimeoutS ?? IDLE_TIMEOUT_S,
    maxRequestBodySize: BUN_BODY_LIMIT,
    fetch: (request, server) => app.fetch(absolute(request), server),
  })
}

/**
 * The request with an absolute URL. Bun gives an HTTP/1.0 request without `Host` (or one
 * with an empty `Host`) its bare path as `url`, which no router can read: every path was a
 * 404. Such requests are answered as if sent to `localhost`.
 */
function absolute(request: Request): Request {
  const url = request.url
  return url.charCodeAt(0) === 47 ? new Request(`http://localhost${url}`, request) : request
}
