import { describe, expect, test } from "bun:test"
import path from "node:path"

const main = path.join(import.meta.dir, "main.ts")

/** Runs `bun src/main.ts ...argv` with an empty environment, as cron would. */
function glidein(...argv: string[]) {
  const result = Bun.spawnSync([process.execPath, main, ...argv], { env: {} })
  return {
    code: result.exitCode,
    stdout: result.stdout.toString(),
    stderr: result.stderr.toString(),
  }
}

describe("glidein (entry point)", () => {
  test("--version prints the version and exits 0", () => {
    const r = glidein("--version")
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^glidein \d+\.\d+\.\d+/)
  })

  test("--help lists the commands and exits 0", () => {
    const r = glidein("--help")
    expect(r.code).toBe(0)
    expect(r.stdout).toContain("Usage: glidein <command> [options]")
  })

  test("no arguments prints help on stderr and exits 2", () => {
    const r = glidein()
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("Usage: glidein <command>")
  })

  test("an unknown command is one line and exit 2", () => {
    const r = glidein("frobnicate")
    expect(r.code).toBe(2)
    expect(r.stderr).toBe('glidein: unknown command "frobnicate" (see glidein --help)\n')
  })
})
