import { describe, expect, test } from "bun:test"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { parseSiteConfig } from "../../config/index.ts"
import { sge } from "../../schedulers/grid-engine.ts"
import { lsf } from "../../schedulers/lsf.ts"
import { slurm } from "../../schedulers/slurm.ts"
import type { CommandOptions, CommandResult } from "../lib/run-command.ts"
import { countGlideins } from "./count-glideins.ts"

function settings(extra = "", scheduler = "slurm") {
  const config = parseSiteConfig(
    `[Glidein]\naddress = http://127.0.0.1:9/jsonrpc\n[Cluster]\nscheduler = ${scheduler}\n${extra}`,
    "site.ini",
  )
  return config.partitionSettings.Cluster!
}

const TESTDATA = join(import.meta.dir, "../../schedulers/testdata")

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
    expect(counts).toEqual({ counts: { running: 7, idle: 2, held: 0 }, heldIds: [], idleIds: [] })
    expect(seen).toContainEqual(["/bin/sh", "-c", "squeue -u ice -t RUNNING | wc -l"])
  })

  test("countGlideins() uses the scheduler's own commands, by argv, when the config has none", async () => {
    const { run, seen } = fake((argv) => ({
      stdout: argv.includes("RUNNING") ? "11\n12\n" : argv.includes("PENDING") ? "13\n" : "",
    }))
    const counts = await countGlideins("Cluster", settings(), slurm, { run, env: {}, user: "ice" })
    expect(counts).toEqual({
      counts: { running: 2, idle: 1, held: 0 },
      heldIds: [],
      idleIds: ["13"],
    })
    expect(seen.every((argv) => argv[0] === "squeue" && argv.includes("ice"))).toBe(true)
  })

  // Something other than a number, and a number no batch system holds (`squeue | wc -c`, a
  // wrong command rather than a count): each said, naming the command.
  for (const printed of ["squeue: error: invalid user", "100000000000000000000000"]) {
    test(`countGlideins() refuses a site command that printed ${JSON.stringify(printed)}`, async () => {
      const { run } = fake(() => ({ stdout: `${printed}\n` }))
      const config = settings("running_cmd = squeue | wc -l\nidle_cmd = echo 0")
      const counts = await countGlideins("gpu", config, slurm, { run, env: {}, user: "ice" })
      expect(counts).toEqual({
        error: `[gpu] running_cmd printed "${printed}", expected one whole number of glideins up to 1,000,000`,
      })
    })
  }

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

  test("countGlideins() counts a partition's glideins in its own queue only", async () => {
    const { run, seen } = fake(() => ({}))
    await countGlideins("gpu", settings("partition = gpu-shared"), slurm, {
      run,
      env: {},
      user: "ice",
    })
    expect(seen).toHaveLength(3)
    for (const argv of seen) expect(argv.join(" ")).toContain("--partition gpu-shared")
    // Grid Engine: qstat -r's hard queue requests tell the partitions apart.
    const table = readFileSync(join(TESTDATA, "sge/qstat-r-queues.txt"), "utf8")
    const ge = fake(() => ({ stdout: table }))
    const inQueue = await countGlideins("a", settings("queue = all.q", "sge"), sge, {
      run: ge.run,
      env: {},
      user: "glidein-e2e",
    })
    const anywhere = await countGlideins("b", settings("", "sge"), sge, {
      run: ge.run,
      env: {},
      user: "glidein-e2e",
    })
    expect(ge.seen).toEqual([
      ["qstat", "-u", "glidein-e2e", "-r"],
      ["qstat", "-u", "glidein-e2e"],
    ])
    expect(inQueue).toMatchObject({ counts: { running: 3, idle: 1, held: 5 } })
    expect(anywhere).toMatchObject({ counts: { running: 3, idle: 2, held: 6 } })
  })

  test("countGlideins() counts held and failed glideins apart, with their ids", async () => {
    const table = readFileSync(join(TESTDATA, "sge/qstat-eqw-hqw.txt"), "utf8")
    const { run, seen } = fake(() => ({ stdout: table }))
    const counts = await countGlideins("Cluster", settings("", "sge"), sge, {
      run,
      env: {},
      user: "ice",
    })
    expect(counts).toEqual({
      counts: { running: 0, idle: 0, held: 2 },
      heldIds: ["6", "7"],
      idleIds: [],
    })
    // One qstat table serves every state.
    expect(seen).toHaveLength(1)
  })

  test("countGlideins() runs no default held count beside the site's own commands", async () => {
    const { run, seen } = fake((argv) => ({ stdout: argv[0] === "/bin/sh" ? "3\n" : "" }))
    const s = settings("running_cmd = echo 3")
    const counts = await countGlideins("Cluster", s, slurm, { run, env: {}, user: "ice" })
    expect(counts).toEqual({ counts: { running: 3, idle: 0, held: 0 }, heldIds: [], idleIds: [] })
    expect(seen.map((argv) => argv.join(" ")).sort()).toEqual([
      "/bin/sh -c echo 3",
      "squeue --noheader --array --user ice --name glidein --states PENDING --format %i",
    ])
  })

  test("countGlideins() reads LSF's 'No unfinished job found' as none, whatever the exit code", async () => {
    const none = readFileSync(join(TESTDATA, "lsf/bjobs-none.txt"), "utf8")
    const { run } = fake(() => ({ exitCode: 255, stderr: none }))
    const counts = await countGlideins("Cluster", settings("", "lsf"), lsf, {
      run,
      env: {},
      user: "ice",
    })
    expect(counts).toEqual({ counts: { running: 0, idle: 0, held: 0 }, heldIds: [], idleIds: [] })
    const failing = fake(() => ({ exitCode: 255, stderr: "LSF is down. Please wait ...\n" }))
    const error = await countGlideins("Cluster", settings("", "lsf"), lsf, {
      run: failing.run,
      env: {},
      user: "ice",
    })
    expect(error).toEqual({
      error:
        '[Cluster] "bjobs -w -noheader -u ice -J glidein" failed with exit code 255: LSF is down. Please wait ...',
    })
  })
})
