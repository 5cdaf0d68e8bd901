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

describe("lineChart() for people", () => {
  test("shows each column's time and values on hover in <title> elements, at most 48 columns", async () => {
    const points = Array.from({ length: 24 * 60 }, (_, i) => ({ t: FROM + i * 60_000, v: i }))
    const svg = await render({
      series: [
        { name: "a", points },
        { name: "b", points: points.map((p) => ({ t: p.t, v: 1000 + p.v })) },
      ],
    })
    const areas = svg.match(/<rect class="hover"[^>]*><title>[^<]*<\/title><\/rect>/g) ?? []
    expect(areas.length).toBeGreaterThan(40)
    expect(areas.length).toBeLessThanOrEqual(48)
    expect(areas[0]).toMatch(/<title>12:\d\d UTC\na: [\d,]+\nb: 1,0\d\d<\/title>/)
    // Downsampled: the last bucket's time and its peak.
    expect(areas.at(-1)).toMatch(/<title>11:5\d UTC\na: 1,439\nb: 2,439<\/title>/)
  })

  test("hover areas tile the plot without overlapping, nearest point wins", async () => {
    const points = [1, 2, 8].map((h) => ({ t: FROM + h * H, v: h }))
    const svg = await render({ series: [{ name: "a", points }] })
    const spans = [
      ...svg.matchAll(/<rect class="hover" x="([\d.]+)" y="\d+" width="([\d.]+)"/g),
    ].map((m) => [Number(m[1]), Number(m[1]) + Number(m[2])])
    expect(spans.length).toBe(3)
    expect(spans[0]?.[0]).toBe(52)
    expect(spans[1]?.[0]).toBeCloseTo(spans[0]?.[1] ?? 0, 0)
    expect(spans[2]?.[0]).toBeCloseTo(spans[1]?.[1] ?? 0, 0)
    expect(spans[2]?.[1]).toBeCloseTo(480 - 14, 0)
  })

  test("draws a series in its own colour and cuts long names to 40 characters, full on hover", async () => {
    const name = `site-${"x".repeat(150)}@login.example.org`
    const svg = await render({
      series: [
        { name, points: [{ t: FROM + H, v: 3 }], color: "#123456" },
        { name: "b", points: [{ t: FROM + H, v: 1 }] },
      ],
    })
    expect(svg).toContain('stroke="#123456"')
    expect(svg).toContain("background:#123456")
    expect(svg).toContain(`<li title="${name}">`)
    const shown = /<\/span>([^<]*)<\/li>/.exec(svg)?.[1] ?? ""
    expect([...shown].length).toBe(40)
    expect(shown).toContain("…")
  })

  test("scales with its box: a viewBox and no fixed size, so CSS fits it to any card", async () => {
    const svg = await render({ series: [{ name: "a", points: [{ t: FROM + H, v: 3 }] }] })
    const tag = /<svg[^>]*>/.exec(svg)?.[0] ?? ""
    expect(tag).toContain('viewBox="0 0 480 180"')
    expect(tag).not.toMatch(/\s(width|height)=/)
  })

  test("labels ticks every 10 minutes over an hour and every hour over six", async () => {
    const hour = await render({ to: FROM + H })
    expect(hour.match(/>12:\d0</g)).toEqual([
      ">12:00<",
      ">12:10<",
      ">12:20<",
      ">12:30<",
      ">12:40<",
      ">12:50<",
    ])
    const six = await render({ to: FROM + 6 * H })
    expect(six.match(/>\d\d:00</g)?.length).toBe(7)
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
