import { afterEach, describe, expect, test } from "bun:test"
import { readFileSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { cleanUp } from "../test-support.ts"
import {
  CondorHistoryError,
  condorHistoryArgv,
  historySource,
  runCondorHistory,
} from "./condor-history-run.ts"
import { fakeCondorTool } from "./test-support.ts"

const COMPLETED = resolve(import.meta.dir, "testdata/condor-history-completed.txt")
/** A little after the jobs in COMPLETED completed (epoch ms). */
const NOW = 1_796_675_600_000

afterEach(cleanUp)

function fakeCondorHistory(mode: string) {
  return fakeCondorTool("condor_history", mode, COMPLETED)
}

const argvOf = (dir: string) => readFileSync(join(dir, "argv.log"), "utf8").split("\n").slice(0, -1)

describe("condorHistoryArgv()", () => {
  test("condorHistoryArgv() asks for the jobs completed after a time, bounded, one tab-separated column each", () => {
    const argv = condorHistoryArgv(1796675000.7, 500)
    expect(argv.slice(0, 7)).toEqual([
      "-completedsince",
      "1796675000",
      "-scanlimit",
      "501",
      "-limit",
      "501",
      "-af:tV",
    ])
    expect(argv).toContain("LastRemoteHost")
    expect(argv).toContain("MachineAttrGLIDEIN_Client0")
  })
})

describe("runCondorHistory()", () => {
  test("runCondorHistory() passes each argument through untouched and parses the answer", async () => {
    const { program, dir } = fakeCondorHistory("print")
    const argv = condorHistoryArgv(0)
    const answer = await runCondorHistory({ program, argv, timeoutMs: 10_000 })
    expect(answer.jobs).toHaveLength(6)
    expect(argvOf(dir)).toEqual(argv)
  })

  for (const [mode, message] of [
    ["fail", "condor_history exited with status 1: -- Failed to fetch ads from"],
    ["partial", "condor_history exited with status 2"],
    ["killed", "condor_history was killed by SIGKILL"],
    ["cut", "condor_history was killed by SIGKILL"],
    ["garbage", "condor_history printed 4 lines and none parsed (first at line 1:"],
  ] as const) {
    test(`runCondorHistory() fails in mode ${mode}`, async () => {
      const run = runCondorHistory({ ...fakeCondorHistory(mode), argv: [], timeoutMs: 10_000 })
      await expect(run).rejects.toThrow(CondorHistoryError)
      await expect(run).rejects.toThrow(message)
    })
  }

  test("runCondorHistory() fails an answer with more jobs than asked for, and kills one that hangs", async () => {
    await expect(
      runCondorHistory({ ...fakeCondorHistory("print"), argv: [], timeoutMs: 10_000, maxJobs: 5 }),
    ).rejects.toThrow("condor_history printed more than 5 jobs; the rest were not read")
    await expect(
      runCondorHistory({ ...fakeCondorHistory("hang"), argv: [], timeoutMs: 300 }),
    ).rejects.toThrow("condor_history did not finish within 0.3 s and was killed")
  })
})

describe("historySource()", () => {
  test("historySource() reads from where the last good read left off, hands each completed job on once, and moves nothing after a failure", async () => {
    const { program, dir } = fakeCondorHistory("DIR/mode")
    let t = NOW
    const read = historySource(program, 10_000, { now: () => t })
    const signal = new AbortController().signal
    const since = () => argvOf(dir)[1]
    writeFileSync(join(dir, "mode"), "print")
    // the first read reaches back an hour; removed jobs are not handed on
    const first = await read(signal)
    expect(since()).toBe(String(NOW / 1000 - 3600))
    expect(first.jobs.map((j) => j.id).sort()).toEqual(["1.0", "1.1", "2.0", "3.0", "4.0"])
    // a minute on: from five minutes before the last read, the same jobs shown again
    t += 60_000
    expect((await read(signal)).jobs).toEqual([])
    expect(since()).toBe(String(NOW / 1000 - 300))
    // a failed read changes nothing: the next one starts where this one would have
    writeFileSync(join(dir, "mode"), "fail")
    t += 60_000
    await expect(read(signal)).rejects.toThrow(CondorHistoryError)
    writeFileSync(join(dir, "mode"), "print")
    t += 60_000
    expect((await read(signal)).jobs).toEqual([])
    expect(since()).toBe(String(NOW / 1000 + 60 - 300))
    // after a long outage: an hour back at most
    t += 5 * 3_600_000
    await read(signal)
    expect(since()).toBe(String(t / 1000 - 3600))
  })
})
