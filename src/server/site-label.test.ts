import { describe, expect, test } from "bun:test"
import { parseRange, rangeFor } from "./chart-range.ts"
import { SITE_COLORS, siteColor } from "./site-color.ts"
import { shortLabel, siteLabel } from "./site-label.ts"

describe("siteLabel() and shortLabel()", () => {
  test("name a site by its token and uuid", () => {
    expect(siteLabel("alice@login1", "alberta")).toBe("alberta (alice@login1)")
    expect(siteLabel("alice@login1", null)).toBe("alice@login1")
  })

  test("shortLabel() keeps both ends of a long name, counting characters not code units", () => {
    expect(shortLabel("alice@login1")).toBe("alice@login1")
    const long = `alice${"x".repeat(100)}@login1.example.org`
    const short = shortLabel(long)
    expect([...short].length).toBe(40)
    expect(short.startsWith("alicexxx")).toBe(true)
    expect(short.endsWith("@login1.example.org")).toBe(true)
    expect([...shortLabel("🦆".repeat(50), 9)].length).toBe(9)
  })
})

describe("siteColor()", () => {
  test("gives a site the same colour every time, from its name alone", () => {
    expect(siteColor("alice@login1")).toBe(siteColor("alice@login1"))
    expect(SITE_COLORS).toContain(siteColor("alice@login1"))
    const colors = new Set(Array.from({ length: 200 }, (_, i) => siteColor(`site${i}@x`)))
    expect(colors.size).toBeGreaterThan(30)
  })

  test("has 36 distinct sRGB colours", () => {
    expect(new Set(SITE_COLORS).size).toBe(36)
    for (const c of SITE_COLORS) expect(c).toMatch(/^#[0-9a-f]{6}$/)
  })
})

describe("parseRange()", () => {
  test("takes 1h, 6h, day and week; anything else is the day", () => {
    expect(["1h", "6h", "day", "week"].map((q) => parseRange(q))).toEqual([
      "1h",
      "6h",
      "day",
      "week",
    ])
    for (const q of [undefined, "", "month", "toString", "__proto__"])
      expect(parseRange(q)).toBe("day")
  })
})

describe("rangeFor()", () => {
  test("is the shortest range holding a site's history, the day at most", () => {
    const h = 3_600_000
    expect([0.5 * h, h, 2 * h, 6 * h, 7 * h, 30 * 24 * h].map(rangeFor)).toEqual([
      "1h",
      "1h",
      "6h",
      "6h",
      "day",
      "day",
    ])
  })
})
