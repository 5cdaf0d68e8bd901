import { describe, expect, test } from "bun:test"
import { parseCondorQ } from "./condor-q-parse.ts"
import { demoJobCounts, demoQueue, simulatedCondorQ } from "./demo-queue.ts"

describe("demoQueue()", () => {
  const t = Date.UTC(2026, 10, 21, 12)

  test("prints condor_q output that parses without a bad line, with the counts it promises", async () => {
    const result = await parseCondorQ(demoQueue(t))
    expect(result.badLines).toBe(0)
    expect(result.jobs).toBe(demoJobCounts(t).reduce((n, k) => n + k.count, 0))
    expect(result.jobs).toBeGreaterThan(0)
    expect(new Set(result.rows.map((r) => r.os))).toEqual(
      new Set([null, "centos7", "sl6", "almalinux9", "el8"]),
    )
  })

  test("is the same for the same time and changes over hours", async () => {
    expect(await parseCondorQ(demoQueue(t))).toEqual(await parseCondorQ(demoQueue(t)))
    const later = demoJobCounts(t + 6 * 3_600_000)
    expect(later).not.toEqual(demoJobCounts(t))
  })
})

describe("simulatedCondorQ()", () => {
  test("prints exactly the number of jobs asked for, short and long", async () => {
    for (const long of [false, true]) {
      const result = await parseCondorQ(simulatedCondorQ({ jobs: 12_345, long, seed: 3 }))
      expect(result.jobs).toBe(12_345)
      expect(result.badLines).toBe(0)
    }
  })
})
