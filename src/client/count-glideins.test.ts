import { describe, expect, test } from "bun:test"
import { parseSiteConfig } from "../config/index.ts"
import { slurm } from "../schedulers/slurm.ts"
import { countGlideins } from "./count-glideins.ts"
import type { CommandOptions, CommandResult } from "./run-command.ts"

function settings(extra = "") {
  const config = parseSiteConfig(
    `[Glidein]\naddress = http://127.0.0.1:9/jsonrpc\n[Cluster]\nscheduler = slurm\n${extra}`,
    "site.ini",
  )
  return config.partitionSettings.Cluster!
}

function fake(answer: (argv: string[]) => Partial<CommandResult>) {
  const seen: string[][] = []
  const run = async (argv: string[], _o: CommandOptions): Promise<CommandResult> => {
    seen.push(argv)
    return { exitCode: 0, stdout: "", stderr: "", timedOut: false, ...answer(argv) }
  }
  return { run, seen }
}

describe("countGlideins()", () => {
  test("countGlideins() runs the site's commands through /bin/sh with $VARS expanded", async () => {
    const { run, seen } = fake((argv) => ({
      stdout: argv[2]?.includes("RUNNING") ? " 7\n" : "2\n",
    }))
    const s = settings(
      "running_cmd = squeue -u $USER -t RUNNING | wc -l\nidle_cmd = squeue -u $USER -t PENDING | wc -l",
    )
    const counts = await countGlideins("Cluster", s, slurm, {
      run,
      env: { USER: "ice" },
      user: "ice",
    })
    expect(counts).toEqual({ running: 7, idle: 2 })
    expect(seen).toContainEqual(["/bin/sh", "-c", "squeue -u ice -t RUNNING | wc -l"])
  })

  test("countGlideins() uses the scheduler's own commands, by argv, when the config has none", async () => {
    const { run, seen } = fake((argv) => ({
      stdout: argv.includes("RUNNING") ? "11\n12\n" : "13\n",
    }))
    const counts = await countGlideins("Cluster", settings(), slurm, { run, env: {}, user: "ice" })
    expect(counts).toEqual({ running: 2, idle: 1 })
    expect(seen.every((argv) => argv[0] === "squeue" && argv.includes("ice"))).toBe(true)
  })

  test("countGlideins() says which command printed something other than a number", async () => {
    const { run } = fake(() => ({ stdout: "squeue: error: invalid user\n" }))
    const counts = await countGlideins(
      "gpu",
      settings("running_cmd = squeue | wc -l\nidle_cmd = echo 0"),
      slurm,
      {
        run,
        env: {},
        user: "ice",
      },
    )
    expect(counts).toEqual({
      error: '[gpu] running_cmd printed "squeue: error: invalid user", expected one whole number',
    })
  })

  test("countGlideins() reports a command that hangs past its timeout", async () => {
    const { run } = fake(() => ({ exitCode: null, timedOut: true }))
    const counts = await countGlideins("Cluster", settings(), slurm, {
      run,
      env: {},
      user: "ice",
      timeoutMs: 5000,
    })
    expect(counts).toEqual({ error: expect.stringContaining("gave no answer within 5 s") })
  })
})
