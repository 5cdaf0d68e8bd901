/** A small server history, recorded through the real report store, for the replay's tests. */
import { emptyMetrics } from "../protocol/monitoring.ts"
import { ReportStore } from "../server/report-store.ts"

export const ROUND_MS = 300_000

/**
 * Two sites over three rounds from `t0` (a multiple of ROUND_MS): 10 idle jobs, then none in
 * the third round. `a` launched 4 glideins that ran; `b` never launched any.
 */
export function recordHistory(path: string, t0: number, names = { a: "a", b: "b" }): void {
  const store = ReportStore.open(path)
  const report = (uuid: string, running: number, launched: number) => {
    const metrics = emptyMetrics()
    metrics.glideins_running = { Cluster: running }
    metrics.glideins_idle = { Cluster: 0 }
    metrics.glideins_launched = { Cluster: launched }
    return { uuid, clientTime: null, metrics }
  }
  store.recordDemand({ jobs: 10, gpuJobs: 0, shapes: 1 }, t0)
  store.recordDemand({ jobs: 0, gpuJobs: 0, shapes: 0 }, t0 + 2 * ROUND_MS)
  const a = [
    [0, 4],
    [4, 0],
    [0, 0],
  ]
  for (const [round, [running, launched]] of a.entries()) {
    const at = t0 + round * ROUND_MS + 1000
    store.saveReport(report(names.a, running!, launched!), null, at)
    store.saveReport(report(names.b, 0, 0), "lab", at + 1000)
  }
  store.close()
}
