import { describe, expect, test } from "bun:test"
import { commandHelp, usageLine } from "./help.ts"
import { example } from "./test-command.ts"

describe("usageLine()", () => {
  test("puts positionals first, then required options, then the optional ones in brackets", () => {
    expect(usageLine(example)).toBe("ITEM --config FILE [-p|--port N] [--user NAME] [--dry-run]")
  })

  test("shows a group of options as one choice, where its first option is declared", () => {
    const choice = (atLeastOne?: true) => ({
      ...example,
      groups: [{ options: ["user", "port"], ...(atLeastOne ? { atLeastOne } : {}) }],
    })
    expect(usageLine(choice(true))).toBe(
      "ITEM --config FILE (--user NAME | -p|--port N) [--dry-run]",
    )
    expect(usageLine(choice())).toBe("ITEM --config FILE [--user NAME | -p|--port N] [--dry-run]")
  })
})

describe("commandHelp()", () => {
  test("lists every visible option with its default and hides ignored ones", () => {
    const help = commandHelp(example, "an example command")
    expect(help).toStartWith("glidein example run — an example command\n")
    expect(help).toContain(`Usage: glidein example run ${usageLine(example)}\n`)
    expect(help).toContain("    --config FILE")
    expect(help).toMatch(/ {2}-p, --port N +a port \(default 11001\)\n/)
    expect(help).toMatch(/--dry-run +do nothing\n/)
    expect(help).toContain("-h, --help")
    expect(help).not.toContain("no-daemon")
  })

  test("lists the config file's keys where the command reads one", () => {
    const withFile = { ...example, configFile: { option: "config", section: "server" } }
    expect(commandHelp(withFile, "x")).toContain(
      "--config FILE may set the options of these keys (the command line wins):\n  [server] port\n",
    )
    expect(commandHelp(example, "x")).not.toContain("[server]")
  })
})
