import { describe, expect, test } from "bun:test"
import { DEMAND_LIMITS, type DemandRow, parseDemand } from "../protocol/demand.ts"
import { seededRandom } from "../seeded-random.ts"
import { compareRows } from "./demand-row.ts"
import { fitDemand, MAX_MERGE_PERCENT, MAX_OS_NAMES } from "./fit-demand.ts"

function row(
  count: number,
  cpus: number,
  memory: number,
  disk = 10,
  gpus = 0,
  os: string | null = null,
): DemandRow {
  return { cpus, memory, disk, gpus, os, count }
}

/** Every job of `before` finds a row of `after` asking at least as much and at most `percent` more. */
function expectCovered(before: DemandRow[], after: DemandRow[], percent: number) {
  const keys = ["cpus", "memory", "disk", "gpus"] as const
  for (const job of before) {
    const home = after.find(
      (r) =>
        r.os === job.os &&
        keys.every((k) => r[k] >= job[k] && r[k] * 100 <= job[k] * (100 + percent)),
    )
    expect(home).toBeDefined()
  }
  const total = (rows: DemandRow[]) => rows.reduce((n, r) => n + r.count, 0)
  expect(total(after)).toBe(total(before))
}

describe("fitDemand()", () => {
  test("sets aside shapes over the bounds clients accept, counting them and naming the largest", () => {
    const fitted = fitDemand([
      row(5, 1, 2000),
      row(3, 200_000, 2000),
      row(1, 1, 2000, DEMAND_LIMITS.disk + 1),
      row(1, 1, 2000, 10, 10_001),
      row(1, 1, 2_000_000_000),
    ])
    expect(fitted.rows).toEqual([row(5, 1, 2000)])
    expect(fitted.jobs).toBe(5)
    expect(fitted.setAside).toEqual({ jobs: 6, shapes: 4, first: "cpus 200000 > 100000" })
  })

  test("merges values within 5 % into the largest of them, never rounding down, 0 apart from 1", () => {
    const before = [
      row(3, 1, 2000),
      row(2, 1, 2048),
      row(1, 1, 2100), // 2000 × 1.05: still with 2000
      row(1, 1, 2101), // a group of its own
      row(1, 20, 4000),
      row(1, 21, 4000), // 20 and 21 cores merge into 21
      row(1, 1, 2000, 10, 1), // one GPU
      row(1, 1, 2000, 0), // no disk at all is not 10
    ]
    const fitted = fitDemand(before)
    expect(fitted.rows).toEqual([
      row(6, 1, 2100),
      row(2, 21, 4000),
      row(1, 1, 2100, 0, 0), // disk 0 never merges with 10
      row(1, 1, 2100, 10, 1),
      row(1, 1, 2101),
    ])
    expect(fitted.merged).toEqual({ shapes: 8, withinPercent: 5 })
    expectCovered(before, fitted.rows, 5)
  })

  test("leaves a table without near-identical shapes as it is", () => {
    const before = [row(4, 1, 2000), row(2, 4, 8000, 3146, 1, "el8"), row(1, 8, 32000)]
    const fitted = fitDemand(before)
    expect(fitted.rows).toEqual(before)
    expect(fitted.merged).toBeUndefined()
    expect(fitted.setAside).toBeUndefined()
  })

  test("widens the tolerance until the table fits, still covering every job", () => {
    const random = seededRandom(3)
    const before: DemandRow[] = []
    for (let i = 0; i < 5000; i++) {
      before.push(
        row(
          1 + Math.floor(random() * 5),
          1 + Math.floor(random() * 64),
          1000 + Math.floor(random() * 200_000),
          Math.floor(random() * 100_000),
          Math.floor(random() * 4),
          ["el8", "el9", null][Math.floor(random() * 3)] ?? null,
        ),
      )
    }
    before.sort(compareRows)
    // Random shapes, so few merge: a bound a little under their number needs a wider tolerance.
    const fitted = fitDemand(before, 4500)
    expect(fitted.rows.length).toBeLessThanOrEqual(4500)
    expect(fitted.setAside).toBeUndefined()
    const percent = fitted.merged?.withinPercent ?? 0
    expect(percent).toBeGreaterThan(5)
    expectCovered(before, fitted.rows, percent)
  })

  test("never widens past MAX_MERGE_PERCENT: a spread made on purpose cannot inflate other jobs", () => {
    // One user's 100 one-job shapes, each with its own OS, beside everyone's 1000 small jobs
    // and one big one: merging them all would publish the small jobs at the big one's size.
    const before = [
      row(1000, 1, 2000),
      row(1, 64, 500_000, 10, 0, "el9"),
      ...Array.from({ length: 100 }, (_, i) => row(1, 1, 2000 + i, 10, 0, `junk${i}`)),
    ]
    const fitted = fitDemand(before, 20)
    expect(fitted.merged?.withinPercent ?? 5).toBeLessThanOrEqual(MAX_MERGE_PERCENT)
    const small = fitted.rows.find((r) => r.count >= 1000)
    // Within the tolerance of what the jobs asked, never the big job's 64 cpus and 500,000 MB.
    expect(small).toMatchObject({ cpus: 1, os: null })
    expect(small?.memory).toBeLessThanOrEqual(2000 * (1 + MAX_MERGE_PERCENT / 100))
    expect(fitted.setAside?.first).toMatch(/^more than 20 shapes after merging within \d+ %$/)
  })

  test("publishes at most MAX_OS_NAMES operating systems, those with the most jobs", () => {
    const before = Array.from({ length: MAX_OS_NAMES + 5 }, (_, i) =>
      row(MAX_OS_NAMES + 5 - i, 1, 2000, 10, 0, `os${i}`),
    )
    const fitted = fitDemand(before)
    expect(new Set(fitted.rows.map((r) => r.os)).size).toBe(MAX_OS_NAMES)
    expect(fitted.setAside).toMatchObject({ shapes: 5, jobs: 1 + 2 + 3 + 4 + 5 })
  })

  test("sets aside the rows with fewest jobs when merging cannot fit the table (one OS each)", () => {
    const before = Array.from({ length: 30 }, (_, i) => row(30 - i, 1, 2000, 10, 0, `os${i}`))
    const fitted = fitDemand(before, 20)
    expect(fitted.rows).toEqual(before.slice(0, 20))
    expect(fitted.setAside).toEqual({
      jobs: 55,
      shapes: 10,
      first: expect.stringMatching(/^more than 20 shapes after merging within \d+ %$/),
    })
  })

  test("caps a row's count at what clients accept", () => {
    const fitted = fitDemand([row(DEMAND_LIMITS.count + 5, 1, 2000)])
    expect(fitted.rows).toEqual([row(DEMAND_LIMITS.count, 1, 2000)])
    expect(fitted.jobs).toBe(DEMAND_LIMITS.count + 5)
  })

  test("publishes 100,001 distinct shapes as a table every client takes whole", () => {
    const before = Array.from({ length: DEMAND_LIMITS.rows + 1 }, (_, i) => row(1, 1, 1000 + i))
    const fitted = fitDemand(before.sort(compareRows))
    expect(fitted.rows.length).toBeLessThanOrEqual(DEMAND_LIMITS.rows)
    const accepted = parseDemand(JSON.parse(JSON.stringify(fitted.rows)), "test")
    expect(accepted.skipped).toBeUndefined()
    expect(accepted.rows.reduce((n, r) => n + r.count, 0)).toBe(DEMAND_LIMITS.rows + 1)
  })
})
