import { describe, expect, test } from "bun:test"
import { ConfigError, UsageError } from "../errors.ts"
import { type Args, type Command, optionValues, parseCommandArgs } from "./command.ts"
import { example } from "./test-command.ts"

function parsed(argv: string[]): Args {
  const args = parseCommandArgs(example, argv)
  if (args === "help") throw new Error("expected arguments, got help")
  return args
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
  test("returns checked values in camelCase, with defaults, and the positionals", () => {
    const args = parsed(["--config", "a.ini", "-p", "8080", "-n", "--dry-run", "x"])
    expect(args.values).toEqual({
      config: "a.ini",
      port: 8080,
      dryRun: true,
      noDaemon: true,
      help: false,
      debug: false,
    })
    expect(args.given).toMatchObject({ config: "a.ini", port: "8080", "dry-run": true })
    expect(args.positionals).toEqual(["x"])
    expect(parsed(["--config", "a.ini", "x"]).values).toMatchObject({ port: 11001, dryRun: false })
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

  test("names a missing required option with its placeholder", () => {
    expect(usageMessage(["x"])).toBe("glidein example run: missing --config FILE")
  })

  test("refuses a value its schema refuses, naming the flag and the value as typed", () => {
    expect(usageMessage(["x", "--config", "a", "-p", "http"])).toBe(
      'glidein example run: --port expects a port number from 0 to 65535, got "http"',
    )
    expect(usageMessage(["x", "--config", " "])).toBe(
      'glidein example run: --config expects a file name, got " "',
    )
    // A check's own sentence stands as it is.
    expect(usageMessage(["x", "--config", "a", "--user=-x"])).toBe(
      'glidein example run: --user "-x" starts with "-"',
    )
  })

  test("lets --help through without checking positionals or values", () => {
    expect(parseCommandArgs(example, ["--help"])).toBe("help")
    expect(parseCommandArgs(example, ["-p", "http", "-h"])).toBe("help")
  })
})

describe("parseCommandArgs() with option groups", () => {
  const grouped = (groups: Command["groups"]) => ({ ...example, groups })

  test("asks for one of a group's options in its own words, or generically", () => {
    const argv = ["x", "--config", "a"]
    expect(() =>
      parseCommandArgs(grouped([{ options: ["user", "port"], atLeastOne: true }]), argv),
    ).toThrow("glidein example run: give --user NAME or -p N")
    const own = grouped([{ options: ["user"], atLeastOne: ([item]) => `who runs "${item}"?` }])
    expect(() => parseCommandArgs(own, argv)).toThrow('glidein example run: who runs "x"?')
  })

  test("refuses two options of a group that takes at most one", () => {
    const group = grouped([{ options: ["port", "dry-run"], atMostOne: true }])
    expect(() => parseCommandArgs(group, ["x", "--config", "a", "-p", "1", "--dry-run"])).toThrow(
      "glidein example run: give either -p N or --dry-run, not both",
    )
    expect(parseCommandArgs(group, ["x", "--config", "a", "--dry-run"])).not.toBe("help")
  })
})

describe("optionValues()", () => {
  test("names the file, line, section and key of a value from a config file", () => {
    const place = { file: "serve.ini", line: 3, section: "server", key: "port" }
    const run = () =>
      optionValues("example run", { port: example.options.port! }, () => ({
        value: 70000,
        origin: { place },
      }))
    expect(run).toThrow(ConfigError)
    expect(run).toThrow(
      "serve.ini:3: [server] port: expects a port number from 0 to 65535, got 70000",
    )
  })

  test("takes a config file's typed values through the same schema as flags", () => {
    const values = optionValues("example run", example.options, (name) => {
      if (name === "port") return { value: 12000, origin: { place: {} } }
      return name === "config" ? { value: "x", origin: { flag: name } } : undefined
    })
    expect(values).toEqual({ config: "x", port: 12000, dryRun: false, noDaemon: false })
  })
})
