import { describe, expect, test } from "bun:test"
import { GlideinError } from "../errors.ts"
import { parseDemand } from "./demand.ts"

const good = { cpus: 1, memory: 2000, disk: 10000, gpus: 0, os: null, count: 3 }

function rejection(value: unknown): string {
  try {
    parseDemand(value, "server http://x/jsonrpc")
  } catch (error) {
    expect(error).toBeInstanceOf(GlideinError)
    return (error as Error).message
  }
  throw new Error("expected a rejection")
}

describe("parseDemand()", () => {
  test("parseDemand() accepts pyglidein's rows and drops empty ones", () => {
    expect(parseDemand([good, { ...good, count: 0 }], "s")).toEqual({ rows: [good] })
  })

  test("parseDemand() reads a missing os as any OS and keeps a plain token", () => {
    const { os: _, ...noOs } = good
    expect(parseDemand([noOs, { ...good, os: "sl6" }], "s").rows.map((r) => r.os)).toEqual([
      null,
      "sl6",
    ])
  })

  test("parseDemand() rounds pyglidein's fractional disk up", () => {
    expect(parseDemand([{ ...good, disk: 3145.728 }], "s").rows[0]?.disk).toBe(3146)
  })

  test("parseDemand() ignores fields it does not know", () => {
    expect(parseDemand([{ ...good, extra: "x" }], "s")).toEqual({ rows: [good] })
  })

  test("parseDemand() rejects negative and fractional counts and resources", () => {
    expect(rejection([{ ...good, cpus: -1 }])).toBe(
      "server http://x/jsonrpc: demand rejected: [0].cpus: expected a whole number from 0 to 100000, got -1",
    )
    expect(rejection([good, { ...good, count: 1.5 }])).toContain(
      "[1].count: expected a whole number",
    )
    expect(rejection([{ ...good, memory: 1.5 }])).toContain("[0].memory")
    expect(rejection([{ ...good, disk: -10000 }])).toContain("[0].disk")
    expect(rejection([{ ...good, gpus: "1" }])).toContain(
      '[0].gpus: expected a whole number, got "1"',
    )
  })

  test("parseDemand() skips rows over a bound instead of rejecting the reply", () => {
    const absurd = [
      { ...good, cpus: 200_000 },
      { ...good, memory: 1e308 },
      { ...good, count: 2 ** 53 + 1 },
      { ...good, disk: 1e12 + 0.5 },
      { ...good, gpus: 10_000.5 },
    ]
    expect(parseDemand([...absurd, good], "s")).toEqual({
      rows: [good],
      skipped: { rows: 5, first: "cpus 200000 > 100000" },
    })
    // A count of 0 is no demand at all, bounds or not.
    expect(parseDemand([{ ...good, cpus: 200_000, count: 0 }], "s")).toEqual({ rows: [] })
  })

  test("parseDemand() still rejects a malformed row beside an absurd one", () => {
    expect(
      rejection([
        { ...good, cpus: 200_000 },
        { ...good, os: "$(id)" },
      ]),
    ).toContain("[1].os: expected a plain token")
    expect(rejection([{ ...good, cpus: 200_000, memory: "2000" }])).toContain(
      '[0].memory: expected a whole number, got "2000"',
    )
  })

  test("parseDemand() rejects an os that could carry text into a submit file or shell", () => {
    for (const os of ['el7"; rm -rf ~', "el7\n#SBATCH --x", "a".repeat(33), "", "$(id)"]) {
      expect(rejection([{ ...good, os }])).toContain("[0].os: expected a plain token")
    }
    expect(rejection([{ ...good, os: 7 }])).toContain("[0].os: expected null or a string, got 7")
  })

  test("parseDemand() rejects a reply that is not a list of objects, whole", () => {
    expect(rejection({ rows: [] })).toContain(
      "demand rejected: expected a list of demand rows, got an object",
    )
    expect(rejection([good, "x"])).toContain('[1]: expected an object, got "x"')
    expect(rejection(null)).toContain("got null")
  })

  test("parseDemand() never echoes a long hostile value in full", () => {
    const message = rejection([{ ...good, os: `${"x".repeat(5000)}` }])
    expect(message.length).toBeLessThan(200)
  })
})
