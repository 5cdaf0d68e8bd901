import { describe, expect, test } from "bun:test"
import { compactNumber, lineChart, niceCeil } from "./svg-chart.ts"

const H = 3_600_000
const FROM = Date.UTC(2026, 10, 20, 12)
const TO = FROM + 24 * H

async function render(options: Partial<Parameters<typeof lineChart>[0]> = {}): Promise<string> {
  return String(
    await lineChart({
      title: "Running",
      series: [],
      from: FROM,
      to: TO,
      gapMs: 15 * 60_000,
      ...options,
    }),
  )
}

describe("lineChart()", () => {
  test("escapes series names and the title everywhere they appear", async () => {
    const svg = await render({
      title: 'Idle <b>"x"</b>',
      series: [
        { name: "<script>alert(1)</script>", points: [{ t: FROM + H, v: 3 }] },
        { name: "ok", points: [{ t: FROM + H, v: 1 }] },
      ],
    })
    expect(svg).not.toContain("<script>")
    expect(svg).not.toContain("<b>")
    expect(svg).toContain("&lt;script&gt;alert(1)&lt;/script&gt;")
    expect(svg).toContain('aria-label="Idle &lt;b&gt;&quot;x&quot;&lt;/b&gt;: &lt;script&gt;')
  })

  test("joins points closer than the gap and starts a new segment after a longer silence", async () => {
    const points = [0, 5, 10, 60, 65].map((m) => ({ t: FROM + m * 60_000, v: m }))
    const svg = await render({ series: [{ name: "a", points }] })
    const d = /<path d="([^"]*)"/.exec(svg)?.[1] ?? ""
    expect(d.match(/[ML]/g)?.join("")).toBe("MLLML")
  })

  test("draws at most 360 points per line however long the history", async () => {
    const points = Array.from({ length: 24 * 60 }, (_, i) => ({ t: FROM + i * 60_000, v: i % 7 }))
    const svg = await render({ series: [{ name: "a", points }] })
    const d = /<path d="([^"]*)"/.exec(svg)?.[1] ?? ""
    expect(d.match(/[ML]/g)?.length).toBeLessThanOrEqual(360)
  })

  test("says so when there is nothing to draw, and labels UTC hours", async () => {
    const svg = await render({ series: [{ name: "a", points: [] }] })
    expect(svg).toContain("No data in this range yet")
    expect(svg).toContain("Running: no data in this range")
    expect(svg).toContain(">15:00<")
  })
})

describe("niceCeil() and compactNumber()", () => {
  test("round up to 1, 2, 2.5 or 5 times a power of ten", () => {
    expect([0, 0.3, 3, 7, 11, 24, 260, 4100].map(niceCeil)).toEqual([
      1, 1, 5, 10, 20, 25, 500, 5000,
    ])
  })

  test("write large numbers briefly", () => {
    expect([0, 2.5, 250, 1250, 2500, 25000, 3_500_000].map(compactNumber)).toEqual([
      "0",
      "2.5",
      "250",
      "1.3k",
      "2.5k",
      "25k",
      "3.5M",
    ])
  })
})
