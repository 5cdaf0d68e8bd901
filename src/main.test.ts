import { describe, expect, test } from "bun:test"
import { runGlidein } from "./test-support.ts"

const glidein = (...argv: string[]) => runGlidein(argv)

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
