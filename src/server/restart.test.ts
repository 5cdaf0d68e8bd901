/**
 * `glidein serve` as a process: killed with SIGKILL while sites report and started again on
 * the same database, it has every report it acknowledged; and it refuses, with one line and
 * exit 1, to start on a database it could not keep reports in.
 */
import { Database } from "bun:sqlite"
import { afterEach, describe, expect, test } from "bun:test"
import { chmodSync, closeSync, openSync, writeFileSync, writeSync } from "node:fs"
import { join } from "node:path"
import { emptyMetrics } from "../protocol/monitoring.ts"
import { cleanUp, MAIN, startServe, tempDir, track } from "../test-support.ts"
import { ReportStore } from "./report-store.ts"

afterEach(cleanUp)

/** `glidein serve --demo` on `db`, on a free port. */
const serve = (db: string) => startServe(["--demo", "--db", db])

/** Reports from one site, numbered from `first`, until a request fails; counts the acknowledged. */
async function reportUntilRefused(
  url: string,
  site: string,
  first: number,
  progress: { acked: number },
) {
  let seq = first
  let acked = 0
  let lastAcked = -1
  for (;;) {
    const body = JSON.stringify({
      jsonrpc: "2.0",
      method: "monitoring",
      params: {
        uuid: site,
        timestamp: 1763726400 + seq,
        // running carries the sequence number; launched adds up, one per stored report.
        metrics: { glideins_running: { Cluster: seq }, glideins_launched: { Cluster: 1 } },
      },
      id: seq,
    })
    try {
      const res = await fetch(`${url}/jsonrpc`, { method: "POST", body })
      const reply = (await res.json()) as { result?: string }
      if (reply.result !== "") throw new Error(`not acknowledged: ${JSON.stringify(reply)}`)
    } catch {
      return { acked, lastAcked, next: seq + 1 }
    }
    acked++
    progress.acked++
    lastAcked = seq
    seq++
  }
}

/** Launched glideins summed over a site's history: the number of reports stored. */
function storedReports(db: string): Map<string, { stored: number; latest: number }> {
  const store = ReportStore.open(db)
  try {
    const stored = new Map<string, { stored: number; latest: number }>()
    for (const c of store.clients()) stored.set(c.uuid, { stored: 0, latest: c.running })
    for (const p of store.siteHistory(0)) stored.get(p.uuid)!.stored += p.launched
    return stored
  } finally {
    store.close()
  }
}

describe("glidein serve killed and restarted", () => {
  test("keeps every report it acknowledged before SIGKILL, over two kills", async () => {
    const db = join(tempDir("glidein-restart-"), "serve.db")
    const sites = Array.from({ length: 6 }, (_, i) => `site${i}@login${i}`)
    const acked = new Map(sites.map((s) => [s, { acked: 0, lastAcked: -1, next: 0 }]))
    for (let round = 0; round < 2; round++) {
      const server = await serve(db)
      const progress = { acked: 0 }
      const reporters = sites.map((site) =>
        reportUntilRefused(server.url, site, acked.get(site)!.next, progress),
      )
      // Kill once reports are flowing, mid-stream: after some hundreds, at no set point.
      while (progress.acked < 300 + round * 200 && server.proc.exitCode === null) await Bun.sleep(5)
      expect(server.proc.exitCode).toBeNull()
      server.proc.kill("SIGKILL")
      expect(await server.proc.exited).not.toBe(0)
      const results = await Promise.all(reporters)
      for (const [i, site] of sites.entries()) {
        const before = acked.get(site)!
        const now = results[i]!
        acked.set(site, {
          acked: before.acked + now.acked,
          lastAcked: now.lastAcked === -1 ? before.lastAcked : now.lastAcked,
          next: now.next,
        })
      }
    }
    const total = [...acked.values()].reduce((n, a) => n + a.acked, 0)
    expect(total).toBeGreaterThanOrEqual(800)
    // The restarted server shows what the killed ones acknowledged…
    const third = await serve(db)
    const clients = (await (await fetch(`${third.url}/api/clients`)).json()) as {
      clients: { uuid: string; running: number }[]
    }
    expect(clients.clients.map((c) => c.uuid).sort()).toEqual([...sites].sort())
    third.proc.kill("SIGTERM")
    expect(await third.proc.exited).toBe(0)
    // …and every acknowledged report is in the file: each one added 1 to launched. One whose
    // reply the kill cut off may be there too, never one fewer.
    const stored = storedReports(db)
    for (const site of sites) {
      const { acked: n, lastAcked } = acked.get(site)!
      const s = stored.get(site)!
      expect(s.stored, site).toBeGreaterThanOrEqual(n)
      expect(s.stored, site).toBeLessThanOrEqual(n + 2)
      expect(s.latest, site).toBeGreaterThanOrEqual(lastAcked)
    }
  }, 60_000)
})

describe("glidein serve on a database it cannot use", () => {
  async function refused(db: string, prefix: string[] = []) {
    const proc = Bun.spawn(
      [
        ...prefix,
        process.execPath,
        MAIN,
        "serve",
        "--demo",
        "--port",
        "0",
        "--host",
        "127.0.0.1",
        "--db",
        db,
      ],
      {
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
      },
    )
    track(proc)
    const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()])
    return { code, stderr }
  }

  test("refuses a file that is not a database, or a damaged one, with one line and exit 1", async () => {
    const dir = tempDir("glidein-restart-")
    const junk = join(dir, "junk.db")
    writeFileSync(junk, "serve.db was overwritten by a log file\n".repeat(200))
    expect(await refused(junk)).toEqual({
      code: 1,
      stderr: `glidein: cannot open database "${junk}": it is not an SQLite database\n`,
    })
    const damaged = join(dir, "damaged.db")
    const store = ReportStore.open(damaged)
    for (let i = 0; i < 300; i++) {
      store.saveReport(
        {
          uuid: `site-${i}`,
          clientTime: null,
          metrics: { ...emptyMetrics(), glideins_running: { Cluster: i } },
        },
        null,
        Date.now(),
      )
    }
    store.close()
    const fd = openSync(damaged, "r+")
    for (let page = 1; page < 40; page++)
      writeSync(fd, Buffer.alloc(200, 0xab), 0, 200, 4096 * page + 300)
    closeSync(fd)
    const { code, stderr } = await refused(damaged)
    expect(code).toBe(1)
    expect(stderr).toMatch(
      new RegExp(
        `^glidein: database "${damaged}" is damaged \\(.+\\); move it aside to start a new one\\n$`,
      ),
    )
    // The file is left as it was, for whoever wants to rescue it.
    expect(new Database(damaged, { readonly: true }).query("PRAGMA user_version").get()).toEqual({
      user_version: 1,
    })
  })

  // Root writes anywhere: run the server as nobody then, which setpriv (util-linux) can do.
  const root = process.getuid?.() === 0
  const setpriv = Bun.which("setpriv")
  test.skipIf(root && setpriv === null)(
    `refuses a database it may read but not write, with one line and exit 1${root && setpriv === null ? " (skipped: running as root without setpriv)" : ""}`,
    async () => {
      const dir = tempDir("glidein-restart-")
      const db = join(dir, "serve.db")
      ReportStore.open(db).close()
      chmodSync(db, 0o644)
      chmodSync(dir, 0o755)
      const prefix = root ? [setpriv!, "--reuid=65534", "--regid=65534", "--clear-groups"] : []
      if (!root) chmodSync(dir, 0o555)
      try {
        const uid = root ? 65534 : process.getuid?.()
        const { code, stderr } = await refused(db, prefix)
        expect(code).toBe(1)
        // SQLite says which it found first: the file, or the directory for its journal.
        const why = `this user \\(uid ${uid}\\) cannot write (it|in its directory "${dir}" \\(SQLite keeps "serve\\.db-wal" beside it\\))`
        expect(stderr).toMatch(new RegExp(`^glidein: cannot open database "${db}": ${why}\\n$`))
      } finally {
        chmodSync(dir, 0o755)
      }
    },
  )
})
