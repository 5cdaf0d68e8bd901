/** What the wrk benchmarks share: the get_state request script and reading wrk's report. */

/** A wrk Lua script that POSTs get_state. */
export const GET_STATE_LUA = `wrk.method = "POST"
wrk.body = '{"jsonrpc": "2.0", "method": "get_state", "params": {}, "id": 1}'
wrk.headers["Content-Type"] = "application/json"
`

/** What one wrk run reported (run with --latency). */
export interface WrkReport {
  requests: number
  rps: number
  /** Latency percentiles in ms. */
  p50: number
  p99: number
  non2xx: number
  /** wrk's "Socket errors:" line, or "". */
  socketErrors: string
}

/** Reads wrk's printed report. */
export function parseWrk(out: string): WrkReport {
  return {
    requests: Number(/(\d+) requests in/.exec(out)?.[1]),
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
    p50: ms(/\s50%\s+(\S+)/.exec(out)?.[1]),
    p99: ms(/\s99%\s+(\S+)/.exec(out)?.[1]),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
    socketErrors: /Socket errors: (.*)/.exec(out)?.[1] ?? "",
  }
}

/** wrk prints latencies as 812.00us, 1.23ms or 1.05s. */
function ms(text: string | undefined): number {
  const m = /([\d.]+)(us|ms|s)/.exec(text ?? "")
  if (!m) return Number.NaN
  const v = Number(m[1])
  return m[2] === "us" ? v / 1000 : m[2] === "s" ? v * 1000 : v
}
