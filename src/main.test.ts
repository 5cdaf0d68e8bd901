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

  test("a mistyped command, subcommand or option gets a did-you-mean, exit 2", () => {
    expect(glidein("sumbit", "--config", "site.ini")).toMatchObject({
      code: 2,
      stderr: 'glidein: unknown command "sumbit"; did you mean "submit"?\n',
    })
    const sub = glidein("tarball", "biuld")
    expect(sub.code).toBe(2)
    expect(sub.stderr).toEndWith(
      'glidein tarball: unknown subcommand "biuld"; did you mean "build"?\n',
    )
    expect(glidein("submit", "--cofig", "site.ini")).toMatchObject({
      code: 2,
      stderr: 'glidein submit: unknown option "--cofig"; did you mean --config?\n',
    })
  })

  test("pyglidein_client's --config=X --secrets=Y without a command points to glidein submit", () => {
    expect(glidein("--config=site.ini", "--secrets=secrets")).toMatchObject({
      code: 2,
      stderr:
        'glidein: options come after a command; did you mean "glidein submit --config site.ini --secrets secrets"?\n',
    })
    expect(glidein("--frob")).toMatchObject({
      code: 2,
      stderr:
        'glidein: unknown option "--frob"; options come after a command (see glidein --help)\n',
    })
  })

  test("help COMMAND shows the command's own --help, exit 0", () => {
    const r = glidein("help", "submit")
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(glidein("submit", "--help").stdout)
    expect(r.stdout).toStartWith("glidein submit — ")
    expect(glidein("help", "tarball", "inspect").stdout).toStartWith("glidein tarball inspect — ")
    expect(glidein("help", "tarball")).toMatchObject({ code: 0, stderr: "" })
    expect(glidein("help", "sumbit").stderr).toBe(
      'glidein: unknown command "sumbit"; did you mean "submit"?\n',
    )
  })
})
