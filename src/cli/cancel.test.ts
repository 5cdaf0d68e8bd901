import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { runGlidein } from "../test-support.ts"

let dir = ""

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "glidein-cli-cancel-"))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Runs `bun src/main.ts ...argv` with cron's small environment. */
function glidein(...argv: string[]) {
  return runGlidein(argv, {
    env: { PATH: "/usr/bin:/bin", HOME: dir, GLIDEIN_STATE_DIR: path.join(dir, "state") },
  })
}

describe("glidein cancel (command line)", () => {
  test("glidein cancel takes a config whose server comes from --server or $GLIDEIN_SERVER", () => {
    // No [Glidein] address: submit gets the server from its command line; cancel needs none.
    const file = path.join(dir, "no-address.ini")
    writeFileSync(file, "[Glidein]\nsite = Test\n[Cluster]\nscheduler = slurm\n")
    const r = glidein("cancel", "--config", file)
    expect(r).toEqual({
      code: 0,
      stdout: expect.stringContaining(`No glideins of ${file} to cancel`),
      stderr: "",
    })
  })

  test("glidein cancel without --config is a usage error, exit 2", () => {
    const r = glidein("cancel")
    expect(r.code).toBe(2)
    expect(r.stderr).toBe("glidein cancel: missing --config FILE\n")
  })
})
