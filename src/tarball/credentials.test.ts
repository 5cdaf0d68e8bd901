import { afterAll, describe, expect, test } from "bun:test"
import { mkdirSync } from "node:fs"
import path from "node:path"
import { UsageError } from "../errors.ts"
import { credentialWarnings, readCredentials, summarizeTokens } from "./credentials.ts"
import { put, removeTempDirs, tempDir } from "./test-support.ts"

const jwt = (claims: object) =>
  `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.c2ln`
const text = new TextEncoder()

afterAll(removeTempDirs)

describe("readCredentials()", () => {
  test("reads both files byte for byte", async () => {
    const dir = tempDir()
    const password = Uint8Array.of(0, 1, 2, 0xff, 0)
    put(path.join(dir, "pw"), password, 0o600)
    put(path.join(dir, "tok"), `# pool token\n${jwt({ sub: "g" })}\n`, 0o600)
    const { credentials, warnings } = await readCredentials({
      password: path.join(dir, "pw"),
      token: path.join(dir, "tok"),
    })
    expect(credentials.password).toEqual(password)
    expect(new TextDecoder().decode(credentials.token)).toContain(jwt({ sub: "g" }))
    expect(warnings).toEqual([])
  })

  test("refuses an empty, missing or non-regular file, and a token file without a JWT", async () => {
    const dir = tempDir()
    put(path.join(dir, "empty"), "", 0o600)
    put(path.join(dir, "prose"), "this is not a token\n", 0o600)
    mkdirSync(path.join(dir, "adir"))
    const cases: [Parameters<typeof readCredentials>[0], string][] = [
      [{ password: path.join(dir, "empty") }, `--password "${dir}/empty" is empty`],
      [{ token: path.join(dir, "nope") }, `--token "${dir}/nope": cannot read it (no such file)`],
      [{ password: path.join(dir, "adir") }, `--password "${dir}/adir" is not a regular file`],
      [{ token: path.join(dir, "prose") }, `--token "${dir}/prose" does not hold an IDTOKEN`],
    ]
    for (const [paths, message] of cases) {
      const error = await readCredentials(paths).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(UsageError)
      expect((error as Error).message).toStartWith(message)
    }
  })
})

describe("credentialWarnings()", () => {
  test("warns about readable files, a token given as password and an expired token", () => {
    const token = text.encode(jwt({ exp: 1000 }))
    expect(credentialWarnings("--password", "pw", token, 0o644, 2000)).toEqual([
      '--password "pw" is readable by others (mode 0644); consider chmod 600',
      '--password "pw" looks like an IDTOKEN; did you mean --token?',
    ])
    expect(credentialWarnings("--token", "t", token, 0o600, 2000)).toEqual([
      '--token "t" expired on 1970-01-01T00:16:40.000Z',
    ])
    expect(credentialWarnings("--token", "t", token, 0o600, 500)).toEqual([])
  })
})

describe("summarizeTokens()", () => {
  test("counts tokens and finds the earliest expiry", () => {
    const file = text.encode(
      `${jwt({ exp: 300 })}\n\n# comment\n${jwt({ exp: 200 })}\n${jwt({})}\n`,
    )
    expect(summarizeTokens(file)).toEqual({ count: 3, expires: 200 })
    expect(summarizeTokens(text.encode(jwt({ sub: "x" })))).toEqual({ count: 1 })
    expect(summarizeTokens(Uint8Array.of(0xde, 0xad))).toBeUndefined()
  })
})
