import { afterEach, describe, expect, test } from "bun:test"
import { readFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { cleanUp } from "../test-support.ts"
import { CondorStatusError, condorStatusArgv, runCondorStatus } from "./condor-status-run.ts"
import { EMPTY_POOL_VIEW, nextPoolView, poolViewText } from "./pool-view.ts"
import { fakeCondorTool } from "./test-support.ts"

const CLAIMED = resolve(import.meta.dir, "testdata/condor-status-claimed.txt")

afterEach(cleanUp)

function fakeCondorStatus(mode: string) {
  return fakeCondorTool("condor_status", mode, CLAIMED)
}

describe("condorStatusArgv()", () => {
  test("condorStatusArgv() asks for the glideins' startd ads, one tab-separated column each", () => {
    const argv = condorStatusArgv()
    expect(argv.slice(0, 3)).toEqual(["-constraint", "IS_GLIDEIN =?= True", "-af:tV"])
    expect(argv).toContain("GLIDEIN_TarballDigest")
    expect(condorStatusArgv("cm.example.org:9618").slice(0, 3)).toEqual([
      "-pool",
      "cm.example.org:9618",
      "-constraint",
    ])
  })
})

describe("runCondorStatus()", () => {
  test("runCondorStatus() passes each argument through untouched and parses the answer", async () => {
    const { program, dir } = fakeCondorStatus("print")
    const argv = condorStatusArgv()
    const ads = await runCondorStatus({ program, argv, timeoutMs: 10_000 })
    expect(ads.slots).toHaveLength(4)
    expect(readFileSync(join(dir, "argv.log"), "utf8").split("\n").slice(0, -1)).toEqual(argv)
  })

  for (const [mode, message] of [
    ["fail", "condor_status exited with status 1: -- Failed to fetch ads from"],
    ["partial", "condor_status exited with status 2"],
    ["killed", "condor_status was killed by SIGKILL"],
    ["garbage", "condor_status printed 4 lines and none parsed (first at line 1:"],
  ] as const) {
    test(`runCondorStatus() fails in mode ${mode}, and the view keeps the last good glideins`, async () => {
      const good = await runCondorStatus({
        ...fakeCondorStatus("print"),
        argv: [],
        timeoutMs: 10_000,
      })
      const view = nextPoolView(EMPTY_POOL_VIEW, good, 1_000)
      const run = runCondorStatus({ ...fakeCondorStatus(mode), argv: [], timeoutMs: 10_000 })
      await expect(run).rejects.toThrow(CondorStatusError)
      const error = await run.catch((e: Error) => e)
      expect((error as Error).message).toContain(message)
      const kept = nextPoolView(view, error as Error, 61_000)
      expect(kept.slots).toBe(good.slots)
      expect(kept.updated).toBe(1_000)
      expect(kept.errorAt).toBe(61_000)
      expect(poolViewText(kept, 61_000)).toBe(
        `condor_status failed: ${(error as Error).message}; keeping the 4 glidein slots seen 60 s ago`,
      )
    })
  }

  test("runCondorStatus() kills a condor_status that hangs and says so", async () => {
    const run = runCondorStatus({ ...fakeCondorStatus("hang"), argv: [], timeoutMs: 300 })
    await expect(run).rejects.toThrow("condor_status did not finish within 0.3 s and was killed")
    const view = nextPoolView(EMPTY_POOL_VIEW, await run.catch((e: Error) => e), 5)
    expect(view.slots).toBeNull()
    expect(poolViewText(view, 5)).toEndWith("; no glideins seen yet")
  })

  test("runCondorStatus() counts a last line cut off without its newline, and fails when condor_status died mid-output", async () => {
    // exits 0 after half a line: the last line counts as bad, the rest parses
    const ads = await runCondorStatus({
      ...fakeCondorStatus("truncated"),
      argv: [],
      timeoutMs: 10_000,
    })
    expect(ads.firstBad?.reason).toBe("line ends without a newline (output cut short)")
    await expect(
      runCondorStatus({ ...fakeCondorStatus("cut"), argv: [], timeoutMs: 10_000 }),
    ).rejects.toThrow("condor_status was killed by SIGKILL")
  })

  test("a good poll after a failed one clears the error", () => {
    const failed = nextPoolView(EMPTY_POOL_VIEW, new Error("boom"), 1)
    const good = nextPoolView(failed, { slots: [], badLines: 0 }, 2)
    expect(good).toEqual({ slots: [], badLines: 0, updated: 2, error: null, errorAt: null })
    expect(poolViewText(good, 2)).toBe("0 glidein slots seen 0 s ago")
  })
})
