import { describe, expect, test } from "bun:test"
import { type ClientReport, emptyMetrics } from "../protocol/monitoring.ts"
import { apiClients } from "./api.ts"
import { ClientsView } from "./clients-view.ts"
import { ReportStore } from "./report-store.ts"

const NOW = Date.UTC(2026, 10, 21, 12)

function report(uuid: string, running: number): ClientReport {
  const metrics = emptyMetrics()
  metrics.glideins_running = { Cluster: running, 'x,"age_s":1': 2 }
  return { uuid, clientTime: 1763726400.5, metrics }
}

describe("ClientsView", () => {
  test("apiJson() is what JSON.stringify(apiClients()) gives, ages and staleness as of now", () => {
    const store = ReportStore.open(":memory:")
    store.saveReport(report('evil,"age_s":5,"stale":true@x', 1), null, NOW - 3 * 3_600_000)
    store.saveReport(report("fresh@x", 2), "alberta", NOW - 61_234)
    store.saveReport(report("stale@x", 3), null, NOW - 40 * 60_000)
    const view = new ClientsView(store, 30 * 60_000)
    for (const at of [NOW, NOW + 3_600_000]) {
      expect(view.apiJson(at, { database_error: null })).toBe(
        JSON.stringify({ ...apiClients(store.clients(), at, 30 * 60_000), database_error: null }),
      )
    }
    const empty = new ClientsView(ReportStore.open(":memory:"), 60_000)
    expect(empty.apiJson(NOW)).toBe(JSON.stringify(apiClients([], NOW, 60_000)))
    store.close()
  })

  test("clients() reads the store once per change", () => {
    const store = ReportStore.open(":memory:")
    let reads = 0
    const read = store.clients.bind(store)
    store.clients = () => {
      reads++
      return read()
    }
    const view = new ClientsView(store, 60_000)
    store.saveReport(report("a@x", 1), null, NOW)
    const first = view.clients()
    expect(view.clients()).toBe(first)
    view.apiJson(NOW)
    expect(reads).toBe(1)
    store.saveReport(report("b@x", 1), null, NOW)
    expect(
      view
        .clients()
        .map((c) => c.uuid)
        .sort(),
    ).toEqual(["a@x", "b@x"])
    expect(reads).toBe(2)
    store.close()
  })
})
