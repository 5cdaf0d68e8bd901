import { describe, expect, test } from "bun:test"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { expandVars, outputTail, runCommand, shellArgv, shellQuote } from "./run-command.ts"

describe("runCommand()", () => {
  test("runCommand() captures stdout, stderr and the exit code", async () => {
    const result = await runCommand(shellArgv("echo out; echo err >&2; exit 3"), {
      timeoutMs: 5000,
    })
    expect(result).toEqual({ exitCode: 3, stdout: "out\n", stderr: "err\n", timedOut: false })
  })

  test("runCommand() feeds a file on stdin and runs in cwd", async () => {
    const dir = mkdtempSync(join(tmpdir(), "glidein-run-"))
    try {
      writeFileSync(join(dir, "in.txt"), "hello\n")
      const result = await runCommand(["/bin/sh", "-c", "cat; pwd"], {
        cwd: dir,
        timeoutMs: 5000,
        stdinFile: join(dir, "in.txt"),
      })
      expect(result.stdout).toBe(`hello\n${dir}\n`)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  // Had the pipeline outlived the kill, this would wait for `sleep 600` and the test runner's
  // 20 s limit would fail it; no wall time is asserted.
  test("runCommand() kills a whole pipeline that outlives its timeout", async () => {
    const result = await runCommand(shellArgv("sleep 600 | cat"), { timeoutMs: 200 })
    expect(result.timedOut).toBe(true)
    expect(result.exitCode).toBeNull()
  }, 20_000)
})

describe("expandVars()", () => {
  test("expandVars() expands known bare and braced names and leaves unknown ones as written", () => {
    const env = { USER: "ice", HOME: "/home/ice" }
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax under test
    expect(expandVars("squeue -u $USER -h '${HOME}' $NOPE ${NOPE}", env)).toBe(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax under test
      "squeue -u ice -h '/home/ice' $NOPE ${NOPE}",
    )
  })
})

describe("shellQuote()", () => {
  test("shellQuote() leaves plain words alone and single-quotes the rest", () => {
    expect(shellQuote("submit.slurm")).toBe("submit.slurm")
    expect(shellQuote("a b'c")).toBe(`'a b'\\''c'`)
  })

  test("shellQuote() quotes as the job scripts do, refusing a NUL the shell would cut at", () => {
    expect(() => shellQuote("glidein\0.slurm")).toThrow("NUL")
  })
})

describe("outputTail()", () => {
  test("outputTail() joins the output into one short line, preferring stderr", () => {
    expect(
      outputTail({
        exitCode: 1,
        stdout: "x",
        stderr: "sbatch: error: bad\nsecond\n",
        timedOut: false,
      }),
    ).toBe("sbatch: error: bad | second")
    expect(outputTail({ exitCode: 1, stdout: "only out\n", stderr: "", timedOut: false })).toBe(
      "only out",
    )
  })
})
