import { describe, expect, test } from "bun:test"
import { adapterJob, type ConfigKeys, resources, settingsSource } from "./fixtures.ts"
import { sge, taskIds, uge } from "./grid-engine.ts"

function text(
  s: typeof sge,
  patch: Parameters<typeof adapterJob>[2] = {},
  site: Parameters<typeof adapterJob>[3] = {},
  keys: ConfigKeys = {},
): string {
  const job = s.render(adapterJob(s, keys, patch, site))
  return job.files[job.submitFile]!
}

function directives(t: string): string[] {
  return t.split("\n").filter((l) => l.startsWith("#$ "))
}

describe("grid engine", () => {
  test("render() for UGE writes pyglidein's per-slot memory and scratch requests", () => {
    const t = text(uge, { resources: resources({ cpus: 4, memoryMb: 16800, diskKb: 45056000 }) })
    expect(directives(t).slice(0, 6)).toEqual([
      "#$ -N glidein",
      "#$ -S /bin/sh",
      "#$ -l h_rss=4200M",
      "#$ -l tmpdir_size=11000M",
      "#$ -pe multicore 4",
      "#$ -l h_rt=14:00:00",
    ])
  })

  test("render() asks UGE for at least 1000M of scratch per slot, as pyglidein did", () => {
    expect(text(uge, { resources: resources({ cpus: 8, diskKb: 1024000 }) })).toContain(
      "tmpdir_size=1000M",
    )
  })

  test("render() for SGE leaves out UGE's tmpdir_size complex and uses the mpi PE", () => {
    const t = text(sge, { resources: resources({ cpus: 2 }) })
    expect(t).not.toContain("tmpdir_size")
    expect(t).toContain("#$ -pe mpi 2\n")
  })

  test("render() takes the parallel environment from pe, and none for one core", () => {
    expect(text(sge, { resources: resources({ cpus: 3 }) }, {}, { pe: "smp" })).toContain(
      "#$ -pe smp 3\n",
    )
    expect(text(uge, { resources: resources({ cpus: 1 }) })).not.toContain("-pe")
  })

  test("readSettings() defaults pe per Grid Engine and refuses one that is not one word", () => {
    expect(uge.readSettings(settingsSource("uge")).pe).toBe("multicore")
    expect(sge.readSettings(settingsSource("sge")).pe).toBe("mpi")
    expect(() => sge.readSettings(settingsSource("sge", { pe: "smp 4" }, "short"))).toThrow(
      '[short] pe: "smp 4" cannot be used in a job directive',
    )
  })

  test("render() requests GPUs and arrays of exactly N tasks", () => {
    const t = text(uge, { count: 3, resources: resources({ gpus: 1 }) }, { groupJobs: true })
    expect(t).toContain("#$ -l gpu=1\n")
    expect(t).toContain("#$ -t 1-3\n")
    expect(t).toContain("#$ -o /home/user/glidein/glidein-$JOB_ID.$TASK_ID.out\n")
  })

  test("taskIds() lists single tasks, ranges with steps and lists", () => {
    expect(taskIds("7")).toEqual(["7"])
    expect(taskIds("1-5:1")).toEqual(["1", "2", "3", "4", "5"])
    expect(taskIds("2-10:2")).toEqual(["2", "4", "6", "8", "10"])
    expect(taskIds("2,3")).toEqual(["2", "3"])
    expect(taskIds("1-3:1,7")).toEqual(["1", "2", "3", "7"])
  })

  test("parseGlideins() counts Eqw and held jobs, which qstat -s p calls pending, as held", () => {
    const table = [
      "job-ID  prior   name       user         state submit/start at     queue                          slots ja-task-ID ",
      "-----------------------------------------------------------------------------------------------------------------",
      "      6 0.50000 glidein    alice        Eqw   11/21/2026 11:40:11                                    1        ",
      "      7 0.00000 glidein    alice        hqw   11/21/2026 11:40:11                                    1        ",
      "      8 0.00000 glidein    alice        qw    11/21/2026 11:40:11                                    1        ",
      "      9 0.00000 other      alice        qw    11/21/2026 11:40:11                                    1        ",
    ].join("\n")
    expect(sge.parseGlideins(table, "idle", {})).toEqual(["8"])
    expect(sge.parseGlideins(table, "running", {})).toEqual([])
    expect(sge.parseGlideins(table, "held", {})).toEqual(["6", "7"])
  })

  test("countArgv() lists the user's jobs for parseGlideins to filter, with requests for a queue", () => {
    expect(uge.countArgv("idle", { user: "alice" })).toEqual(["qstat", "-u", "alice"])
    // qstat -q lists pending jobs whatever queue they asked for; -r shows the request.
    expect(uge.countArgv("idle", { user: "alice", queue: "all.q" })).toEqual([
      "qstat",
      "-u",
      "alice",
      "-r",
    ])
  })
})
