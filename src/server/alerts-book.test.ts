import { describe, expect, test } from "bun:test"
import { AlertBook } from "./alerts-book.ts"

describe("AlertBook", () => {
  test("observe() fires once when a condition starts and resolves once when it ends", () => {
    const book = new AlertBook()
    const seen = [false, true, true, true, false, false, true].map((firing, i) =>
      book.observe("site-stale", "a", firing, i * 1000),
    )
    expect(seen).toEqual([
      undefined,
      { kind: "site-stale", subject: "a", state: "firing", since: 1000, from: 1000, polls: 1 },
      undefined,
      undefined,
      { kind: "site-stale", subject: "a", state: "resolved", since: 1000, from: 4000, polls: 1 },
      undefined,
      { kind: "site-stale", subject: "a", state: "firing", since: 6000, from: 6000, polls: 1 },
    ])
    expect(book.isFiring("site-stale", "a")).toBe(true)
    expect(book.isFiring("site-stale", "b")).toBe(false)
  })

  test("observe() keeps each subject's condition apart", () => {
    const book = new AlertBook()
    expect(book.observe("site-stale", "a", true, 0)?.state).toBe("firing")
    expect(book.observe("site-stale", "b", true, 0)?.state).toBe("firing")
    expect(book.observe("site-flagged", "a", true, 0)?.state).toBe("firing")
    expect(book.observe("site-stale", "a", false, 1)?.subject).toBe("a")
    expect(book.isFiring("site-stale", "b")).toBe(true)
    expect(book.isFiring("site-flagged", "a")).toBe(true)
  })

  test("observe() holds a change for its kind's polls: a flapping condition says nothing", () => {
    // condor_q-failing needs three failed polls in a row by default.
    const book = new AlertBook()
    const flapping = [true, true, false, true, false, true, true, false]
    expect(flapping.map((f, i) => book.observe("condor_q-failing", null, f, i))).toEqual(
      flapping.map(() => undefined),
    )
    expect(book.size).toBe(0)
    const steady = [true, true, true, true].map((f, i) =>
      book.observe("condor_q-failing", null, f, 100 + i),
    )
    expect(steady).toEqual([
      undefined,
      undefined,
      { kind: "condor_q-failing", subject: null, state: "firing", since: 100, from: 100, polls: 3 },
      undefined,
    ])
    // Ending is held too: one good poll between failures does not resolve it.
    const back = [false, true, false, false, false].map((f, i) =>
      book.observe("condor_q-failing", null, f, 200 + i),
    )
    expect(back).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      {
        kind: "condor_q-failing",
        subject: null,
        state: "resolved",
        since: 100,
        from: 202,
        polls: 3,
      },
    ])
  })

  test("observe() holds a change for its kind's span as well as its polls", () => {
    const book = new AlertBook({ "site-flagged": { polls: 2, ms: 60_000 } })
    expect(book.observe("site-flagged", "a", true, 0)).toBeUndefined()
    expect(book.observe("site-flagged", "a", true, 30_000)).toBeUndefined()
    expect(book.observe("site-flagged", "a", true, 59_999)).toBeUndefined()
    expect(book.observe("site-flagged", "a", true, 60_000)?.state).toBe("firing")
  })

  test("assume() takes a condition as firing without a word, and its end too", () => {
    const book = new AlertBook()
    book.assume("site-stale", "old", 5)
    expect(book.isFiring("site-stale", "old")).toBe(true)
    expect(book.observe("site-stale", "old", true, 10)).toBeUndefined()
    expect(book.observe("site-stale", "old", false, 20)).toBeUndefined()
    expect(book.has("site-stale", "old")).toBe(false)
    // Once over, it is a condition like any other.
    expect(book.observe("site-stale", "old", true, 30)?.state).toBe("firing")
  })

  test("forget() drops a kind's conditions for subjects no longer there, without events", () => {
    const book = new AlertBook()
    book.observe("site-stale", "gone", true, 0)
    book.observe("site-stale", "here", true, 0)
    book.observe("site-flagged", "gone", true, 0)
    book.forget("site-stale", (s) => s === "here")
    expect(book.has("site-stale", "gone")).toBe(false)
    expect(book.has("site-stale", "here")).toBe(true)
    expect(book.has("site-flagged", "gone")).toBe(true)
  })

  test("the book keeps only firing or changing conditions, up to its bound", () => {
    const book = new AlertBook({}, 2)
    for (let i = 0; i < 100; i++) book.observe("site-stale", `ok${i}`, false, 0)
    expect(book.size).toBe(0)
    book.observe("site-stale", "a", true, 0)
    book.observe("site-stale", "b", true, 0)
    expect(book.observe("site-stale", "c", true, 0)).toBeUndefined()
    expect(book.size).toBe(2)
    expect(book.overflowed).toBe(1)
  })
})
