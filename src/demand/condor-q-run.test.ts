import { afterEach, describe, expect, test } from "bun:test"
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { cleanUp, stoppedRunning, tempDir } from "../test-support.ts"
import {
  CondorQError,
  checkConstraint,
  checkUser,
  condorQArgv,
  constraintNote,
  runCondorQ,
} from "./condor-q-run.ts"

const FAKE = resolve(import.meta.dir, "testdata/fake-condor-q.sh")
const RULES = resolve(import.meta.dir, "testdata/condor-q-rules.txt")
/** Directories of fake condor_q runs, whose orphaned child (if any) wrote child.pid. */
const fakes: string[] = []

afterEach(() => {
  for (const dir of fakes.splice(0)) {
    const pidFile = join(dir, "child.pid")
    if (existsSync(pidFile)) {
      try {
        process.kill(Number(readFileSync(pidFile, "utf8")), "SIGKILL")
      } catch {
        // already gone
      }
    }
  }
  cleanUp()
})

/** A `condor_q` in a fresh directory that runs the fake in `mode`. */
function fakeCondorQ(mode: string, file = RULES): { program: string; dir: string } {
  const dir = tempDir("glidein-condor-q-")
  fakes.push(dir)
  const program = join(dir, "condor_q")
  writeFileSync(program, `#!/bin/sh\nexec "${FAKE}" ${mode} "${dir}" "${file}" -- "$@"\n`)
  chmodSync(program, 0o755)
  return { program, dir }
}

function argvSeen(dir: string): string[] {
  return readFileSync(join(dir, "argv.log"), "utf8").split("\n").slice(0, -1)
}

describe("condorQArgv()", () => {
  test("asks every schedd for every user's idle jobs with the five columns", () => {
    expect(condorQArgv()).toEqual([
      "-global",
      "-allusers",
      "-af:,",
      "RequestCpus",
      "RequestMemory",
      "RequestDisk",
      "RequestGpus",
      "Requirements",
      "-constraint",
      "JobStatus == 1",
    ])
  })

  test("adds a constraint as one argument and a user in place of -allusers", () => {
    const argv = condorQArgv({ constraint: 'RequestGPUs > 0 && Owner == "bob"', user: "alice" })
    expect(argv).not.toContain("-allusers")
    expect(argv.slice(-3)).toEqual(["-constraint", 'RequestGPUs > 0 && Owner == "bob"', "alice"])
  })
})

describe("checkUser() and checkConstraint()", () => {
  test("accept user names and refuse what condor_q could read as an option", () => {
    expect(checkUser("alice")).toBeUndefined()
    expect(checkUser("ice.prod@icecube.wisc.edu")).toBeUndefined()
    expect(checkUser("-help")).toContain('not starting with "-"')
    expect(checkUser("a b")).toBeDefined()
    expect(checkUser("")).toBeDefined()
  })

  test("accept one-line expressions and refuse empty or multi-line ones", () => {
    expect(checkConstraint("RequestGPUs > 0")).toBeUndefined()
    expect(checkConstraint(" ")).toContain("empty")
    expect(checkConstraint("a\nb")).toContain("control characters")
  })
})

describe("constraintNote()", () => {
  test("names a constraint that is one quoted string, as the Pegasus guide's quoting leaves it", () => {
    expect(constraintNote("'WantPSCBridges == True'")).toBe(
      `the constraint "'WantPSCBridges == True'" is one quoted string, not an expression, and matches no job: the quotes reached condor_q (did you mean "WantPSCBridges == True"?)`,
    )
    expect(constraintNote(' "RequestGPUs > 0" ')).toContain('(did you mean "RequestGPUs > 0"?)')
    expect(constraintNote("''")).toContain("matches no job")
  })

  test("says nothing of expressions that merely contain quotes", () => {
    for (const ok of [
      "WantPSCBridges == True",
      'Owner == "bob"',
      '"a" == "b"',
      "'a' == 'b'",
      '"x" && "y"',
    ]) {
      expect(constraintNote(ok)).toBeUndefined()
    }
  })
})

describe("runCondorQ()", () => {
  test("serves what a quoted-string constraint selects, with a note saying why it is likely empty", async () => {
    const { program, dir } = fakeCondorQ("print")
    const argv = condorQArgv({ constraint: "'WantPSCBridges == True'" })
    const result = await runCondorQ({ program, argv, timeoutMs: 10_000 })
    expect(argvSeen(dir)).toEqual(argv)
    expect(result.jobs).toBe(11)
    expect(result.note).toContain("is one quoted string, not an expression")
    const plain = await runCondorQ({ program, argv: condorQArgv(), timeoutMs: 10_000 })
    expect(plain.note).toBeUndefined()
  })

  test("stops reading when condor_q exits 0 though a child it left holds its output, and kills the child", async () => {
    const { program, dir } = fakeCondorQ("exit-child")
    // A timeout far above the grace after exit: reaching it fails the test.
    const result = await runCondorQ({ program, argv: [], timeoutMs: 30_000 })
    expect(result.jobs).toBe(11)
    expect(result.badLines).toBe(12)
    const child = Number(readFileSync(join(dir, "child.pid"), "utf8"))
    expect(await stoppedRunning(child)).toBe(true)
  })

  test("parses what condor_q prints and passes each argument through untouched (no shell)", async () => {
    const { program, dir } = fakeCondorQ("print")
    const argv = condorQArgv({ constraint: "RequestGPUs > 0", user: "alice" })
    const result = await runCondorQ({ program, argv, timeoutMs: 10_000 })
    expect(result.jobs).toBe(11)
    expect(result.badLines).toBe(12)
    expect(argvSeen(dir)).toEqual(argv)
    // pyglidein's shell line turned "> 0" into a redirection and left a file named 0 behind.
    expect(readdirSync(dir).sort()).toEqual(["argv.log", "condor_q"])
  })

  test("fails with condor_q's own message when it exits non-zero", async () => {
    const { program } = fakeCondorQ("fail")
    const run = runCondorQ({ program, argv: condorQArgv(), timeoutMs: 10_000 })
    await expect(run).rejects.toThrow(CondorQError)
    await expect(run).rejects.toThrow(
      "condor_q exited with status 1: -- Failed to fetch ads from: <192.0.2.7:9618?addrs=192.0.2.7-9618> : schedd.example.org",
    )
  })

  test("fails, not returns part of a table, when condor_q prints and then exits non-zero", async () => {
    const { program } = fakeCondorQ("partial")
    await expect(runCondorQ({ program, argv: [], timeoutMs: 10_000 })).rejects.toThrow(
      "condor_q exited with status 2",
    )
  })

  test("fails when condor_q is killed by a signal", async () => {
    const { program } = fakeCondorQ("killed")
    await expect(runCondorQ({ program, argv: [], timeoutMs: 10_000 })).rejects.toThrow(
      "condor_q was killed by SIGKILL",
    )
  })

  test("kills a condor_q that hangs and says so", async () => {
    const { program } = fakeCondorQ("hang")
    await expect(runCondorQ({ program, argv: [], timeoutMs: 300 })).rejects.toThrow(
      "condor_q did not finish within 0.3 s and was killed",
    )
  })

  test("gives up on a hung condor_q whose child still holds its output open", async () => {
    const { program } = fakeCondorQ("hang-child")
    await expect(runCondorQ({ program, argv: [], timeoutMs: 300 })).rejects.toThrow(
      "did not finish within 0.3 s",
    )
  })

  test("fails when nothing condor_q printed parses, instead of publishing an empty table", async () => {
    const { program } = fakeCondorQ("garbage")
    await expect(runCondorQ({ program, argv: [], timeoutMs: 10_000 })).rejects.toThrow(
      'condor_q printed 4 lines and none parsed (first at line 1: RequestCpus: expected a number or undefined: "-- Schedd: schedd.example.org : <192.0.2.7:9618?...")',
    )
  })

  test("returns an empty table when condor_q succeeds with no idle jobs", async () => {
    const dir = tempDir("glidein-condor-q-")
    writeFileSync(join(dir, "empty.txt"), "")
    const { program } = fakeCondorQ("print", join(dir, "empty.txt"))
    const result = await runCondorQ({ program, argv: [], timeoutMs: 10_000 })
    expect(result).toEqual({ rows: [], jobs: 0, badLines: 0 })
  })

  test("names a missing or unrunnable condor_q", async () => {
    await expect(
      runCondorQ({ program: "/nonexistent/condor_q", argv: [], timeoutMs: 1000 }),
    ).rejects.toThrow('condor_q not found: "/nonexistent/condor_q"')
    await expect(runCondorQ({ program: RULES, argv: [], timeoutMs: 1000 })).rejects.toThrow(
      `condor_q is not executable: "${RULES}"`,
    )
  })

  test("stops condor_q when the signal aborts", async () => {
    const { program } = fakeCondorQ("hang")
    const abort = new AbortController()
    const run = runCondorQ({ program, argv: [], timeoutMs: 60_000, signal: abort.signal })
    setTimeout(() => abort.abort(), 100)
    await expect(run).rejects.toThrow("condor_q was stopped: shutting down")
  })
})
