/**
 * A store as a busy pool's server holds it, for bench/views.ts: `sites` sites of `partitions`
 * partitions each, and `days` of history every 5 minutes (500 sites for a week: 1M points).
 * The history goes in as raw rows and is summarised when the store is opened, as a database
 * written before the summaries existed would be: a million reports one by one take minutes.
 */
import { Database } from "bun:sqlite"
import { emptyMetrics } from "../../src/protocol/monitoring.ts"
import { ReportStore } from "../../src/server/report-store.ts"

/** Fills a new database at `path` and opens it as `glidein serve` would. */
export function crowdedStore(
  path: string,
  {
    sites,
    partitions,
    days,
    now,
  }: { sites: number; partitions: number; days: number; now: number },
): ReportStore {
  const step = 300_000
  ReportStore.open(path).close()
  const db = new Database(path)
  const insert = db.prepare(
    "INSERT INTO site_history (bucket, uuid, running, idle, launched) VALUES (?, ?, ?, ?, ?)",
  )
  db.transaction(() => {
    for (let t = now - days * 86_400_000; t < now; t += step) {
      const bucket = Math.floor(t / step)
      for (let s = 0; s < sites; s++) {
        insert.run(bucket, uuid(s), (s + bucket) % 97, (s * 3 + bucket) % 11, bucket % 3)
      }
    }
  })()
  db.close()
  const store = ReportStore.open(path)
  for (let s = 0; s < sites; s++) {
    const counts = Object.fromEntries(
      Array.from({ length: partitions }, (_, p) => [`partition-${p}`, (s + p) % 40]),
    )
    store.saveReport(
      {
        uuid: uuid(s),
        clientTime: null,
        metrics: {
          ...emptyMetrics(),
          glideins_running: counts,
          glideins_idle: counts,
          glideins_launched: counts,
        },
      },
      null,
      now - (s % 10) * 60_000,
    )
  }
  return store
}

function uuid(s: number): string {
  return `glidein@login${s}.site${s}.example.org`
}
