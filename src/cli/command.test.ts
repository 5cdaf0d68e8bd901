import { describe, expect, test } from "bun:test"
import { UsageError } from "../errors.ts"
import { type Command, commandHelp, parseCommandArgs } from "./command.ts"

const example: Command = {
  name: "example run",
  usage: "--config FILE [--port N] ITEM",
  options: {
    config: { type: "string", value: "FILE", description: "the config file" },
    port: { type: "string", short: "p", value: "N", description: "a port" },
    "no-daemon": { type: "boolean", short: "n", description: "ignored", ignored: true },
  },
  positionals: { names: ["ITEM"], min: 1 },
  run: async () => 0,
}

function usageMessage(argv: string[]): string {
  try {
    parseCommandArgs(example, argv)
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError)
    return (error as UsageError).message
  }
  throw new Error("expected a UsageError")
}

describe("parseCommandArgs()", () => {
  test("returns typed values and positionals", () => {
    const args = parseCommandArgs(example, ["--config", "a.ini", "-p", "8080", "-n", "x"])
    expect(args.requireString("config")).toBe("a.ini")
    expect(args.string("port")).toBe("8080")
    expect(args.flag("no-daemon")).toBe(true)
    expect(args.positionals).toEqual(["x"])
  })

  test("answers an unknown flag with one line naming it", () => {
    expect(usageMessage(["--bogus", "x"])).toBe(
      'glidein example run: unknown option "--bogus" (see --help)',
    )
  })

  test("suggests the option a mistyped one most likely meant", () => {
    expect(usageMessage(["--cofig", "a.ini", "x"])).toBe(
      'glidein example run: unknown option "--cofig"; did you mean --config?',
    )
    expect(usageMessage(["--prot=80", "x"])).toBe(
      'glidein example run: unknown option "--prot"; did you mean --port?',
    )
    expect(usageMessage(["--no-deamon", "x"])).toBe(
      'glidein example run: unknown option "--no-deamon"; did you mean --no-daemon?',
    )
  })

  test("names a flag given without its value", () => {
    expect(usageMessage(["x", "--config"])).toBe(
      'glidein example run: option "--config <value>" needs a value',
    )
  })

  test("names a missing positional and refuses extra ones", () => {
    expect(usageMessage([])).toBe("glidein example run: missing ITEM")
    expect(usageMessage(["a", "b"])).toBe('glidein example run: unexpected argument "b"')
  })

  test("lets --help through without checking positionals", () => {
    expect(parseCommandArgs(example, ["--help"]).flag("help")).toBe(true)
  })
})

describe("Args", () => {
  test("requireString() names the missing flag with its placeholder", () => {
    const args = parseCommandArgs(example, ["x"])
    expect(() => args.requireString("config")).toThrow("glidein example run: missing --config FILE")
  })
})

describe("commandHelp()", () => {
  test("lists every visible option and hides ignored ones", () => {
    const help = commandHelp(example, "an example command")
    expect(help).toStartWith("glidein example run — an example command\n")
    expect(help).toContain("Usage: glidein example run --config FILE [--port N] ITEM")
    expect(help).toContain("--config FILE")
    expect(help).toContain("-p, --port N")
    expect(help).toContain("-h, --help")
    expect(help).not.toContain("no-daemon")
  })
})
