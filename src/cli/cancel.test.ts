import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { writeFileSync } from "node:fs"
import path from "node:path"
import { cleanUp, runGlidein, tempDir } from "../test-support.ts"

let dir = ""

beforeAll(() => {
  dir = tempDir("glidein-cli-cancel-")
})
afterAll(cleanUp)

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
