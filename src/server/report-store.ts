/**
 * Client reports and history in an embedded SQLite file (bun:sqlite), bounded in age and in
 * the number of clients, surviving restarts. pyglidein kept reports in memory, forever: 5,000
 * made-up uuids stayed on its status page until the process died.
 */
import { Database, type Statement } from "bun:sqlite"
import { mkdirSync } from "node:fs"
import { basename, dirname } from "node:path"
import { GlideinError } from "../errors.ts"
import {
  type ClientReport,
  emptyMetrics,
  METRIC_NAMES,
  type MetricName,
  total,
} from "../protocol/monitoring.ts"
import { SiteRollup } from "./site-rollup.ts"

/** Bounds on what the store keeps. */
export interface StoreLimits {
  /**
   * Distinct clients kept. A new one beyond this evicts the one silent longest, but only one
   * with no history left (silent for `historyRetentionMs`); else the new one is refused.
   */
  maxClients: number
  /** Names (uuids) one token may hold: a token's reports are its own sites, not everyone's. */
  maxNamesPerToken: number
  /** A client silent this long is forgotten. */
  clientRetentionMs: number
  /** History older than this is deleted (charts show at most a week). */
  historyRetentionMs: number
  /** Width of one history point per site. */
  siteBucketMs: number
  /** Width of one history point of demand. */
  demandBucketMs: number
}

export const DEFAULT_LIMITS: StoreLimits = {
  maxClients: 500,
  maxNamesPerToken: 64,
  clientRetentionMs: 30 * 86_400_000,
  historyRetentionMs: 8 * 86_400_000,
  siteBucketMs: 300_000,
  demandBucketMs: 60_000,
}

/** A client (site) as last heard from. */
export interface StoredClient {
  uuid: string
  /** Name of the bearer token it used, when tokens are configured. */
  tokenName: string | null
  firstSeen: number
  /** When its latest report arrived (server clock, ms). */
  lastSeen: number
  /** Its own clock at that report (seconds), if sent. */
  clientTime: number | null
  metrics: Record<MetricName, Record<string, number>>
  running: number
  idle: number
  launched: number
}

/** Glideins of one site in one history bucket. */
export interface SitePoint {
  uuid: string
  /** Start of the bucket (ms). */
  t: number
  running: number
  idle: number
  /** Glideins launched during the bucket (summed over reports). */
  launched: number
}

/** Demand in one history bucket (the last poll in it). */
export interface DemandPoint {
  t: number
  jobs: number
  gpuJobs: number
  shapes: number
}

/** The history point of a demand table: its idle jobs, those asking for GPUs, and shapes. */
export function demandPointOf(rows: { count: number; gpus: number }[]): Omit<DemandPoint, "t"> {
  let jobs = 0
  let gpuJobs = 0
  let shapes = 0
  for (const r of rows) {
    jobs += r.count
    if (r.gpus > 0) gpuJobs += r.count
    if (r.count > 0) shapes++
  }
  return { jobs, gpuJobs, shapes }
}

/** How often old rows are deleted at most. */
const PRUNE_EVERY_MS = 60_000
const SCHEMA_VERSION = 1

const SCHEMA = `
CREATE TABLE IF NOT EXISTS clients (
  uuid TEXT PRIMARY KEY,
  token_name TEXT,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  client_time REAL,
  metrics TEXT NOT NULL,
  running INTEGER NOT NULL,
  idle INTEGER NOT NULL,
  launched INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS clients_last_seen ON clients (last_seen);
CREATE TABLE IF NOT EXISTS site_history (
  bucket INTEGER NOT NULL,
  uuid TEXT NOT NULL,
  running INTEGER NOT NULL,
  idle INTEGER NOT NULL,
  launched INTEGER NOT NULL,
  PRIMARY KEY (bucket, uuid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS site_history_uuid ON site_history (uuid);
CREATE TABLE IF NOT EXISTS demand_history (
  bucket INTEGER PRIMARY KEY,
  jobs INTEGER NOT NULL,
  gpu_jobs INTEGER NOT NULL,
  shapes INTEGER NOT NULL
);
`

/** Why a report was refused; `message` speaks to the site that sent it. */
export type RefusalReason = "another token's" | "token full" | "store full" | "rate"

/** A report the store would not take: its uuid is another token's, or there is no room. */
export class ReportRefused extends GlideinError {
  constructor(
    readonly reason: RefusalReason,
    message: string,
  ) {
    super(message)
  }
}

type ClientRow = {
  uuid: string
  token_name: string | null
  first_seen: number
  last_seen: number
  client_time: number | null
  metrics: string
  running: number
  idle: number
  launched: number
}

/** The SQLite-backed store. Open with `ReportStore.open()`; close on shutdown. */
export class ReportStore {
  private lastPrune = 0
  private changes = 0
  private readonly rollup: SiteRollup
  private readonly upsertClient: Statement
  private readonly upsertSite: Statement
  private readonly upsertDemand: Statement

  private constructor(
    private readonly db: Database,
    private readonly limits: StoreLimits,
  ) {
    this.rollup = new SiteRollup(db, limits.siteBucketMs)
    this.upsertClient = db.prepare(`
      INSERT INTO clients (uuid, token_name, first_seen, last_seen, client_time, metrics, running, idle, launched)
      VALUES ($uuid, $token, $at, $at, $clientTime, $metrics, $running, $idle, $launched)
      ON CONFLICT (uuid) DO UPDATE SET token_name = COALESCE(clients.token_name, excluded.token_name), last_seen = excluded.last_seen,
        client_time = excluded.client_time, metrics = excluded.metrics, running = excluded.running,
        idle = excluded.idle, launched = excluded.launched`)
    this.upsertSite = db.prepare(`
      INSERT INTO site_history (bucket, uuid, running, idle, launched)
      VALUES ($bucket, $uuid, $running, $idle, $launched)
      ON CONFLICT (bucket, uuid) DO UPDATE SET running = excluded.running, idle = excluded.idle,
        launched = site_history.launched + excluded.launched`)
    this.upsertDemand = db.prepare(`
      INSERT INTO demand_history (bucket, jobs, gpu_jobs, shapes) VALUES ($bucket, $jobs, $gpuJobs, $shapes)
      ON CONFLICT (bucket) DO UPDATE SET jobs = excluded.jobs, gpu_jobs = excluded.gpu_jobs,
        shapes = excluded.shapes`)
  }

  /**
   * Opens (creating if needed) the database at `path`; `:memory:` for a throwaway store.
   * Refuses, with one sentence naming the file, a database it could not keep reports in: one
   * it cannot write, one that is damaged, one of another program or schema. Serving on with
   * such a file would acknowledge reports and lose them.
   */
  static open(path: string, limits: Partial<StoreLimits> = {}): ReportStore {
    let db: Database | undefined
    try {
      if (path !== ":memory:") makeDirectoryFor(path)
      db = new Database(path, { create: true, strict: true })
      initialize(db, path)
      return new ReportStore(db, { ...DEFAULT_LIMITS, ...limits })
    } catch (error) {
      db?.close()
      if (error instanceof GlideinError) throw error
      throw new GlideinError(
        `cannot open database "${path}": ${openFailure(path, error)}`,
        undefined,
        {
          cause: error,
        },
      )
    }
  }

  /**
   * Stores a report received at `at` (ms), attributed to a token name if there is one. A uuid
   * belongs to the first token that reported it (kept in its row); a new uuid may take a
   * place only within its token's share and `admitNew`'s say (why not, or undefined: yes).
   * Throws ReportRefused, storing nothing, when the report may not be taken.
   */
  saveReport(
    report: ClientReport,
    tokenName: string | null,
    at: number,
    admitNew?: () => string | undefined,
  ): void {
    const running = total(report, "glideins_running")
    const idle = total(report, "glideins_idle")
    const launched = total(report, "glideins_launched")
    this.db.transaction(() => {
      const row = this.db
        .query("SELECT token_name FROM clients WHERE uuid = $uuid")
        .get({ uuid: report.uuid }) as { token_name: string | null } | null
      if (row === null) this.admit(tokenName, at, admitNew)
      else if (tokenName !== null && row.token_name !== null && row.token_name !== tokenName) {
        throw new ReportRefused(
          "another token's",
          `the uuid ${JSON.stringify(report.uuid)} is reported with another site's token; give this site a uuid of its own`,
        )
      }
      this.upsertClient.run({
        uuid: report.uuid,
        token: tokenName,
        at,
        clientTime: report.clientTime,
        metrics: JSON.stringify(report.metrics),
        running,
        idle,
        launched,
      })
      this.upsertSite.run({
        bucket: bucketOf(at, this.limits.siteBucketMs),
        uuid: report.uuid,
        running,
        idle,
        launched,
      })
      this.rollup.record(report.uuid, at, running, idle, launched)
    })()
    this.changes++
    this.prune(at)
  }

  /** Records the demand of a good poll at `at` (ms). */
  recordDemand(point: Omit<DemandPoint, "t">, at: number): void {
    this.recordDemandHistory([{ t: at, ...point }])
  }

  /**
   * Records the demand of many polls (`t`: when each was polled, ms) in one transaction and
   * prunes once: a week of demo history is 2,016 points, and a commit each took ~140 ms.
   */
  recordDemandHistory(points: DemandPoint[]): void {
    let latest = Number.NEGATIVE_INFINITY
    this.db.transaction(() => {
      for (const { t, ...point } of points) {
        this.upsertDemand.run({ bucket: bucketOf(t, this.limits.demandBucketMs), ...point })
        latest = Math.max(latest, t)
      }
    })()
    this.changes++
    if (points.length > 0) this.prune(latest)
  }

  /**
   * Grows with every change to what the store holds: views rendered from it are kept until it
   * moves (a scrape of /metrics reads nothing while no report arrived).
   */
  get version(): number {
    return this.changes
  }

  /** The width of one history point of demand and of one per site (ms). */
  get bucketWidths(): { demandMs: number; siteMs: number } {
    return { demandMs: this.limits.demandBucketMs, siteMs: this.limits.siteBucketMs }
  }

  /** Every stored client, most recently heard from first. */
  clients(): StoredClient[] {
    const rows = this.db
      .query("SELECT * FROM clients ORDER BY last_seen DESC, uuid")
      .all() as ClientRow[]
    return rows.map((r) => ({
      uuid: r.uuid,
      tokenName: r.token_name,
      firstSeen: r.first_seen,
      lastSeen: r.last_seen,
      clientTime: r.client_time,
      metrics: parseMetrics(r.metrics),
      running: r.running,
      idle: r.idle,
      launched: r.launched,
    }))
  }

  /** The width (ms) of the site history points a chart over `rangeMs` is drawn from. */
  siteBucketFor(rangeMs: number): number {
    return this.rollup.widthFor(rangeMs)
  }

  /**
   * Site history from `since` (ms) on, oldest first, in points `widthMs` wide (one of
   * `siteBucketFor`'s; by default the finest kept).
   */
  siteHistory(since: number, widthMs = this.limits.siteBucketMs): SitePoint[] {
    if (widthMs !== this.limits.siteBucketMs) {
      return this.rollup
        .rows(widthMs, since)
        .map(({ bucket, ...rest }) => ({ t: bucket * widthMs, ...rest }))
    }
    const rows = this.db
      .query(
        "SELECT bucket, uuid, running, idle, launched FROM site_history WHERE bucket >= $since ORDER BY bucket, uuid",
      )
      .all({ since: bucketOf(since, this.limits.siteBucketMs) }) as (Omit<SitePoint, "t"> & {
      bucket: number
    })[]
    return rows.map(({ bucket, ...rest }) => ({ t: bucket * this.limits.siteBucketMs, ...rest }))
  }

  /** One site's history from `since` (ms) on, oldest first (its page; by the uuid index). */
  siteHistoryOf(uuid: string, since: number): SitePoint[] {
    const rows = this.db
      .query(
        "SELECT bucket, uuid, running, idle, launched FROM site_history WHERE uuid = $uuid AND bucket >= $since ORDER BY bucket",
      )
      .all({ uuid, since: bucketOf(since, this.limits.siteBucketMs) }) as (Omit<SitePoint, "t"> & {
      bucket: number
    })[]
    return rows.map(({ bucket, ...rest }) => ({ t: bucket * this.limits.siteBucketMs, ...rest }))
  }

  /** Demand history from `since` (ms) on, oldest first. */
  demandHistory(since: number): DemandPoint[] {
    const rows = this.db
      .query(
        "SELECT bucket, jobs, gpu_jobs AS gpuJobs, shapes FROM demand_history WHERE bucket >= $since ORDER BY bucket",
      )
      .all({ since: bucketOf(since, this.limits.demandBucketMs) }) as (Omit<DemandPoint, "t"> & {
      bucket: number
    })[]
    return rows.map(({ bucket, ...rest }) => ({ t: bucket * this.limits.demandBucketMs, ...rest }))
  }

  /** Closes the database (after a WAL checkpoint, so the file is complete on its own). */
  close(): void {
    this.db.close()
  }

  /**
   * Makes a place for a new client or throws ReportRefused: within its token's share, then
   * at the cap by forgetting clients silent longer than the history is kept (never a site
   * with history: 500 made-up uuids used to push every real site out in 0.3 s).
   */
  private admit(tokenName: string | null, at: number, admitNew?: () => string | undefined): void {
    const { maxClients, maxNamesPerToken, historyRetentionMs } = this.limits
    if (tokenName !== null) {
      const { held } = this.db
        .query("SELECT COUNT(*) AS held FROM clients WHERE token_name = $tokenName")
        .get({ tokenName }) as { held: number }
      if (held >= maxNamesPerToken) {
        throw new ReportRefused(
          "token full",
          `the token "${tokenName}" already reports ${held} uuids, the most one token may; a new uuid is taken once one of them has been silent for ${days(this.limits.clientRetentionMs)}`,
        )
      }
    }
    const { n } = this.db.query("SELECT COUNT(*) AS n FROM clients").get() as { n: number }
    const excess = n - maxClients + 1
    if (excess > 0) {
      const victims = this.db
        .query(
          "SELECT uuid FROM clients WHERE last_seen < $cutoff ORDER BY last_seen, uuid LIMIT $excess",
        )
        .all({ cutoff: at - historyRetentionMs, excess }) as { uuid: string }[]
      if (victims.length < excess) {
        throw new ReportRefused(
          "store full",
          `the server keeps ${maxClients} sites and all have reported in the last ${days(historyRetentionMs)}; a new uuid is taken once one of them has been silent that long`,
        )
      }
      for (const v of victims) this.forget(v.uuid)
    }
    const why = admitNew?.()
    if (why !== undefined) throw new ReportRefused("rate", why)
  }

  private forget(uuid: string): void {
    this.changes++
    this.rollup.forget(uuid)
    this.db.query("DELETE FROM site_history WHERE uuid = $uuid").run({ uuid })
    this.db.query("DELETE FROM clients WHERE uuid = $uuid").run({ uuid })
  }

  private prune(at: number): void {
    if (at - this.lastPrune < PRUNE_EVERY_MS) return
    this.lastPrune = at
    this.changes++
    const { historyRetentionMs, clientRetentionMs, siteBucketMs, demandBucketMs } = this.limits
    this.db.transaction(() => {
      const silent = this.db
        .query("SELECT uuid FROM clients WHERE last_seen < $cutoff")
        .all({ cutoff: at - clientRetentionMs }) as { uuid: string }[]
      for (const c of silent) this.forget(c.uuid)
      this.db
        .query("DELETE FROM site_history WHERE bucket < $cutoff")
        .run({ cutoff: bucketOf(at - historyRetentionMs, siteBucketMs) })
      this.rollup.prune(at - historyRetentionMs)
      this.db
        .query("DELETE FROM demand_history WHERE bucket < $cutoff")
        .run({ cutoff: bucketOf(at - historyRetentionMs, demandBucketMs) })
    })()
  }
}

/**
 * Sets the database up for the store, or throws a GlideinError saying why it cannot be used:
 * another schema version, damage, another program's tables, or no right to write.
 */
function initialize(db: Database, path: string): void {
  // WAL with synchronous NORMAL: a commit is in the operating system's hands before the
  // reply is sent, so a killed server loses no acknowledged report (restart.test.ts); a
  // power cut may lose the last moments, which the sites' next runs report again.
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;")
  const { user_version: version } = db.query("PRAGMA user_version").get() as {
    user_version: number
  }
  if (version !== 0 && version !== SCHEMA_VERSION) {
    throw new GlideinError(
      `database "${path}" has schema version ${version}, this glidein knows ${SCHEMA_VERSION}; use another --db`,
    )
  }
  // quick_check reads every page once (well under a second for a full store): a damaged
  // file fails here, not later on every page view and report.
  const check = db.query("PRAGMA quick_check(1)").get() as { quick_check: string }
  if (check.quick_check !== "ok") {
    throw new GlideinError(
      `database "${path}" is damaged (${firstLine(check.quick_check)}); move it aside to start a new one`,
    )
  }
  if (version === 0) {
    // The version is set in the transaction that creates the tables, so version 0 with
    // tables is another program's database.
    const tables = db
      .query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .all() as { name: string }[]
    if (tables.length > 0) {
      throw new GlideinError(
        `database "${path}" is not one of glidein serve's (it has tables ${tables.map((t) => `"${t.name}"`).join(", ")}); use another --db`,
      )
    }
  }
  // Always a write at start-up: a file the server may read but not write fails now, not
  // at the first report.
  db.transaction(() => {
    db.exec(SCHEMA)
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`)
  }).immediate()
}

/** Creates the database's directory, naming a path component that is a file. */
function makeDirectoryFor(path: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    // mkdir says EEXIST (or ENOTDIR) when a component of the path is a file.
    if (code === "EEXIST" || code === "ENOTDIR") {
      throw new GlideinError(
        `cannot open database "${path}": "${dirname(path)}" is not a directory`,
      )
    }
    throw error
  }
}

/** Why SQLite could not open or set up the file, in the operator's terms. */
function openFailure(path: string, error: unknown): string {
  const code = (error as { code?: unknown }).code
  const user = currentUser()
  if (code === "SQLITE_READONLY_DIRECTORY") {
    return `${user} cannot write in its directory "${dirname(path)}" (SQLite keeps "${basename(path)}-wal" beside it)`
  }
  if (typeof code === "string" && code.startsWith("SQLITE_READONLY"))
    return `${user} cannot write it`
  if (code === "SQLITE_CANTOPEN") return `${user} cannot open or create it`
  if (code === "SQLITE_NOTADB") return "it is not an SQLite database"
  return error instanceof Error ? error.message : String(error)
}

/** Bun's userInfo() reads the name from the environment, so only the uid is reliable. */
function currentUser(): string {
  return `this user (uid ${process.getuid?.() ?? "?"})`
}

function firstLine(text: string): string {
  return (text.split("\n").find((l) => l.trim() !== "" && !l.startsWith("***")) ?? text).trim()
}

function days(ms: number): string {
  const n = ms / 86_400_000
  return `${n} day${n === 1 ? "" : "s"}`
}

function bucketOf(t: number, width: number): number {
  return Math.floor(t / width)
}

/** Metrics as stored; a row from a damaged file yields empty metrics rather than a crash. */
function parseMetrics(json: string): Record<MetricName, Record<string, number>> {
  const metrics = emptyMetrics()
  let parsed: unknown
  try {
    parsed = JSON.parse(json)
  } catch {
    return metrics
  }
  if (typeof parsed !== "object" || parsed === null) return metrics
  for (const name of METRIC_NAMES) {
    const value = (parsed as Record<string, unknown>)[name]
    if (typeof value !== "object" || value === null) continue
    metrics[name] = Object.fromEntries(
      Object.entries(value).filter((e): e is [string, number] => typeof e[1] === "number"),
    )
  }
  return metrics
}
