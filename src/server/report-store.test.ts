import { Database } from "bun:sqlite"
import { afterEach, describe, expect, test } from "bun:test"
import { chmodSync, closeSync, mkdirSync, openSync, writeFileSync, writeSync } from "node:fs"
import { dirname, join } from "node:path"
import { demoJobCounts, demoQueue, parseCondorQ } from "../demand/index.ts"
import { type ClientReport, emptyMetrics } from "../protocol/monitoring.ts"
import { cleanUp, tempDir } from "../test-support.ts"
import { demandPointOf, ReportRefused, ReportStore } from "./report-store.ts"

afterEach(cleanUp)

/** A database path in a fresh directory, below a "state" folder not made yet. */
function tempDb(): string {
  return join(tempDir("glidein-store-"), "state", "serve.db")
}

function report(uuid: string, running: number, idle = 0, launched = 0): ClientReport {
  const metrics = emptyMetrics()
  metrics.glideins_running = { Cluster: running }
  metrics.glideins_idle = { Cluster: idle }
  metrics.glideins_launched = { Cluster: launched }
  return { uuid, clientTime: 1763726400, metrics }
}

const T0 = Date.UTC(2026, 10, 21, 12)

describe("ReportStore", () => {
  test("keeps reports and history across a restart", () => {
    const path = tempDb()
    const first = ReportStore.open(path)
    first.saveReport(report("alice@login1", 3, 1, 2), "alberta", T0)
    first.recordDemand({ jobs: 120, gpuJobs: 7, shapes: 4 }, T0)
    first.close()

    const again = ReportStore.open(path)
    expect(again.clients()).toEqual([
      {
        uuid: "alice@login1",
        tokenName: "alberta",
        firstSeen: T0,
        lastSeen: T0,
        clientTime: 1763726400,
        metrics: report("alice@login1", 3, 1, 2).metrics,
        running: 3,
        idle: 1,
        launched: 2,
      },
    ])
    expect(again.demandHistory(T0 - 60_000)).toEqual([{ t: T0, jobs: 120, gpuJobs: 7, shapes: 4 }])
    expect(again.siteHistory(T0 - 60_000)).toEqual([
      { uuid: "alice@login1", t: T0, running: 3, idle: 1, launched: 2 },
    ])
    again.close()
  })

  test("sums launched glideins within a history bucket and keeps the latest running/idle", () => {
    const store = ReportStore.open(":memory:")
    store.saveReport(report("a", 3, 1, 2), null, T0)
    store.saveReport(report("a", 5, 0, 4), null, T0 + 60_000)
    expect(store.siteHistory(T0)).toEqual([{ uuid: "a", t: T0, running: 5, idle: 0, launched: 6 }])
    expect(store.clients()[0]).toMatchObject({
      running: 5,
      launched: 4,
      firstSeen: T0,
      lastSeen: T0 + 60_000,
    })
    store.close()
  })

  test("keeps at most maxClients, making room only by forgetting sites whose history is gone", () => {
    const day = 86_400_000
    const store = ReportStore.open(":memory:", { maxClients: 3, historyRetentionMs: 2 * day })
    for (let i = 0; i < 3; i++) store.saveReport(report(`site${i}`, i), null, T0 + i * 1000)
    // Full, and every site has reported within the history's reach: the newcomer is refused.
    expect(() => store.saveReport(report("new", 1), null, T0 + day)).toThrow(
      "the server keeps 3 sites and all have reported in the last 2 days",
    )
    // An old client reporting again is not new: it keeps its place without evicting anyone.
    store.saveReport(report("site2", 9), null, T0 + 3 * day)
    // site0 and site1 have been silent past the history's reach; the one silent longest goes.
    store.saveReport(report("new", 1), null, T0 + 3 * day)
    expect(store.clients().map((c) => c.uuid)).toEqual(["new", "site2", "site1"])
    store.close()
  })

  test("binds a uuid to the first token that reports it and caps the uuids of one token", () => {
    const store = ReportStore.open(":memory:", { maxNamesPerToken: 2 })
    store.saveReport(report("a", 1), "alberta", T0)
    store.saveReport(report("a", 2), "alberta", T0 + 1)
    let refused: unknown
    try {
      store.saveReport(report("a", 3), "mallory", T0 + 2)
    } catch (error) {
      refused = error
    }
    expect(refused).toBeInstanceOf(ReportRefused)
    expect((refused as ReportRefused).reason).toBe("another token's")
    store.saveReport(report("b", 1), "alberta", T0 + 3)
    expect(() => store.saveReport(report("c", 1), "alberta", T0 + 4)).toThrow(
      'the token "alberta" already reports 2 uuids, the most one token may',
    )
    // A uuid reported before tokens were configured is taken by the first token to report it.
    store.saveReport(report("old", 1), null, T0 + 5)
    store.saveReport(report("old", 2), "mallory", T0 + 6)
    expect(() => store.saveReport(report("old", 3), "alberta", T0 + 7)).toThrow(ReportRefused)
    expect(store.clients().map((c) => [c.uuid, c.tokenName, c.running])).toEqual([
      ["old", "mallory", 2],
      ["b", "alberta", 1],
      ["a", "alberta", 2],
    ])
    store.close()
  })

  test("keeps a uuid's token in the file, so a restart does not free it", () => {
    const path = join(tempDir("glidein-store-"), "serve.db")
    const first = ReportStore.open(path)
    first.saveReport(report("a", 1), "alberta", T0)
    first.close()
    const second = ReportStore.open(path)
    expect(() => second.saveReport(report("a", 2), "mallory", T0 + 1)).toThrow(
      "is reported with another site's token",
    )
    second.close()
  })

  test("admitNew() has the last say on a new uuid, and a refusal stores nothing", () => {
    const store = ReportStore.open(":memory:")
    store.saveReport(report("a", 1), null, T0, () => undefined)
    expect(() => store.saveReport(report("b", 1), null, T0, () => "not now")).toThrow("not now")
    // Known uuids are not asked about.
    store.saveReport(report("a", 2), null, T0, () => "not now")
    expect(store.clients().map((c) => [c.uuid, c.running])).toEqual([["a", 2]])
    expect(store.siteHistory(0).map((p) => p.uuid)).toEqual(["a"])
    store.close()
  })

  test("forgets silent clients and old history after the retention times", () => {
    const day = 86_400_000
    const store = ReportStore.open(":memory:", {
      clientRetentionMs: 10 * day,
      historyRetentionMs: 2 * day,
    })
    store.saveReport(report("quiet", 1), null, T0)
    store.recordDemand({ jobs: 1, gpuJobs: 0, shapes: 1 }, T0)
    store.saveReport(report("busy", 1), null, T0 + 3 * day)
    expect(store.clients().map((c) => c.uuid)).toEqual(["busy", "quiet"])
    expect(store.siteHistory(0).map((p) => p.uuid)).toEqual(["busy"])
    expect(store.demandHistory(0)).toEqual([])
    store.saveReport(report("busy", 2), null, T0 + 11 * day)
    expect(store.clients().map((c) => c.uuid)).toEqual(["busy"])
    store.close()
  })

  test("recordDemandHistory() stores many polls at once, each in its bucket, and prunes once", () => {
    const day = 86_400_000
    const store = ReportStore.open(":memory:", { historyRetentionMs: 2 * day })
    const point = (t: number, jobs: number) => ({ t, jobs, gpuJobs: 0, shapes: 1 })
    store.recordDemandHistory([
      point(T0 - 3 * day, 1),
      point(T0, 2),
      point(T0 + 30_000, 3),
      point(T0 + 60_000, 4),
    ])
    // The first is older than the retention from the latest; the last poll in a bucket wins.
    expect(store.demandHistory(0)).toEqual([point(T0, 3), point(T0 + 60_000, 4)])
    store.recordDemandHistory([])
    expect(store.demandHistory(0)).toHaveLength(2)
    store.close()
  })

  test("bucketWidths are the widths of its history points", () => {
    const store = ReportStore.open(":memory:", { demandBucketMs: 30_000, siteBucketMs: 600_000 })
    expect(store.bucketWidths).toEqual({ demandMs: 30_000, siteMs: 600_000 })
    store.recordDemand({ jobs: 1, gpuJobs: 0, shapes: 1 }, T0 + 45_000)
    expect(store.demandHistory(0).map((p) => p.t)).toEqual([T0 + 30_000])
    store.close()
  })

  test("refuses a database of another schema version and names a file that is not one", () => {
    const path = tempDb()
    ReportStore.open(path).close()
    const db = new Database(path)
    db.exec("PRAGMA user_version = 99")
    db.close()
    expect(() => ReportStore.open(path)).toThrow(
      `database "${path}" has schema version 99, this glidein knows 1; use another --db`,
    )
    const junk = join(dirname(dirname(path)), "junk.db")
    writeFileSync(
      junk,
      "this is not a database, just text that is long enough to matter".repeat(100),
    )
    expect(() => ReportStore.open(junk)).toThrow(`cannot open database "${junk}"`)
  })

  test("refuses a damaged file at start-up rather than failing on every page and report", () => {
    const path = tempDb()
    const store = ReportStore.open(path)
    for (let i = 0; i < 300; i++) store.saveReport(report(`site-${i}`, i), null, T0)
    store.close()
    // Scribble over every page but the header, as a disk or a careless copy might.
    const fd = openSync(path, "r+")
    for (let page = 1; page < 40; page++)
      writeSync(fd, Buffer.alloc(200, 0xab), 0, 200, 4096 * page + 300)
    closeSync(fd)
    expect(() => ReportStore.open(path)).toThrow(
      new RegExp(`^database "${path}" is damaged \\(.+\\); move it aside to start a new one$`),
    )
  })

  test("names a directory that is a file, and a database of another program", () => {
    const path = tempDb()
    mkdirSync(dirname(dirname(path)), { recursive: true })
    writeFileSync(dirname(path), "a file where the state directory should be")
    expect(() => ReportStore.open(path)).toThrow(
      `cannot open database "${path}": "${dirname(path)}" is not a directory`,
    )
    const other = join(dirname(dirname(path)), "other.db")
    const db = new Database(other)
    db.exec("CREATE TABLE clients (name TEXT)")
    db.close()
    expect(() => ReportStore.open(other)).toThrow(
      `database "${other}" is not one of glidein serve's (it has tables "clients"); use another --db`,
    )
  })

  test.skipIf(process.getuid?.() === 0)(
    "refuses a file it may read but not write (as root: see restart.test.ts)",
    () => {
      const path = tempDb()
      ReportStore.open(path).close()
      chmodSync(path, 0o444)
      chmodSync(dirname(path), 0o555)
      try {
        expect(() => ReportStore.open(path)).toThrow(`cannot open database "${path}": `)
      } finally {
        chmodSync(dirname(path), 0o755)
      }
    },
  )
})

describe("demandPointOf()", () => {
  test("counts idle jobs, those asking for GPUs and shapes", () => {
    const rows = [
      { count: 120, gpus: 0 },
      { count: 7, gpus: 1 },
      { count: 3, gpus: 2 },
      { count: 0, gpus: 1 },
    ]
    expect(demandPointOf(rows)).toEqual({ jobs: 130, gpuJobs: 10, shapes: 3 })
  })

  test("gives the demo queue's counts the point of its parsed table (serve --demo's history)", async () => {
    for (let hour = 0; hour < 24; hour += 5) {
      const t = T0 + hour * 3_600_000
      const parsed = await parseCondorQ(demoQueue(t))
      expect(demandPointOf(demoJobCounts(t))).toEqual(demandPointOf(parsed.rows))
    }
  })
})
