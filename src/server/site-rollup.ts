/**
 * Site history summarised into coarser buckets as it ages, kept up on every report (no batch
 * job): a chart of a week reads a point an hour per site, not one per 5 minutes. A week of 500
 * sites was 1.15M rows and 2–3 s per page; at an hour a point it is 84,000.
 */
import type { Database, Statement } from "bun:sqlite"

/** The summary widths (ms) kept beside the raw 5-minute points. */
export const ROLLUP_WIDTHS_MS = [900_000, 3_600_000] as const

/** A chart gets the finest width that gives at most this many points per site. */
export const MAX_POINTS_PER_SITE = 200

const SCHEMA = `
CREATE TABLE IF NOT EXISTS site_rollup (
  width_ms INTEGER NOT NULL,
  bucket INTEGER NOT NULL,
  uuid TEXT NOT NULL,
  running INTEGER NOT NULL,
  idle INTEGER NOT NULL,
  launched INTEGER NOT NULL,
  PRIMARY KEY (width_ms, bucket, uuid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS site_rollup_uuid ON site_rollup (uuid);
`

/** A row as the rollup returns it: the bucket is counted in its own width. */
export interface RollupRow {
  bucket: number
  uuid: string
  running: number
  idle: number
  launched: number
}

/**
 * The summaries of `site_history` (which keeps `rawWidthMs` points). In each summary bucket,
 * running and idle are the site's latest report in it, as in the raw points, and launched is
 * the sum of its reports'.
 */
export class SiteRollup {
  private readonly upsert: Statement

  constructor(
    private readonly db: Database,
    private readonly rawWidthMs: number,
  ) {
    db.exec(SCHEMA)
    this.upsert = db.prepare(`
      INSERT INTO site_rollup (width_ms, bucket, uuid, running, idle, launched)
      VALUES ($width, $bucket, $uuid, $running, $idle, $launched)
      ON CONFLICT (width_ms, bucket, uuid) DO UPDATE SET running = excluded.running,
        idle = excluded.idle, launched = site_rollup.launched + excluded.launched`)
    this.backfill()
  }

  /** The width (ms) a chart over `rangeMs` is drawn at: raw while it has few enough points. */
  widthFor(rangeMs: number): number {
    for (const width of [this.rawWidthMs, ...ROLLUP_WIDTHS_MS]) {
      if (rangeMs / width <= MAX_POINTS_PER_SITE) return width
    }
    return ROLLUP_WIDTHS_MS.at(-1) ?? this.rawWidthMs
  }

  /** Adds a report at `at` (ms) to every summary; inside the caller's transaction. */
  record(uuid: string, at: number, running: number, idle: number, launched: number): void {
    for (const width of ROLLUP_WIDTHS_MS) {
      this.upsert.run({ width, bucket: Math.floor(at / width), uuid, running, idle, launched })
    }
  }

  /** Summary rows of `width` from the bucket holding `since` on, oldest first. */
  rows(width: number, since: number): RollupRow[] {
    return this.db
      .query(
        "SELECT bucket, uuid, running, idle, launched FROM site_rollup WHERE width_ms = $width AND bucket >= $since ORDER BY bucket, uuid",
      )
      .all({ width, since: Math.floor(since / width) }) as RollupRow[]
  }

  /** One site's summary rows of `width` from `since` on. */
  rowsOf(uuid: string, width: number, since: number): RollupRow[] {
    return this.db
      .query(
        "SELECT bucket, uuid, running, idle, launched FROM site_rollup WHERE uuid = $uuid AND width_ms = $width AND bucket >= $since ORDER BY bucket",
      )
      .all({ uuid, width, since: Math.floor(since / width) }) as RollupRow[]
  }

  forget(uuid: string): void {
    this.db.query("DELETE FROM site_rollup WHERE uuid = $uuid").run({ uuid })
  }

  /** Deletes summary buckets that start before `cutoff` (ms). */
  prune(cutoff: number): void {
    for (const width of ROLLUP_WIDTHS_MS) {
      this.db
        .query("DELETE FROM site_rollup WHERE width_ms = $width AND bucket < $bucket")
        .run({ width, bucket: Math.floor(cutoff / width) })
    }
  }

  /**
   * Summarises a database written before the summaries existed, once: its raw points become
   * the summaries (latest running and idle, summed launched, per bucket).
   */
  private backfill(): void {
    if (this.db.query("SELECT 1 FROM site_rollup LIMIT 1").get() !== null) return
    if (this.db.query("SELECT 1 FROM site_history LIMIT 1").get() === null) return
    this.db.transaction(() => {
      for (const width of ROLLUP_WIDTHS_MS) {
        const params = { width, raw: this.rawWidthMs }
        // SQLite takes the bare columns of a query with one MAX() from the row holding it.
        this.db
          .query(`
            INSERT INTO site_rollup (width_ms, bucket, uuid, running, idle, launched)
            SELECT $width, coarse, uuid, running, idle, 0 FROM (
              SELECT bucket * $raw / $width AS coarse, uuid, MAX(bucket), running, idle
              FROM site_history GROUP BY uuid, coarse)`)
          .run(params)
        this.db
          .query(`
            UPDATE site_rollup SET launched = s.total FROM (
              SELECT bucket * $raw / $width AS coarse, uuid, SUM(launched) AS total
              FROM site_history GROUP BY uuid, coarse) AS s
            WHERE site_rollup.width_ms = $width AND site_rollup.bucket = s.coarse AND site_rollup.uuid = s.uuid`)
          .run(params)
      }
    })()
  }
}
