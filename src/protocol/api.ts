/**
 * @module
 * The JSON of `GET /api/state` and `GET /api/clients`, as zod schemas: the server's builders
 * (src/server/api.ts) are typed by them and readers (`glidein status --server`,
 * `glidein push-state`) check a body with them, so the two cannot drift.
 */
import { z } from "zod"
import { METRIC_NAMES } from "./monitoring.ts"

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

const count = z.number().int().nonnegative()
const FunnelCountsSchema = z.object({
  submitted: count,
  queued: count,
  running: count,
  joined: count,
  claimed: count,
  unclaimedCores: count,
  jobsStarted: count,
  /** Absent from a server older than the history watcher. */
  jobsCompleted: count.default(0),
  endedNoJob: count,
  coreHours: z.number().nonnegative(),
  wastedCoreHours: z.number().nonnegative(),
})

/** `GET /api/funnel?range=day|week`: what became of each site's glideins, as the pool saw them. */
export const ApiFunnelSchema = z.object({
  range: z.string(),
  watched: z.boolean(),
  updated: z.number().nullable(),
  error: z.string().nullable(),
  demand: count,
  covered: count,
  sites: z.array(
    FunnelCountsSchema.extend({
      uuid: z.string(),
      reporting: z.boolean(),
      flag: z.object({ kind: z.string(), reason: z.string(), since: z.number() }).optional(),
    }),
  ),
  total: FunnelCountsSchema.extend({ flagged: count }),
  // Servers before it send none.
  groups: z
    .array(
      z.object({
        site: z.string(),
        partition: z.string(),
        tarball: z.string(),
        tarballVersion: z.string(),
        joined: count,
        claimed: count,
        unclaimedCores: count,
        jobsStarted: count,
      }),
    )
    .default([]),
})

export type ApiFunnel = z.infer<typeof ApiFunnelSchema>
