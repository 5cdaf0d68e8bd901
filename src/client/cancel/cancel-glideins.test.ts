import { afterEach, describe, expect, test } from "bun:test"
import { mkdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { GlideinError } from "../../errors.ts"
import type { CommandResult } from "../lib/run-command.ts"
import { tryLock } from "../site/config-lock.ts"
import { appendJournal, readJournal } from "../site/journal.ts"
import { type FakeBatch, type TestSite, testSite } from "../submit/test-site.ts"
import { type CancelDeps, cancelGlideins } from "./cancel-glideins.ts"

const sites: TestSite[] = []
afterEach(() => {
  for (const s of sites.splice(0)) s.remove()
})

const resources = { cpus: 1, memoryMb: 2100, diskKb: 11264000, gpus: 0, walltimeS: 72000 }
const TESTDATA = join(import.meta.dir, "../../schedulers/testdata")

const LIST = "squeue --noheader --user ice --name glidein --format %i %t"

/** The listing of the journal's jobs by id. */
const IDS = (ids: string) => `squeue --noheader --jobs=${ids} --name glidein --format %i %t`

/** The job numbers of a listing of the journal's jobs by id, or undefined for another command. */
function byIds(line: string): string[] | undefined {
  const m = /^squeue --noheader --jobs=(\S+) --name glidein --format %i %t$/.exec(line)
  return m ? m[1]!.split(",") : undefined
}

/**
 * A Slurm queue of the user's jobs named glidein, as `LIST` shows them (`id state`). scancel
 * removes the listed jobs it names (array tasks with their job), unless `sticky`.
 */
function slurmQueue(
  lines: string[],
  o: { sticky?: boolean; scancel?: Partial<CommandResult> } = {},
) {
  const queue = [...lines]
  const fake: FakeBatch = (line) => {
    if (line === LIST) return { stdout: queue.map((l) => `${l}\n`).join("") }
    const named = byIds(line)
    if (named) {
      const found = queue.filter((l) => named.includes(/^\d+/.exec(l)![0]))
      // squeue asked for one job it has forgotten fails, as Slurm's does.
      if (found.length === 0 && named.length === 1)
        return { exitCode: 1, stderr: "slurm_load_jobs error: Invalid job id specified\n" }
      return { stdout: found.map((l) => `${l}\n`).join("") }
    }
    if (line.startsWith("scancel ")) {
      const ids = new Set(line.split(" ").slice(1))
      if (!o.sticky) {
        for (let i = queue.length - 1; i >= 0; i--)
          if (ids.has(/^\d+/.exec(queue[i]!)![0])) queue.splice(i, 1)
      }
      return o.scancel ?? {}
    }
    return { exitCode: 127, stderr: `unexpected command ${line}\n` }
  }
  return { queue, fake }
}

function site(
  fake?: FakeBatch,
  partitions = "[Cluster]\nscheduler = slurm\nuser = ice\npartitions = a, b\n[a]\n[b]\n",
) {
  const s = testSite("http://127.0.0.1:9/jsonrpc", partitions, fake)
  sites.push(s)
  mkdirSync(s.paths.dir, { recursive: true })
  const sleeps: number[] = []
  const deps: CancelDeps = {
    run: s.run,
    env: s.env,
    now: () => new Date("2026-03-02T00:00:00Z"),
    sleep: async (ms) => {
      sleeps.push(ms)
    },
    stdout: (t) => s.stdout.push(t),
    stderr: (t) => s.stderr.push(t),
    stateRoot: s.stateRoot,
    // The account the configs' `user = ice` names.
    login: () => "ice",
  }
  const submitted = (
    partition: string,
    jobIds: string[],
    scheduler: "slurm" | "pbs" | "lsf" = "slurm",
    extra: { outcome?: "unknown"; count?: number } = {},
  ) =>
    appendJournal(s.paths.journal, {
      kind: "submit",
      time: "2026-03-01T00:00:00Z",
      partition,
      scheduler,
      count: jobIds.length,
      resources,
      jobIds,
      ...extra,
    })
  const cancelled = () =>
    readJournal(s.paths.journal).flatMap((r) =>
      r.kind === "cancel" ? [[r.partition, r.jobIds.join(" "), r.finished ?? false]] : [],
    )
  return { ...s, deps, submitted, sleeps, cancelled }
}

describe("cancelGlideins()", () => {
  test("cancelGlideins() removes the journaled glideins the batch system still lists, arrays too", async () => {
    const batch = slurmQueue(["11 R", "12_[2-3] PD", "12_1 R", "99 PD"])
    const s = site(batch.fake)
    s.submitted("a", ["11", "12"])
    s.submitted("b", ["13"])
    expect(await cancelGlideins(s.config, { dryRun: false }, s.deps)).toBe(0)
    expect(s.commands.map((c) => c.line)).toEqual([
      LIST,
      IDS("11,12"),
      "scancel 11 12",
      LIST,
      IDS("11,12"),
      LIST,
      IDS("13"),
    ])
    // 99 is a glidein no journal of this config names: another config's, left alone.
    expect(batch.queue).toEqual(["99 PD"])
    expect(s.cancelled()).toEqual([
      ["a", "11 12", false],
      ["b", "13", true],
    ])
    expect(s.stdout.join("")).toBe(
      "[a] removed 2 glidein jobs: 11 12\n[b] 1 journaled glidein job no longer in the batch system, marked finished\n",
    )
    s.commands.length = 0
    s.stdout.length = 0
    expect(await cancelGlideins(s.config, { dryRun: false }, s.deps)).toBe(0)
    expect(s.commands).toEqual([])
    expect(s.stdout.join("")).toContain("No glideins of")
  })

  test("cancelGlideins() never cancels a finished glidein's id that a newer job of the user has", async () => {
    // Job 13 finished long ago; the id now belongs to the user's own job `analysis`, which the
    // listing (jobs named glidein) does not show.
    const batch = slurmQueue([])
    const s = site(batch.fake)
    s.submitted("a", ["13"])
    expect(await cancelGlideins(s.config, { dryRun: false }, s.deps)).toBe(0)
    expect(s.commands.map((c) => c.line)).toEqual([LIST, IDS("13")])
    expect(s.cancelled()).toEqual([["a", "13", true]])
  })

  test("cancelGlideins() finds a journaled glidein the listing by user misses, and removes it", async () => {
    // Filed under another name than `user = ice` (the run's own account): only the listing by
    // id shows it, and it must be cancelled, not taken for finished.
    let queued = true
    const s = site((line) => {
      if (line === LIST) return { stdout: "" }
      if (line === IDS("13")) return { stdout: queued ? "13 PD\n" : "" }
      if (line === "scancel 13") queued = false
      return {}
    })
    s.submitted("a", ["13"])
    expect(await cancelGlideins(s.config, { dryRun: false }, s.deps)).toBe(0)
    expect(s.commands.map((c) => c.line)).toEqual([LIST, IDS("13"), "scancel 13", LIST, IDS("13")])
    expect(s.cancelled()).toEqual([["a", "13", false]])
  })

  test("cancelGlideins() records nothing when the batch system cannot list the jobs", async () => {
    const s = site((line) =>
      line === LIST
        ? {
            exitCode: 1,
            stderr: "slurm_load_jobs error: Unable to contact slurm controller (connect failure)\n",
          }
        : {},
    )
    s.submitted("a", ["11"])
    expect(await cancelGlideins(s.config, { dryRun: false }, s.deps)).toBe(1)
    expect(s.commands.map((c) => c.line)).toEqual([LIST])
    expect(s.stderr.join("")).toBe(
      `glidein cancel: [a] "${LIST}" failed with exit code 1: slurm_load_jobs error: Unable to contact slurm controller (connect failure); nothing is cancelled and the journal is left as it was\n`,
    )
    expect(readJournal(s.paths.journal)).toHaveLength(1)
  })

  test("cancelGlideins() keeps jobs a failed cancel left in the batch system, and exits 1", async () => {
    const batch = slurmQueue(["11 R"], {
      sticky: true,
      scancel: { exitCode: 1, stderr: "scancel: error: Unable to contact slurm controller\n" },
    })
    const s = site(batch.fake)
    s.submitted("a", ["11"])
    expect(await cancelGlideins(s.config, { dryRun: false }, s.deps)).toBe(1)
    expect(s.sleeps).toEqual([1000, 2000, 4000, 8000])
    expect(s.stderr.join("")).toBe(
      'glidein cancel: [a] "scancel 11" failed with exit code 1: scancel: error: Unable to contact slurm controller\n' +
        "glidein cancel: [a] 1 glidein job not confirmed removed (the batch system still lists them): 11; they stay in the journal, run glidein cancel again\n",
    )
    expect(s.cancelled()).toEqual([])
  })

  test("cancelGlideins() records a cancelled job once the batch system stops listing it", async () => {
    const listings = ["11 R\n", "11 R\n", "11 CG\n"]
    const s = site((line) => (line === LIST ? { stdout: listings.shift() ?? "" } : {}))
    s.submitted("a", ["11"])
    expect(await cancelGlideins(s.config, { dryRun: false }, s.deps)).toBe(0)
    // Listed before the cancel, still running at the first look, completing at the second.
    expect(s.sleeps).toEqual([1000, 2000])
    expect(s.cancelled()).toEqual([["a", "11", false]])
  })

  test("cancelGlideins() keeps the jobs when the cancel command cannot run", async () => {
    const s = site((line) =>
      line === LIST || line === IDS("11")
        ? { stdout: "11 R\n" }
        : { exitCode: null, timedOut: true },
    )
    s.submitted("a", ["11"])
    expect(await cancelGlideins(s.config, { dryRun: false }, s.deps)).toBe(1)
    expect(s.stderr.join("")).toContain('"scancel 11" gave no answer within 120 s')
    expect(s.stderr.join("")).toContain("they stay in the journal")
    expect(readJournal(s.paths.journal)).toHaveLength(1)
  })

  test("cancelGlideins() --dry-run lists the commands and records nothing", async () => {
    const s = site(slurmQueue(["11 R"]).fake)
    s.submitted("a", ["11", "10"])
    expect(await cancelGlideins(s.config, { dryRun: true }, s.deps)).toBe(0)
    expect(s.commands.map((c) => c.line)).toEqual([LIST, IDS("11,10")])
    expect(s.stdout.join("")).toBe(
      "[a] 1 journaled glidein job no longer in the batch system\n[a] would run: scancel 11\n",
    )
    expect(readJournal(s.paths.journal)).toHaveLength(1)
  })

  test("cancelGlideins() uses the journaled scheduler for a partition no longer in the config", async () => {
    const list = "qselect -N glidein -s HQRTW"
    let listed = "1098[1].moab\n1098[2].moab\n"
    const s = site((line) => {
      if (line === list) return { stdout: listed }
      if (line === "qdel 1098[].moab") listed = ""
      return {}
    })
    s.submitted("gone", ["1098[].moab"], "pbs")
    expect(await cancelGlideins(s.config, { dryRun: false }, s.deps)).toBe(0)
    expect(s.commands.map((c) => c.line)).toEqual([list, "qdel 1098[].moab", list])
    expect(s.cancelled()).toEqual([["gone", "1098[].moab", false]])
  })

  test("cancelGlideins() never names other users' glideins for a partition no longer in the config", async () => {
    // qselect without -u lists every user's glideins; 2000 is someone else's.
    const list = "qselect -N glidein -s HQRTW"
    const s = site((line) => (line === list ? { stdout: "1098.moab\n2000.moab\n" } : {}))
    s.submitted("gone", ["1098.moab"], "pbs")
    s.submitted("gone", [], "pbs", { outcome: "unknown", count: 1 })
    await cancelGlideins(s.config, { dryRun: true }, s.deps)
    expect(s.stdout.join("")).toContain("would run: qdel 1098.moab")
    expect(`${s.stdout.join("")}${s.stderr.join("")}`).not.toContain("2000")
  })

  test("cancelGlideins() reads LSF's 'No unfinished job found' as no live glideins", async () => {
    const none = readFileSync(join(TESTDATA, "lsf/bjobs-none.txt"), "utf8")
    const s = site(
      (line) => (line.startsWith("bjobs") ? { exitCode: 255, stderr: none } : {}),
      "[Cluster]\nscheduler = lsf\nuser = ice\n",
    )
    s.submitted("Cluster", ["1234", "1235"], "lsf")
    expect(await cancelGlideins(s.config, { dryRun: false }, s.deps)).toBe(0)
    expect(s.commands.map((c) => c.line)).toEqual([
      "bjobs -w -noheader -u ice -J glidein",
      "bjobs -w -noheader -u all 1234 1235",
    ])
    expect(s.cancelled()).toEqual([["Cluster", "1234 1235", true]])
  })

  test("cancelGlideins() names live glideins no journal accounts for after a submit timed out", async () => {
    const batch = slurmQueue(["11 R", "77 PD"])
    const s = site(batch.fake)
    s.submitted("a", ["11"])
    s.submitted("a", [], "slurm", { outcome: "unknown", count: 2 })
    expect(await cancelGlideins(s.config, { dryRun: false }, s.deps)).toBe(0)
    expect(batch.queue).toEqual(["77 PD"])
    expect(s.stderr.join("")).toBe(
      'glidein cancel: [a] a submit command timed out at 2026-03-01T00:00:00Z (2 glideins) and may have submitted anyway; no journal names the live glidein jobs 77: if they are this config\'s, remove them with "scancel 77"\n',
    )
  })

  test("cancelGlideins() speaks of partitions in the config's order, not the journal's", async () => {
    // Submissions run in parallel, so b's may be journaled before a's.
    const batch = slurmQueue(["12 R", "11 R"])
    const s = site(
      batch.fake,
      "[Cluster]\nscheduler = slurm\nuser = ice\npartitions = a, b\n[a]\n[b]\n",
    )
    s.submitted("b", ["12"])
    s.submitted("b", [], "slurm", { count: 1 })
    s.submitted("a", [], "slurm", { count: 2 })
    s.submitted("a", ["11"])
    expect(await cancelGlideins(s.config, { dryRun: false }, s.deps)).toBe(0)
    expect(s.stderr.join("")).toBe(
      'glidein cancel: [a] 2 glideins went out without a job id and cannot be removed by id; they are named "glidein" in the batch system\n' +
        'glidein cancel: [b] 1 glidein went out without a job id and cannot be removed by id; they are named "glidein" in the batch system\n',
    )
    expect(s.stdout.join("")).toBe("[a] removed 1 glidein job: 11\n[b] removed 1 glidein job: 12\n")
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
