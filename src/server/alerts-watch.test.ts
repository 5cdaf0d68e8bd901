import { describe, expect, test } from "bun:test"
import type { AlertEvent } from "./alerts.ts"
import { type ReportedSite, startAlerts } from "./alerts-watch.ts"

const MIN = 60_000
const T0 = Date.parse("2025-03-01T12:00:00Z")

/** startAlerts() over a scripted store and clock, posting to a recording fetch. */
function started(clients: () => ReportedSite[]) {
  let clock = T0
  let version = 0
  let reads = 0
  const posted: AlertEvent[] = []
  const logs: string[] = []
  const store = {
    get version() {
      return version
    },
    clients() {
      reads++
      return clients()
    },
  }
  const watch = startAlerts({
    url: "https://hooks.example.org/hooks/SECRET",
    store,
    staleAfterMs: 30 * MIN,
    log: (line) => logs.push(line),
    now: () => clock,
    delivery: {
      fetch: async (_url, init) => {
        posted.push(JSON.parse(init.body as string))
        return new Response("ok")
      },
    },
  })
  return {
    watch,
    posted,
    logs,
    reads: () => reads,
    at: (ms: number) => {
      clock = ms
    },
    changed: () => {
      version++
    },
  }
}

describe("startAlerts()", () => {
  test("posts a site going stale and condor_q failing, reading the store only when it changed", async () => {
    const w = started(() => [{ uuid: "site@a", lastSeen: T0 }])
    w.watch.sweep()
    w.at(T0 + 31 * MIN)
    w.watch.sweep()
    w.watch.sweep()
    expect(w.reads()).toBe(1)
    for (let i = 0; i < 3; i++) w.watch.condorQ({ error: "condor_q timed out", updated: T0 })
    await w.watch.delivery.idle()
    expect(w.posted.map((e) => [e.event, e.state, e.site])).toEqual([
      ["site-stale", "firing", "site@a"],
      ["condor_q-failing", "firing", null],
    ])
    w.changed()
    w.watch.sweep()
    expect(w.reads()).toBe(2)
    await w.watch.stop()
    expect(w.logs).toEqual(["alerts: posting to https://hooks.example.org/…"])
  })

  test("feeds the pool's conditions with its clock: condor_status, a flagged site, a token", async () => {
    const w = started(() => [])
    for (let i = 0; i < 3; i++) w.watch.condorStatus({ error: "timed out", updated: null })
    const flag = {
      kind: "black-hole" as const,
      since: T0 - 60 * MIN,
      reason: "every job ends fast",
    }
    w.watch.siteFlagged("site@b", flag)
    w.watch.tokenExpiry("site@b", T0 + 86_400_000)
    w.watch.tokenExpiry("site@c", T0 + 30 * 86_400_000)
    w.watch.condorStatus({ error: null, updated: T0 })
    await w.watch.stop()
    expect(w.posted.map((e) => [e.event, e.state, e.site, e.at])).toEqual([
      ["condor_status-failing", "firing", null, "2025-03-01T12:00:00.000Z"],
      ["site-flagged", "firing", "site@b", "2025-03-01T12:00:00.000Z"],
      ["token-expiring", "firing", "site@b", "2025-03-01T12:00:00.000Z"],
    ])
  })

  test("warns of the tokens sites report for their tarballs, the soonest to expire of each", async () => {
    const day = 86_400_000
    const w = started(() => [
      {
        uuid: "site@d",
        lastSeen: T0,
        metrics: { token_expires: { tarball: (T0 + 3 * day) / 1000 } },
      },
      {
        uuid: "site@e",
        lastSeen: T0,
        metrics: { token_expires: { tarball: (T0 + 60 * day) / 1000 } },
      },
      { uuid: "site@f", lastSeen: T0, metrics: {} },
    ])
    w.watch.sweep()
    await w.watch.stop()
    expect(w.posted.map((e) => [e.event, e.state, e.site, e.details])).toEqual([
      ["token-expiring", "firing", "site@d", { expires: "2025-03-04T12:00:00.000Z" }],
    ])
  })

  test("a store that cannot be read is logged once, and the sites last read are kept", async () => {
    let broken = false
    const w = started(() => {
      if (broken) throw new Error("disk I/O error")
      return [{ uuid: "site@a", lastSeen: T0 }]
    })
    w.watch.sweep()
    broken = true
    for (let i = 0; i < 3; i++) {
      w.changed()
      w.watch.sweep()
    }
    w.at(T0 + 31 * MIN)
    w.changed()
    w.watch.sweep()
    await w.watch.stop()
    expect(w.logs.slice(1)).toEqual(["alerts: cannot read the sites: disk I/O error"])
    expect(w.posted.map((e) => [e.event, e.site])).toEqual([["site-stale", "site@a"]])
  })
})
