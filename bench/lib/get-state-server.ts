/**
 * A get_state server for bench/get-state.ts, in its own process so wrk measures it alone:
 *   bun bench/lib/get-state-server.ts glidein   the real app (createApp on Bun.serve, as serve)
 *   bun bench/lib/get-state-server.ts bare      a bare Bun.serve: read the body, answer bytes
 *   bun bench/lib/get-state-server.ts crowded DB [SITES DAYS]   the app over a new store at DB
 *                                     of 500 sites of 64 partitions and a week of history
 * All serve the same 52-row table (pyglidein's 10k-job benchmark had 52 rows, 3.7 KB).
 * Prints the port on stdout, then serves until killed.
 */
import type { DemandRow, DemandSnapshot } from "../../src/demand/index.ts"
import { createApp, ReportStore } from "../../src/server/index.ts"
import { crowdedStore } from "./crowded-store.ts"

/** 52 distinct shapes, like a busy pool's table. */
export function benchRows(): DemandRow[] {
  const rows: DemandRow[] = []
  const os = [null, "sl6", "centos7", "el8"]
  for (let i = 0; i < 52; i++) {
    rows.push({
      cpus: [1, 2, 4, 8][i % 4]!,
      memory: 1000 * (1 + (i % 13)),
      disk: [1000, 2000, 3146, 10000, 40000][i % 5]!,
      gpus: i % 7 === 0 ? 1 : 0,
      os: os[i % 4]!,
      count: 5000 - 90 * i,
    })
  }
  return rows
}

const mode = Bun.argv[2]
const rows = benchRows()
const rowsJson = JSON.stringify(rows)
let fetch: (request: Request) => Response | Promise<Response>
if (mode === "bare") {
  const body = `{"jsonrpc":"2.0","result":${rowsJson},"id":1}`
  fetch = async (request) => {
    await request.text()
    return new Response(body, { headers: { "content-type": "application/json" } })
  }
} else if (mode === "glidein" || mode === "crowded") {
  const now = Date.now()
  const demand: DemandSnapshot = {
    rows,
    rowsJson,
    jobs: rows.reduce((n, r) => n + r.count, 0),
    badLines: 0,
    updated: now,
    error: null,
    errorAt: null,
    lastPoll: now,
    nextPoll: null,
    source: "condor_q",
  }
  const app = createApp({
    demand: () => demand,
    store:
      mode === "crowded"
        ? crowdedStore(Bun.argv[3] ?? "crowded.db", {
            sites: Number(Bun.argv[4] ?? 500),
            partitions: 64,
            days: Number(Bun.argv[5] ?? 7),
            now,
          })
        : ReportStore.open(":memory:"),
    log: () => {},
    version: "bench",
    delayMs: 300_000,
  })
  fetch = app.fetch
} else {
  console.error("usage: get-state-server.ts bare|glidein|crowded DB [SITES DAYS]")
  process.exit(2)
}
const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch })
console.log(server.port)
