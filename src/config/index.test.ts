import { afterAll, expect, test } from "bun:test"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { ConfigError } from "../errors.ts"
import { loadSiteConfig } from "./index.ts"

const dir = mkdtempSync(path.join(tmpdir(), "glidein-config-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function errorOf(file: string): Promise<string> {
  try {
    await loadSiteConfig(file)
  } catch (e) {
    if (e instanceof ConfigError) return e.message
    throw e
  }
  throw new Error("expected a ConfigError")
}

test("loadSiteConfig() reads and validates a file", async () => {
  const file = path.join(dir, "site.ini")
  writeFileSync(file, "[Glidein]\nssh_state = True\n[Cluster]\nscheduler = lsf\n")
  const config = await loadSiteConfig(file)
  expect(config.file).toBe(file)
  expect(config.partitionSettings.Cluster!.scheduler).toBe("lsf")
})

test("loadSiteConfig() says when the file is missing", async () => {
  const file = path.join(dir, "missing.ini")
  expect(await errorOf(file)).toBe(`${file}: cannot read the config file (no such file)`)
})

test("loadSiteConfig() names the first line that is not UTF-8", async () => {
  const file = path.join(dir, "latin1.ini")
  writeFileSync(
    file,
    Buffer.concat([
      Buffer.from("[Glidein]\nsite = Universit"),
      Buffer.from([0xe4]),
      Buffer.from("t\n"),
    ]),
  )
  expect(await errorOf(file)).toBe(`${file}:2: is not UTF-8 text; save the file as UTF-8`)
})
