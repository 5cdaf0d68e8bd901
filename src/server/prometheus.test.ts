import { describe, expect, test } from "bun:test"
import { emptyMetrics } from "../protocol/monitoring.ts"
import { demandSnapshot } from "../test-support.ts"
import { MAX_PARTITION_SERIES, OTHER_PARTITION, renderMetrics } from "./prometheus.ts"
import type { StoredClient } from "./report-store.ts"

const NOW = Date.UTC(2026, 10, 21, 12)
const STALE_AFTER = 30 * 60_000

function site(uuid: string, lastSeen: number, partitions: Record<string, number>): StoredClient {
  const metrics = emptyMetrics()
  metrics.glideins_running = partitions
  metrics.glideins_idle = Object.fromEntries(Object.keys(partitions).map((p) => [p, 1]))
  metrics.glideins_launched = { [Object.keys(partitions)[0] ?? "x"]: 3 }
  const running = Object.values(partitions).reduce((a, b) => a + b, 0)
  return {
    uuid,
    tokenName: null,
    firstSeen: lastSeen,
    lastSeen,
    clientTime: null,
    metrics,
    running,
    idle: Object.keys(partitions).length,
    launched: 3,
  }
}

/** The samples of one metric: labels → value. */
function samples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue
    const at = line.lastIndexOf(" ")
    out.set(line.slice(name.length, at), Number(line.slice(at + 1)))
  }
  return out
}

function render(clients: StoredClient[]) {
  return renderMetrics({
    now: NOW,
    demand: demandSnapshot([], NOW),
    clients,
    staleAfterMs: STALE_AFTER,
  })
}

describe("renderMetrics()", () => {
  test("500 sites of 64 partitions give a bounded number of series, and per-site sums stay exact", () => {
    const clients = Array.from({ length: 500 }, (_, s) =>
      site(
        `site${s}`,
        NOW - 60_000,
        Object.fromEntries(
          Array.from({ length: 64 }, (_, p) => [`partition-${p}`, (s * 7 + p) % 50]),
        ),
      ),
    )
    const { text } = render(clients)
    const glideins = samples(text, "glidein_site_glideins")
    // 96,000 series (19.8 MB) when every partition was one.
    expect(glideins.size).toBeLessThanOrEqual(2 * (MAX_PARTITION_SERIES + 500))
    expect(text.length).toBeLessThan(400_000)
    for (const c of [clients[0]!, clients[123]!, clients[499]!]) {
      let running = 0
      for (const [labels, n] of glideins) {
        if (labels.startsWith(`{site="${c.uuid}",`) && labels.endsWith('state="running"}'))
          running += n
      }
      expect(running).toBe(c.running)
    }
    expect([...glideins.keys()].some((l) => l.includes(`partition="${OTHER_PARTITION}"`))).toBe(
      true,
    )
  })

  test("a site's partitions all have series while they fit, and launched is a metric of its own", () => {
    const { text } = render([site("a@x", NOW - 60_000, { cpu: 4, gpu: 2 })])
    expect(samples(text, "glidein_site_glideins")).toEqual(
      new Map([
        ['{site="a@x",partition="cpu",state="running"}', 4],
        ['{site="a@x",partition="gpu",state="running"}', 2],
        ['{site="a@x",partition="cpu",state="idle"}', 1],
        ['{site="a@x",partition="gpu",state="idle"}', 1],
      ]),
    )
    expect(text).not.toContain('state="launched"')
    expect(samples(text, "glidein_site_launched")).toEqual(new Map([['{site="a@x"}', 3]]))
  })

  test("a stale site exports no glideins, only when it last reported; validUntil is when the next turns stale", () => {
    const fresh = site("fresh@x", NOW - 10 * 60_000, { Cluster: 159 })
    const stale = site("stale@x", NOW - 3 * 86_400_000, { Cluster: 122 })
    const { text, validUntil } = render([fresh, stale])
    expect([...samples(text, "glidein_site_glideins").keys()].join()).not.toContain("stale@x")
    expect(samples(text, "glidein_site_launched").has('{site="stale@x"}')).toBe(false)
    expect(samples(text, "glidein_site_last_report_timestamp_seconds").size).toBe(2)
    expect(text).toContain('glidein_sites{state="stale"} 1')
    expect(validUntil).toBe(fresh.lastSeen + STALE_AFTER)
  })
})
