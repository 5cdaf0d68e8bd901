/**
 * The history a replay needs, read from a `glidein serve` database opened read-only: the
 * demand and site history points and each site's token name. A live server's file is never
 * written (no schema, no pragma that writes, no checkpoint), and a file that is not a
 * glidein serve database is refused in one sentence.
 */
import { Database } from "bun:sqlite"
import { existsSync } from "node:fs"
import { GlideinError } from "../errors.ts"
import { DEFAULT_LIMITS, type DemandPoint, type SitePoint } from "../server/report-store.ts"

/** What a server recorded, oldest first. */
export interface ReplayHistory {
  demand: DemandPoint[]
  sites: SitePoint[]
  /** Token names by site uuid (null: no token). */
  tokens: Map<string, string | null>
  /** Width of one site history point (ms): a replay round. */
  roundMs: number
}

const TABLES = ["clients", "demand_history", "site_history"]
/** The report store's schema version (report-store.ts). */
const SCHEMA_VERSION = 1

/** Reads the history from `since` (ms) on; throws GlideinError naming the file when it cannot. */
export function readHistory(path: string, since: number): ReplayHistory {
  if (!existsSync(path)) throw new GlideinError(`database "${path}": file not found`)
  let db: Database | undefined
  try {
    db = new Database(path, { readonly: true, strict: true })
    const { user_version: version } = db.query("PRAGMA user_version").get() as {
      user_version: number
    }
    const tables = (
      db.query("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]
    ).map((t) => t.name)
    const missing = TABLES.filter((t) => !tables.includes(t))
    if (version !== SCHEMA_VERSION || missing.length > 0) {
      throw new GlideinError(
        `database "${path}" is not a glidein serve database (schema version ${version}, ${missing.length > 0 ? `no table "${missing[0]}"` : "other tables"}); give the --db file of glidein serve`,
      )
    }
    const { siteBucketMs, demandBucketMs } = DEFAULT_LIMITS
    const demand = (
      db
        .query(
          "SELECT bucket, jobs, gpu_jobs AS gpuJobs, shapes FROM demand_history WHERE bucket >= $since ORDER BY bucket",
        )
        .all({ since: Math.floor(since / demandBucketMs) }) as (Omit<DemandPoint, "t"> & {
        bucket: number
      })[]
    ).map(({ bucket, ...rest }) => ({ t: bucket * demandBucketMs, ...rest }))
    const sites = (
      db
        .query(
          "SELECT bucket, uuid, running, idle, launched FROM site_history WHERE bucket >= $since ORDER BY bucket, uuid",
        )
        .all({ since: Math.floor(since / siteBucketMs) }) as (Omit<SitePoint, "t"> & {
        bucket: number
      })[]
    ).map(({ bucket, ...rest }) => ({ t: bucket * siteBucketMs, ...rest }))
    const tokens = new Map(
      (
        db.query("SELECT uuid, token_name AS tokenName FROM clients").all() as {
          uuid: string
          tokenName: string | null
        }[]
      ).map((c) => [c.uuid, c.tokenName]),
    )
    return { demand, sites, tokens, roundMs: siteBucketMs }
  } catch (error) {
    if (error instanceof GlideinError) throw error
    const code = (error as { code?: unknown }).code
    const why =
      code === "SQLITE_NOTADB"
        ? "is not an SQLite database, so not a glidein serve database"
        : `cannot be read (${error instanceof Error ? error.message : String(error)})`
    throw new GlideinError(`database "${path}" ${why}`, undefined, { cause: error })
  } finally {
    db?.close()
  }
}
