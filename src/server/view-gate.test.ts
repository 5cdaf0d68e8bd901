import { describe, expect, test } from "bun:test"
import { ViewGate } from "./view-gate.ts"

describe("ViewGate", () => {
  test("charges each view its time: costly views exhaust the budget sooner than cheap ones", async () => {
    const limits = { msPerSecond: 100, burstMs: 50, minCostMs: 1, maxWaiting: 100 }
    const cheap = new ViewGate(limits)
    for (let i = 0; i < 40; i++) {
      expect(cheap.enter()).toBe(true)
      cheap.spent(0.2)
    }
    const costly = new ViewGate(limits)
    expect(costly.enter()).toBe(true)
    costly.spent(40)
    expect(costly.enter()).toBe(true)
    costly.spent(40)
    // 80 ms spent of a 50 ms burst: the next view waits until the budget is back.
    const next = costly.enter()
    expect(next).toBeInstanceOf(Promise)
    expect(await next).toBe(true)
  })

  test("refuses at once when maxWaiting views already wait", async () => {
    const gate = new ViewGate({ msPerSecond: 1000, burstMs: 1, minCostMs: 1, maxWaiting: 2 })
    expect(gate.enter()).toBe(true)
    const waiting = [gate.enter(), gate.enter()]
    expect(await gate.enter()).toBe(false)
    expect(await Promise.all(waiting)).toEqual([true, true])
  })

  test("charges the writing of a view's characters: 2 MB cost 4 ms", () => {
    const gate = new ViewGate({ msPerSecond: 1, burstMs: 5, minCostMs: 0.25, maxWaiting: 1 })
    expect(gate.enter()).toBe(true)
    gate.spent(0, 2_000_000)
    // 5 − 0.25 − 3.75 = 1 ms left, then 0.75, 0.5, 0.25, 0.
    for (let i = 0; i < 4; i++) expect(gate.enter()).toBe(true)
    expect(gate.enter()).toBeInstanceOf(Promise)
  })

  test("charges a view waiting on another's render at most 250 ms", () => {
    const gate = new ViewGate({ msPerSecond: 1, burstMs: 300, minCostMs: 1, maxWaiting: 1 })
    expect(gate.enter()).toBe(true)
    gate.spent(10_000)
    // 300 − 1 − 249 = 50 ms left.
    expect(gate.enter()).toBe(true)
  })
})
