import { afterAll, describe, expect, test } from "bun:test"
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { ConfigError } from "../errors.ts"
import { loadSecrets, parseSecrets } from "./secrets.ts"

const dir = mkdtempSync(path.join(tmpdir(), "glidein-secrets-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function write(name: string, text: string, mode: number): string {
  const file = path.join(dir, name)
  writeFileSync(file, text)
  chmodSync(file, mode)
  return file
}

async function errorOf(p: Promise<unknown>): Promise<ConfigError> {
  try {
    await p
  } catch (e) {
    if (e instanceof ConfigError) return e
    throw e
  }
  throw new Error("expected a ConfigError")
}

const SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

describe("loadSecrets()", () => {
  test("loadSecrets() reads the S3 keys from a mode-0600 file", async () => {
    const file = write(
      "ok",
      `[StartdLogging]\naccess_key = AKIA123\nsecret_key = ${SECRET}\n`,
      0o600,
    )
    expect(await loadSecrets(file)).toEqual({
      StartdLogging: { access_key: "AKIA123", secret_key: SECRET },
      Glidein: {},
    })
  })

  test("loadSecrets() refuses a file other users can read, saying how to fix it", async () => {
    const file = write("open", `[StartdLogging]\nsecret_key = ${SECRET}\n`, 0o644)
    const e = await errorOf(loadSecrets(file))
    expect(e.message).toBe(
      `${file}: the secrets file has mode 0644, so other users can read it; run: chmod 600 ${file}`,
    )
    expect(e.message).not.toContain(SECRET)
    const group = write("group", "[StartdLogging]\n", 0o640)
    expect((await errorOf(loadSecrets(group))).message).toContain("mode 0640")
  })

  test("loadSecrets() says when the file is missing", async () => {
    const e = await errorOf(loadSecrets(path.join(dir, "nope")))
    expect(e.message).toBe(`${path.join(dir, "nope")}: cannot read the secrets file (no such file)`)
  })

  test("loadSecrets() never echoes a secret in a parse error", async () => {
    const file = write("broken", `[StartdLogging]\n${SECRET}\n`, 0o600)
    const e = await errorOf(loadSecrets(file))
    expect(e.message).toBe(
      `${file}:2: [StartdLogging] expected "key = value" or an indented continuation line`,
    )
    const noHeader = await errorOf(
      loadSecrets(write("noheader", `secret_key = ${SECRET}\n`, 0o600)),
    )
    expect(noHeader.message).not.toContain(SECRET)
    const percent = await errorOf(
      loadSecrets(write("pct", `[StartdLogging]\nsecret_key = a%(${SECRET})s\n`, 0o600)),
    )
    expect(percent.message).not.toContain(SECRET)
  })
})

test("parseSecrets() keeps keys as written, unquoting a quoted one", () => {
  expect(parseSecrets('[StartdLogging]\naccess_key = 0123\nsecret_key = "a b"\n', "s")).toEqual({
    StartdLogging: { access_key: "0123", secret_key: "a b" },
    Glidein: {},
  })
  expect(parseSecrets("", "s")).toEqual({ StartdLogging: {}, Glidein: {} })
})

test("parseSecrets() reads the server token of [Glidein]", () => {
  expect(parseSecrets("[Glidein]\ntoken = abc.def-123\n", "s").Glidein.token).toBe("abc.def-123")
})
