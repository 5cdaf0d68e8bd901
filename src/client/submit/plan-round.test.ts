import { afterAll, describe, expect, test } from "bun:test"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseSiteConfig } from "../../config/index.ts"
import type { CommandRunner } from "../lib/run-command.ts"
import { siteSetup } from "../site/site-setup.ts"
import { countPartitions } from "./plan-round.ts"

const dir = mkdtempSync(join(tmpdir(), "glidein-round-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe("countPartitions()", () => {
  test("countPartitions() refuses the scheduler's count commands when the login name is unknown", async () => {
    const text = `[Glidein]
address = http://pool.example:11001/jsonrpc
[Cluster]
scheduler = pbs
partitions = builtin, own
[builtin]
[own]
running_cmd = echo 2
idle_cmd = echo 1
`
    const config = parseSiteConfig(text, join(dir, "site.ini"))
    const setup = siteSetup(config, { HOME: dir }, join(dir, "state"), () => undefined)
    const ran: string[][] = []
    const run: CommandRunner = async (argv) => {
      ran.push(argv)
      return {
        exitCode: 0,
        stdout: argv[2]?.replace("echo ", "") ?? "",
        stderr: "",
        timedOut: false,
      }
    }
    const [builtin, own] = await countPartitions(setup, false, { run, env: { HOME: dir } })
    expect(builtin!.counts).toBeUndefined()
    expect(builtin!.error).toBe(
      `[builtin] cannot count glideins: uid ${process.getuid!()} has no login name (not in /etc/passwd, and id -un knows none); set user = NAME in [Cluster]`,
    )
    expect(own!.error).toBeUndefined()
    expect(ran.map((argv) => argv.join(" ")).sort()).toEqual([
      "/bin/sh -c echo 1",
      "/bin/sh -c echo 2",
    ])
  })
})
