import { describe, expect, test } from "bun:test"
import { pauseAfter, RenderCache } from "./render-cache.ts"

describe("RenderCache", () => {
  test("concurrent requests for a key share one render", async () => {
    const cache = new RenderCache<string, string>({ minReuseMs: 0 })
    let renders = 0
    const render = async () => {
      renders++
      await Bun.sleep(5)
      return "page"
    }
    const pages = await Promise.all(Array.from({ length: 4 }, () => cache.get("week", 1, render)))
    expect(pages).toEqual(["page", "page", "page", "page"])
    expect(renders).toBe(1)
  })

  test("reuses a view while the version stands, and renders a cheap one again when it moves", async () => {
    // A clock that stands still: every render costs nothing, whatever the machine is doing.
    const cache = new RenderCache<string, number>({ minReuseMs: 0 }, () => 1000)
    let n = 0
    expect(await cache.get("day", 1, () => ++n)).toBe(1)
    expect(await cache.get("day", 1, () => ++n)).toBe(1)
    expect(await cache.get("day", 2, () => ++n)).toBe(2)
    expect(await cache.get("week", 2, () => ++n)).toBe(3)
  })

  test("does not render a costly view again before a pause of ten times its cost, whatever changed", async () => {
    let clock = 1000
    const cache = new RenderCache<string, number>({ minReuseMs: 0 }, () => clock)
    let n = 0
    const costly = () => {
      clock += 20
      return ++n
    }
    expect(await cache.get("week", 1, costly)).toBe(1)
    for (let version = 2; version < 10; version++) {
      expect(await cache.get("week", version, costly)).toBe(1)
    }
    expect(cache.renders).toBe(1)
  })

  test("pauseAfter() holds back only costly renders", () => {
    expect(pauseAfter(1)).toBe(0)
    expect(pauseAfter(50)).toBe(500)
  })
})
