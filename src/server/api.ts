/**
 * The bodies of `GET /api/state` and `GET /api/clients`, built from the server's demand
 * snapshot and stored reports in the shapes the protocol declares (src/protocol/api.ts).
 */
import type { DemandSnapshot } from "../demand/index.ts"
import type { ApiClients, ApiState } from "../protocol/api.ts"
import type { StoredClient } from "./report-store.ts"

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())
/** Seconds from `ms` to `now`, to a tenth. */
export const ageS = (now: number, ms: number | null) =>
  ms === null ? null : Math.round((now - ms) / 100) / 10

/** The body of `GET /api/state`. */
export function apiState(demand: DemandSnapshot, now: number): ApiState {
  return {
    updated: iso(demand.updated),
    age_s: ageS(now, demand.updated),
    error: demand.error,
    error_at: iso(demand.errorAt),
    last_poll: iso(demand.lastPoll),
    next_poll: iso(demand.nextPoll),
    source: demand.source,
    jobs: demand.jobs,
    bad_lines: demand.badLines,
    set_aside: demand.setAside ?? null,
    merged: demand.merged
      ? { shapes: demand.merged.shapes, within_percent: demand.merged.withinPercent }
      : null,
    note: demand.note ?? null,
    rows: demand.rows,
  }
}

/** The body of `GET /api/clients`. */
export function apiClients(clients: StoredClient[], now: number, staleAfterMs: number): ApiClients {
  const latest = clients.reduce<number | null>(
    (m, c) => (m === null || c.lastSeen > m ? c.lastSeen : m),
    null,
  )
  return {
    updated: iso(latest),
    age_s: ageS(now, latest),
    error: null,
    stale_after_s: staleAfterMs / 1000,
    clients: clients.map((c) => apiClient(c, now, staleAfterMs)),
  }
}

/** One client of `GET /api/clients`. */
export function apiClient(
  c: StoredClient,
  now: number,
  staleAfterMs: number,
): ApiClients["clients"][number] {
  return {
    uuid: c.uuid,
    token_name: c.tokenName,
    first_seen: new Date(c.firstSeen).toISOString(),
    last_report: new Date(c.lastSeen).toISOString(),
    age_s: ageS(now, c.lastSeen) ?? 0,
    stale: now - c.lastSeen > staleAfterMs,
    client_timestamp: c.clientTime,
    running: c.running,
    idle: c.idle,
    launched: c.launched,
    metrics: c.metrics,
  }
}
