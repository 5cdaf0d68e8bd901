import { describe, expect, test } from "bun:test"
import { formatAge, formatDuration } from "./format-age.ts"

describe("formatAge()", () => {
  test("reads like a person would say it", () => {
    const s = 1000
    expect(
      [-5 * s, 2 * s, 42 * s, 3 * 60 * s, 125 * 60 * s, 3 * 86_400 * s].map(formatAge),
    ).toEqual(["just now", "just now", "42 s ago", "3 min ago", "2 h ago", "3 days ago"])
  })
})

describe("formatDuration()", () => {
  test("gives seconds, minutes, or hours and minutes", () => {
    expect([45_000, 300_000, 7_500_000, 7_200_000].map(formatDuration)).toEqual([
      "45 s",
      "5 min",
      "2 h 5 min",
      "2 h",
    ])
  })
})
