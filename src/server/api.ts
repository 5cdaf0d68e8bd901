/**
 * The JSON of `GET /api/state` and `GET /api/clients`: builders for the server and zod
 * schemas for readers (`glidein status --server`), side by side so they cannot drift.
 */
import { z } from "zod"
import type { DemandSnapshot } from "../demand/index.ts"
import { METRIC_NAMES } from "./monitoring.ts"
import type { StoredClient } from "./report-store.ts"

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())
/** Seconds from `ms` to `now`, to a tenth. */
export const ageS = (now: number, ms: number | null) =>
  ms === null ? null : Math.round((now - ms) / 100) / 10

const whole = z.number().int().nonnegative()

export const ApiStateSchema = z.object({
  /** When the served table was polled (ISO 8601), or null before the first good poll. */
  updated: z.string().nullable(),
  age_s: z.number().nullable(),
  /** Why the latest poll failed, or null. */
  error: z.string().nullable(),
  error_at: z.string().nullable(),
  last_poll: z.string().nullable(),
  next_poll: z.string().nullable(),
  source: z.enum(["condor_q", "demo"]),
  jobs: whole,
  bad_lines: whole,
  /** Idle jobs no site could run (over the bounds clients accept), left out of `rows`. */
  set_aside: z.object({ jobs: whole, shapes: whole, first: z.string() }).nullish(),
  /** How near-identical shapes were merged into `rows`; null when none were. */
  merged: z.object({ shapes: whole, within_percent: z.number() }).nullish(),
  /** Something to know about the query, e.g. a constraint that matches no job. */
  note: z.string().nullish(),
  rows: z
    .array(
      z.object({
        cpus: whole,
        memory: whole,
        disk: whole,
        gpus: whole,
        os: z.string().nullable(),
        count: whole,
      }),
    )
    .nullable(),
})
export type ApiState = z.infer<typeof ApiStateSchema>

const byPartition = z.record(z.string(), z.number())

export const ApiClientsSchema = z.object({
  /** When the latest report arrived, or null when none has. */
  updated: z.string().nullable(),
  age_s: z.number().nullable(),
  error: z.string().nullable(),
  stale_after_s: z.number(),
  clients: z.array(
    z.object({
      uuid: z.string(),
      token_name: z.string().nullable(),
      first_seen: z.string(),
      last_report: z.string(),
      age_s: z.number(),
      stale: z.boolean(),
      client_timestamp: z.number().nullable(),
      running: z.number(),
      idle: z.number(),
      launched: z.number(),
      metrics: z.object(Object.fromEntries(METRIC_NAMES.map((n) => [n, byPartition]))),
    }),
  ),
})
export type ApiClients = z.infer<typeof ApiClientsSchema>

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
