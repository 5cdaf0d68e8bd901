import { describe, expect, test } from "bun:test"
import { runGlidein } from "../test-support.ts"
import { COMMANDS, commandLineMeant, suggestCommand } from "./index.ts"

describe("COMMANDS", () => {
  test("each command's --help opens with the summary glidein --help lists for it", () => {
    const top = runGlidein(["--help"]).stdout
    for (const { name, summary } of COMMANDS) {
      expect(top).toMatch(new RegExp(`^  ${name}\\s+${RegExp.escape(summary)}$`, "m"))
      const own = runGlidein([...name.split(" "), "--help"])
      expect(own.code).toBe(0)
      expect(own.stdout.split("\n")[0]).toBe(`glidein ${name} — ${summary}`)
    }
  })
})

describe("suggestCommand()", () => {
  test("suggestCommand() finds a mistyped command or subcommand", () => {
    expect(suggestCommand("sumbit")).toBe("submit")
    expect(suggestCommand("stauts")).toBe("status")
    expect(suggestCommand("tarbal")).toBe("tarball")
    expect(suggestCommand("hlep")).toBe("help")
    expect(suggestCommand("biuld", "tarball")).toBe("build")
    expect(suggestCommand("inspcet", "tarball")).toBe("inspect")
  })

  test("suggestCommand() suggests nothing for an unrelated word", () => {
    expect(suggestCommand("frobnicate")).toBeUndefined()
    expect(suggestCommand("submit", "tarball")).toBeUndefined()
  })
})

describe("commandLineMeant()", () => {
  test("commandLineMeant() turns pyglidein_client's options into glidein submit", () => {
    expect(commandLineMeant(["--config=site.ini", "--secrets=secrets"])).toBe(
      "glidein submit --config site.ini --secrets secrets",
    )
    expect(commandLineMeant(["--config", "my site.ini", "-n"])).toBe(
      "glidein submit --config 'my site.ini' -n",
    )
  })

  test("commandLineMeant() moves a command typed after its options to the front", () => {
    expect(commandLineMeant(["--debug", "cancel", "--config", "a.ini"])).toBe(
      "glidein cancel --debug --config a.ini",
    )
    expect(commandLineMeant(["--debug", "tarball", "inspect", "g.tar.gz"])).toBe(
      "glidein tarball inspect --debug g.tar.gz",
    )
  })

  test("commandLineMeant() is undefined when nothing points to a command", () => {
    expect(commandLineMeant(["--frob", "x"])).toBeUndefined()
  })
})
