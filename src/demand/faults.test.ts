/**
 * condor_q misbehaving in every way a schedd, a pipe or a pool's users can make it: each
 * failure fails the poll (nothing partial is published), says why in one bounded line, and
 * leaves the poller serving the last good table.
 */
import { afterEach, describe, expect, test } from "bun:test"
import { chmodSync, readFileSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { cleanUp, stoppedRunning, tempDir } from "../test-support.ts"
import { CondorQParser } from "./condor-q-parse.ts"
import { condorQArgv, runCondorQ } from "./condor-q-run.ts"
import { DemandPoller } from "./demand-poller.ts"

const FAKE = resolve(import.meta.dir, "testdata/fake-condor-q.sh")
const RULES = resolve(import.meta.dir, "testdata/condor-q-rules.txt")
/** What the rule fixture parses to when printed whole (condor-q-parse.test.ts checks why). */
const RULES_JOBS = 11
const RULES_BAD = 12

afterEach(cleanUp)

/** A `condor_q` that runs the fake in the mode written to DIR/mode at each run. */
function switchableCondorQ(file = RULES) {
  const dir = tempDir("glidein-faults-")
  const program = join(dir, "condor_q")
  writeFileSync(program, `#!/bin/sh\nexec "${FAKE}" DIR/mode "${dir}" "${file}" -- "$@"\n`)
  chmodSync(program, 0o755)
  return {
    program,
    dir,
    mode: (mode: string) => writeFileSync(join(dir, "mode"), mode),
  }
}

function run(program: string, timeoutMs = 10_000) {
  return runCondorQ({ program, argv: condorQArgv(), timeoutMs })
}

describe("runCondorQ() when condor_q misbehaves", () => {
  test("fails when condor_q dies in the middle of a line, publishing nothing", async () => {
    const q = switchableCondorQ()
    q.mode("cut")
    await expect(run(q.program)).rejects.toThrow("condor_q was killed by SIGKILL")
  })

  test("counts a half line at the end of a successful run as a bad line, not as a job", async () => {
    const q = switchableCondorQ()
    q.mode("truncated")
    const result = await run(q.program)
    expect(result.jobs).toBe(RULES_JOBS)
    expect(result.badLines).toBe(RULES_BAD + 1)
  })

  test("kills a condor_q that closed its output but never exits", async () => {
    const q = switchableCondorQ()
    q.mode("mute-hang")
    await expect(run(q.program, 300)).rejects.toThrow(
      "condor_q did not finish within 0.3 s and was killed",
    )
  })

  test("kills the children of a hung condor_q wrapper with it", async () => {
    const q = switchableCondorQ()
    q.mode("hang-child")
    await expect(run(q.program, 300)).rejects.toThrow("did not finish within 0.3 s")
    const child = Number(readFileSync(join(q.dir, "child.pid"), "utf8"))
    expect(await stoppedRunning(child)).toBe(true)
  })

  test("keeps one short line of an 8 MB flood of errors", async () => {
    const q = switchableCondorQ()
    q.mode("stderr-flood")
    const error = await run(q.program).then(
      () => new Error("succeeded"),
      (e: Error) => e,
    )
    expect(error.message).toStartWith(`condor_q exited with status 1: ${"0".repeat(100)}`)
    expect(error.message.length).toBeLessThan(400)
    expect(error.message).not.toContain("\n")
  })

  test("counts binary noise, NULs and invalid UTF-8 as bad lines and keeps every good line", async () => {
    const q = switchableCondorQ()
    q.mode("noise")
    const result = await run(q.program)
    const lines = readFileSync(RULES, "utf8").split("\n").length - 1
    expect(result.jobs).toBe(RULES_JOBS)
    expect(result.badLines).toBe(RULES_BAD + lines)
  })
})

describe("CondorQParser with hostile job ads", () => {
  // Requirements come from the pool's users: a line condor_q prints may be as odd as they like.
  test("reads pathological Requirements (1 MB of OS tests, nesting 200,000 deep) in one pass", () => {
    const many = Array.from({ length: 30_000 }, () => '(TARGET.OpSysAndVer == "SL6")').join(" && ")
    const deep = `${"(".repeat(200_000)}TARGET.OpSysAndVer == "SL7"${")".repeat(200_000)}`
    const parser = new CondorQParser()
    for (const requirements of [many, deep, many]) {
      parser.push(new TextEncoder().encode(`1, 2000, 1000, 0, ${requirements}\n`))
    }
    const result = parser.finish()
    expect(result.badLines).toBe(0)
    expect(result.rows.map((r) => [r.os, r.count])).toEqual([
      ["sl6", 2],
      ["sl7", 1],
    ])
  }, 30_000)

  test("remembers lines as copies, so no chunk of the output stays alive through its memo", () => {
    // One new line per 64 kB chunk, the rest repeats: slices of each chunk's text kept every
    // chunk the memo had a line from (4,000 here: 270 MB) alive.
    const parser = new CondorQParser()
    const filler = '1, 2000, 1000, 0, (TARGET.Arch == "X86_64")\n'.repeat(1500)
    Bun.gc(true)
    const before = process.memoryUsage().heapUsed
    const site = `(TARGET.Site == "${"x".repeat(300)}")`
    for (let i = 0; i < 4000; i++) {
      parser.push(
        Buffer.from(`2, 4000, 1000, 0, ${site} && (TARGET.Machine == "node${i}")\n${filler}`),
      )
    }
    Bun.gc(true)
    const grown = process.memoryUsage().heapUsed - before
    expect(parser.finish().jobs).toBe(4000 * 1501)
    expect(grown).toBeLessThan(64 * 1024 * 1024)
  }, 30_000)
})

describe("DemandPoller over a misbehaving condor_q", () => {
  test("serves the last good table through every failure, saying why, until a good poll", async () => {
    const q = switchableCondorQ()
    const logged: string[] = []
    const poller = new DemandPoller({
      source: (signal) =>
        runCondorQ({ program: q.program, argv: condorQArgv(), timeoutMs: 500, signal }),
      sourceName: "condor_q",
      delayMs: 300_000,
      log: (line) => logged.push(line),
    })
    q.mode("print")
    await poller.poll()
    const good = poller.snapshot()
    expect(good.jobs).toBe(RULES_JOBS)
    const failures: [string, string][] = [
      ["hang", "condor_q did not finish within 0.5 s and was killed"],
      ["cut", "condor_q was killed by SIGKILL"],
      ["garbage", "condor_q printed 4 lines and none parsed"],
      ["stderr-flood", "condor_q exited with status 1: 0000"],
      ["mute-hang", "condor_q did not finish within 0.5 s and was killed"],
      ["fail", "condor_q exited with status 1: -- Failed to fetch ads"],
      ["partial", "condor_q exited with status 2"],
    ]
    for (const [mode, why] of failures) {
      q.mode(mode)
      await poller.poll()
      const now = poller.snapshot()
      expect(now.error).toStartWith(why)
      expect(now.rows).toBe(good.rows)
      expect(now.rowsJson).toBe(good.rowsJson)
      expect(now.updated).toBe(good.updated)
      expect(logged.at(-1)).toStartWith(`demand: poll failed: ${why}`)
      expect(logged.at(-1)).toEndWith("s ago")
    }
    q.mode("truncated")
    await poller.poll()
    expect(poller.snapshot().error).toBeNull()
    expect(poller.snapshot().badLines).toBe(RULES_BAD + 1)
    await poller.stop()
  }, 30_000)
})
