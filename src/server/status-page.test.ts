import { describe, expect, test } from "bun:test"
import { demandSnapshot } from "../test-support.ts"
import { LONG_SITE } from "./page-fixture.ts"
import type { SitePoint, StoredClient } from "./report-store.ts"
import { siteColor } from "./site-color.ts"
import { renderStatusPage, type StatusPageData, siteSeries, totalSeries } from "./status-page.ts"
import { TEST_ROWS } from "./test-server.ts"

const NOW = Date.UTC(2026, 10, 21, 12, 0, 0)
const M5 = 300_000

function client(uuid: string, tokenName: string | null = null): StoredClient {
  return {
    uuid,
    tokenName,
    firstSeen: NOW - 3_600_000,
    lastSeen: NOW - 60_000,
    clientTime: null,
    metrics: {
      glideins_running: { Cluster: 5 },
      glideins_idle: {},
      glideins_launched: {},
      count_failed: {},
      token_expires: {},
      avg_idle_time: {},
      min_idle_time: {},
      max_idle_time: {},
    },
    running: 5,
    idle: 0,
    launched: 0,
  }
}

/** A point of `uuid` `k` buckets before NOW. */
function point(uuid: string, k: number, running: number, idle = 0): SitePoint {
  return { uuid, t: NOW - k * M5, running, idle, launched: 0 }
}

function data(over: Partial<StatusPageData> = {}): StatusPageData {
  return {
    now: NOW,
    version: "test",
    demand: demandSnapshot(TEST_ROWS, NOW - 90_000),
    delayMs: 300_000,
    clients: [],
    staleAfterMs: 30 * 60_000,
    range: "day",
    demandHistory: [],
    siteHistory: [],
    demandBucketMs: 60_000,
    siteBucketMs: M5,
    ...over,
  }
}

describe("siteSeries() and totalSeries()", () => {
  test("a site has the same colour in every chart, whatever its rank there", () => {
    const history = [point("a", 1, 10, 0), point("b", 1, 1, 9)]
    const labels = new Map<string, string>()
    const running = siteSeries(history, labels, "running")
    const idle = siteSeries(history, labels, "idle")
    expect(running.map((s) => s.name)).toEqual(["a", "b"])
    expect(idle.map((s) => s.name)).toEqual(["b", "a"])
    for (const s of [...running, ...idle]) expect(s.color).toBe(siteColor(s.name))
  })

  test("sites beyond the eighth are summed in one grey line", () => {
    const history = Array.from({ length: 11 }, (_, i) => point(`s${i}`, 1, 100 - i))
    const series = siteSeries(history, new Map(), "running")
    expect(series).toHaveLength(9)
    expect(series[8]).toEqual({
      name: "3 other sites",
      points: [{ t: NOW - M5, v: 92 + 91 + 90 }],
      color: "#8a8f98",
    })
  })

  test("totalSeries() sums running and idle glideins over the sites at each point", () => {
    const series = totalSeries([point("a", 2, 1, 4), point("b", 2, 2, 5), point("a", 1, 3, 6)])
    expect(series.map((s) => [s.name, s.points])).toEqual([
      [
        "running",
        [
          { t: NOW - 2 * M5, v: 3 },
          { t: NOW - M5, v: 3 },
        ],
      ],
      [
        "idle",
        [
          { t: NOW - 2 * M5, v: 9 },
          { t: NOW - M5, v: 6 },
        ],
      ],
    ])
  })
})

describe("renderStatusPage()", () => {
  test("escapes a hostile 196-character site name everywhere, and cuts it in legends", async () => {
    expect([...LONG_SITE].length).toBe(196)
    const page = String(
      await renderStatusPage(
        data({
          clients: [client(LONG_SITE, "<i>t</i>"), client("bob@x")],
          siteHistory: [point(LONG_SITE, 1, 3, 1), point("bob@x", 1, 2, 2)],
        }),
      ),
    )
    expect(page).not.toContain("<b>")
    expect(page).not.toContain("<i>t</i>")
    expect(page).toContain("&lt;i&gt;t&lt;/i&gt; (&lt;b&gt;&amp;&quot;site&#39;&lt;/b&gt;xxx")
    expect(page).toContain(`href="/site/${encodeURIComponent(LONG_SITE).replaceAll("'", "&#39;")}"`)
    const legends = [
      ...page.matchAll(/<li title="[^"]*"><span class="swatch"[^>]*><\/span>([^<]*)<\/li>/g),
    ]
    expect(legends.length).toBeGreaterThan(0)
    for (const [, shown] of legends) {
      const text = (shown ?? "").replace(/&[a-z]+;|&#\d+;/g, "_")
      expect([...text].length).toBeLessThanOrEqual(40)
    }
  })

  test("lists six partitions of a site in its row, names cut to 24 characters, and counts the rest", async () => {
    const c = client("a")
    const name = (i: number) => `p${String(i).padStart(2, "0")}${"q".repeat(125)}`
    c.metrics.glideins_running = Object.fromEntries(
      Array.from({ length: 64 }, (_, i) => [name(i), i]),
    )
    const page = String(await renderStatusPage(data({ clients: [c] })))
    const cell = /data-label="partitions">([^<]*)</.exec(page)?.[1] ?? ""
    expect(cell).toStartWith("p00qqqqqqqqq…qqqqqqqqqqq 0/0/0, p01")
    expect(cell).toEndWith(" 5/0/0 and 58 more")
    expect(cell.length).toBeLessThan(250)
  })

  test("offers four ranges and charts the glideins at all sites", async () => {
    const page = String(
      await renderStatusPage(
        data({ range: "1h", clients: [client("a")], siteHistory: [point("a", 1, 7, 2)] }),
      ),
    )
    expect(page.match(/<a href="\?range=[^"]+"/g)).toEqual([
      '<a href="?range=1h"',
      '<a href="?range=6h"',
      '<a href="?range=day"',
      '<a href="?range=week"',
    ])
    expect(page).toContain('aria-current="page">Last hour')
    expect(page).toContain("<figcaption>Glideins at all sites</figcaption>")
    expect(page).toContain(">11:10<")
  })

  test("its style asks no box to be wider than a phone's card (340 px)", async () => {
    const page = String(await renderStatusPage(data()))
    const style = /<style>([\s\S]*?)<\/style>/.exec(page)?.[1] ?? ""
    const px = (v: string) => (v.endsWith("rem") ? Number.parseFloat(v) * 16 : Number.parseFloat(v))
    const minimums = [
      ...[...style.matchAll(/minmax\(([^,()]+|min\([^)]*\)),/g)].map((m) => m[1] ?? ""),
      ...[...style.matchAll(/min-width:([^;}]+)/g)].map((m) => m[1] ?? ""),
    ].filter((v) => !v.startsWith("min(") && /\d/.test(v))
    expect(minimums.length).toBeGreaterThan(0)
    for (const v of minimums) expect(px(v)).toBeLessThanOrEqual(340)
    expect(style).toContain("minmax(min(100%,")
  })
})
