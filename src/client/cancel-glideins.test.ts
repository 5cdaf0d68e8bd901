import { afterEach, describe, expect, test } from "bun:test"
import { mkdirSync } from "node:fs"
import { GlideinError } from "../errors.ts"
import { type CancelDeps, cancelGlideins } from "./cancel-glideins.ts"
import { tryLock } from "./config-lock.ts"
import { appendJournal, readJournal } from "./journal.ts"
import { type FakeBatch, type TestSite, testSite } from "./test-site.ts"

const sites: TestSite[] = []
afterEach(() => {
  for (const s of sites.splice(0)) s.remove()
})

const resources = { cpus: 1, memoryMb: 2100, diskKb: 11264000, gpus: 0, walltimeS: 72000 }

function site(fake?: FakeBatch) {
  const s = testSite(
    "http://127.0.0.1:9/jsonrpc",
    "[Cluster]\nscheduler = slurm\npartitions = a, b\n[a]\n[b]\n",
    fake,
  )
  sites.push(s)
  mkdirSync(s.paths.dir, { recursive: true })
  const deps: CancelDeps = {
    run: s.run,
    env: s.env,
    now: () => new Date("2026-03-02T00:00:00Z"),
    stdout: (t) => s.stdout.push(t),
    stderr: (t) => s.stderr.push(t),
    stateRoot: s.stateRoot,
  }
  const submitted = (partition: string, jobIds: string[], scheduler: "slurm" | "pbs" = "slurm") =>
    appendJournal(s.paths.journal, {
      kind: "submit",
      time: "2026-03-01T00:00:00Z",
      partition,
      scheduler,
      count: jobIds.length,
      resources,
      jobIds,
    })
  return { ...s, deps, submitted }
}

describe("cancelGlideins()", () => {
  test("cancelGlideins() removes every journaled glidein once, by job id", async () => {
    const s = site()
    s.submitted("a", ["11", "12"])
    s.submitted("b", ["13"])
    expect(await cancelGlideins(s.config, { dryRun: false }, s.deps)).toBe(0)
    expect(s.commands.map((c) => c.line)).toEqual(["scancel 11 12", "scancel 13"])
    s.commands.length = 0
    expect(await cancelGlideins(s.config, { dryRun: false }, s.deps)).toBe(0)
    expect(s.commands).toEqual([])
    expect(s.stdout.join("")).toContain("No glideins of")
  })

  test("cancelGlideins() --dry-run lists the commands and records nothing", async () => {
    const s = site()
    s.submitted("a", ["11"])
    expect(await cancelGlideins(s.config, { dryRun: true }, s.deps)).toBe(0)
    expect(s.commands).toEqual([])
    expect(s.stdout.join("")).toBe("[a] would run: scancel 11\n")
    expect(readJournal(s.paths.journal)).toHaveLength(1)
  })

  test("cancelGlideins() counts ids the batch system no longer knows as done, and says what it said", async () => {
    const s = site(() => ({
      exitCode: 1,
      stderr: "scancel: error: Kill job error on job id 11: Invalid job id specified\n",
    }))
    s.submitted("a", ["11"])
    expect(await cancelGlideins(s.config, { dryRun: false }, s.deps)).toBe(0)
    expect(s.stdout.join("")).toContain(
      "(scancel said: scancel: error: Kill job error on job id 11: Invalid job id specified)",
    )
    expect(readJournal(s.paths.journal).at(-1)).toMatchObject({ kind: "cancel", jobIds: ["11"] })
  })

  test("cancelGlideins() keeps the jobs when the cancel command cannot run", async () => {
    const s = site(() => ({ exitCode: null, timedOut: true }))
    s.submitted("a", ["11"])
    expect(await cancelGlideins(s.config, { dryRun: false }, s.deps)).toBe(1)
    expect(s.stderr.join("")).toContain("the jobs stay in the journal")
    expect(readJournal(s.paths.journal)).toHaveLength(1)
  })

  test("cancelGlideins() uses the journaled scheduler for a partition no longer in the config", async () => {
    const s = site()
    s.submitted("gone", ["5.0"], "pbs")
    expect(await cancelGlideins(s.config, { dryRun: false }, s.deps)).toBe(0)
    expect(s.commands.map((c) => c.line)).toEqual(["qdel 5.0"])
  })

  test("cancelGlideins() refuses to run while a submit run holds the lock", async () => {
    const s = site()
    s.submitted("a", ["11"])
    const held = await tryLock(s.paths.lock)
    try {
      await expect(cancelGlideins(s.config, { dryRun: false }, s.deps)).rejects.toBeInstanceOf(
        GlideinError,
      )
    } finally {
      held?.release()
    }
    expect(s.commands).toEqual([])
  })
})
