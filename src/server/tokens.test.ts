import { afterEach, describe, expect, test } from "bun:test"
import { chmodSync, mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { ConfigError } from "../errors.ts"
import { cleanUp, tempDir } from "../test-support.ts"
import { loadTokens, parseTokens } from "./tokens.ts"

afterEach(cleanUp)

const TEXT = "# sites\nalberta   s3cr3t-token-alberta-0001\n\ndesy s3cr3t-token-desy-000002\n"

describe("parseTokens()", () => {
  test("names the token in a Bearer header, and nothing for a wrong or missing one", () => {
    const tokens = parseTokens(TEXT, "tokens.txt")
    expect(tokens.size).toBe(2)
    expect(tokens.nameFor("Bearer s3cr3t-token-desy-000002")).toBe("desy")
    expect(tokens.nameFor("bearer  s3cr3t-token-alberta-0001 ")).toBe("alberta")
    expect(tokens.nameFor("Bearer s3cr3t-token-desy-000003")).toBeUndefined()
    expect(tokens.nameFor("Bearer s3cr3t-token-desy")).toBeUndefined()
    expect(tokens.nameFor("Basic s3cr3t-token-desy-000002")).toBeUndefined()
    expect(tokens.nameFor(null)).toBeUndefined()
    expect(tokens.nameFor("")).toBeUndefined()
  })

  test("names the line of a bad entry and never shows a token", () => {
    const cases: [string, string][] = [
      ["alberta\n", 'tokens.txt:1: expected "name token", got 1 field'],
      ["alberta a b\n", 'tokens.txt:1: expected "name token", got 3 fields'],
      [
        "al/berta s3cr3t-token-alberta-0001\n",
        'tokens.txt:1: expected a name of letters, digits, "_", ".", "@" or "-", got "al/berta"',
      ],
      [
        "# c\nalberta short\n",
        'tokens.txt:2: the token for "alberta" is shorter than 16 characters',
      ],
      [
        "a s3cr3t-token-alberta-0001\nb s3cr3t-token-alberta-0001\n",
        'tokens.txt:2: the token for "b" is the same as on line 1',
      ],
      ["# nothing\n", 'tokens.txt: no tokens (expected "name token" lines)'],
    ]
    for (const [text, message] of cases) {
      expect(() => parseTokens(text, "tokens.txt")).toThrow(message)
      try {
        parseTokens(text, "tokens.txt")
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError)
        expect((error as Error).message).not.toContain("s3cr3t")
      }
    }
  })
})

describe("loadTokens()", () => {
  test("refuses a tokens file others can read, and reads a 0600 one", () => {
    const dir = tempDir("glidein-tokens-")
    const file = join(dir, "tokens")
    writeFileSync(file, TEXT)
    chmodSync(file, 0o644)
    expect(() => loadTokens(file)).toThrow(
      `${file}: the tokens file has mode 0644, so other users can read it; run: chmod 600 ${file}`,
    )
    chmodSync(file, 0o600)
    expect(loadTokens(file).size).toBe(2)
    expect(() => loadTokens(join(dir, "missing"))).toThrow(
      "missing: cannot read the tokens file (no such file)",
    )
  })

  test("refuses a directory with a ConfigError, not an internal error", () => {
    const dir = join(tempDir("glidein-tokens-"), "tokens")
    mkdirSync(dir, { mode: 0o700 })
    // A plain Error here would reach the user as "internal error".
    expect(() => loadTokens(dir)).toThrow(ConfigError)
    expect(() => loadTokens(dir)).toThrow(`${dir}: the tokens file is not a regular file`)
  })
})
