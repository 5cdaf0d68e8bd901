import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test"
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs"
import { join } from "node:path"
import { ConfigError, GlideinError } from "../../errors.ts"
import { tryLock } from "../site/config-lock.ts"
import { appendJournal, readJournal } from "../site/journal.ts"
import { ensureStateDir } from "../site/state-dir.ts"
import type { SubmitDeps, SubmitOptions } from "./run.ts"
import { runSubmit } from "./run-submit.ts"
import {
  type FakeBatch,
  type FakeServer,
  S1,
  S3,
  S4,
  startFakeServer,
  type TestSite,
  testSite,
} from "./test-site.ts"

let server: FakeServer
beforeAll(() => {
  server = startFakeServer()
})
afterAll(() => server.stop())

const sites: TestSite[] = []
afterEach(() => {
  for (const s of sites.splice(0)) s.remove()
  server.state = [S1, S3, S4]
  server.monitoring = []
})

/** A test site with the deps of a submit run. */
function site(body: string, fake?: FakeBatch) {
  const s = testSite(server.url, body, fake)
  sites.push(s)
  const deps: SubmitDeps = {
    run: s.run,
    env: s.env,
    now: () => new Date("2026-03-01T12:00:00Z"),
    sleep: async () => {},
    stdout: (t) => s.stdout.push(t),
    stderr: (t) => s.stderr.push(t),
    startScript: "#!/bin/sh\necho start\n",
    rpc: { timeoutMs: 2000, retries: 0, retryDelayMs: 1 },
    stateRoot: s.stateRoot,
  }
  return { ...s, deps }
}

const options = (o: Partial<SubmitOptions> = {}): SubmitOptions => ({
  dryRun: false,
  json: false,
  assumeEmpty: false,
  ...o,
})

const DAY_MS = 24 * 3600 * 1000

const SLURM = `[Cluster]
scheduler = slurm
running_cmd = echo 1
idle_cmd = echo 0
mem_per_core = 4000
partitions = gpu, cpu
[gpu]
gpu_only = True
partition = gpu
[cpu]
cpu_only = True
limit_per_submit = 2
`

describe("runSubmit()", () => {
  test("runSubmit() submits per partition, journals job ids and reports to the server", async () => {
    let n = 100
    const s = site(SLURM, (line) =>
      line.startsWith("sbatch") ? { stdout: `Submitted batch job ${n++}\n` } : {},
    )
    expect(await runSubmit(s.config, options(), s.deps)).toBe(0)
    const submits = s.commands.filter((c) => c.line.startsWith("sbatch"))
    // 1 GPU glidein on [gpu], 2 of the 3 small CPU jobs on [cpu] (limit_per_submit 2)
    expect(submits).toHaveLength(3)
    for (const c of submits) expect(existsSync(join(c.cwd ?? "", "glidein_start.sh"))).toBe(true)
    // glideins advertise the name the site reports under
    const scripts = submits.map((c) => join(c.cwd ?? "", c.line.split(" ").at(-1) ?? ""))
    for (const file of scripts) expect(readFileSync(file, "utf8")).toMatch(/ GLIDEIN_CLIENT="ice@/)
    const journal = readJournal(s.paths.journal)
    expect(journal.map((r) => [r.partition, r.jobIds])).toEqual([
      ["gpu", ["100"]],
      // Each glidein is journaled as soon as its sbatch returns.
      ["cpu", ["101"]],
      ["cpu", ["102"]],
    ])
    expect(server.monitoring).toEqual([
      {
        uuid: expect.stringMatching(/^ice@/),
        timestamp: 1772366400,
        metrics: {
          glideins_running: { gpu: 1, cpu: 1 },
          glideins_idle: { gpu: 0, cpu: 0 },
          glideins_launched: { gpu: 1, cpu: 2 },
        },
      },
    ])
    const err = s.stderr.join("")
    expect(err).toContain("[gpu] submitted 1 glidein as 100")
    expect(err).toContain(
      "cannot place 5 jobs of 8 cpus, 64000 MB, disk 100000 MB, 0 gpus: no partition can run these jobs",
    )
  })

  test("runSubmit() --dry-run --json prints the plan and rendered files and runs no submit command", async () => {
    const s = site(SLURM)
    expect(await runSubmit(s.config, options({ dryRun: true, json: true }), s.deps)).toBe(0)
    expect(s.commands.map((c) => c.line).sort()).toEqual(["echo 0", "echo 0", "echo 1", "echo 1"])
    const out = JSON.parse(s.stdout.join(""))
    expect(
      out.submissions.map((x: { partition: string; count: number }) => [x.partition, x.count]),
    ).toEqual([
      ["gpu", 1],
      ["cpu", 2],
    ])
    const gpu = out.submissions[0]
    expect(gpu).toMatchObject({
      scheduler: "slurm",
      cpus: 2,
      memory_mb: 4200,
      gpus: 1,
      walltime_s: 72000,
    })
    expect(gpu.env).toMatchObject({
      CPUS: "2",
      MEMORY: "4200",
      GPUS: "1",
      WALLTIME: "71700",
      SITE: "Test",
    })
    expect(Object.values(gpu.files).join("")).toContain("#SBATCH --partition=gpu")
    expect(out.unplaced).toEqual([
      { shape: { ...S1, count: undefined }, count: 1, reason: "partition limits reached in [cpu]" },
      {
        shape: { cpus: 8, memory: 64000, disk: 100000, gpus: 0, os: null },
        count: 5,
        reason: expect.stringContaining("no partition can run"),
      },
    ])
    expect(existsSync(s.paths.dir)).toBe(false)
    expect(server.monitoring).toEqual([])
  })

  test("runSubmit() --assume-empty plans without asking the batch system", async () => {
    const s = site(SLURM)
    expect(await runSubmit(s.config, options({ dryRun: true, assumeEmpty: true }), s.deps)).toBe(0)
    expect(s.commands).toEqual([])
    expect(s.stdout.join("")).toContain(
      "[cpu] slurm: 0 running, 0 idle; limit 2 (limit_per_submit 2)",
    )
  })

  test("runSubmit() [Mode] dryrun plans like --dry-run", async () => {
    const s = site(`[Mode]\ndryrun = True\n${SLURM}`)
    expect(await runSubmit(s.config, options(), s.deps)).toBe(0)
    expect(s.commands.some((c) => c.line.startsWith("sbatch"))).toBe(false)
    expect(s.stdout.join("")).toContain("$ sbatch glidein.slurm")
  })

  test("runSubmit() exits 0 and does nothing while another run holds the lock", async () => {
    const s = site(SLURM)
    mkdirSync(s.paths.dir, { recursive: true })
    const held = await tryLock(s.paths.lock)
    try {
      expect(await runSubmit(s.config, options(), s.deps)).toBe(0)
    } finally {
      held?.release()
    }
    expect(s.commands).toEqual([])
    expect(s.stderr.join("")).toContain("another run for")
  })

  test("runSubmit() submits nothing when the server cannot be reached", async () => {
    const s = site(SLURM)
    const closed = Bun.serve({ port: 0, fetch: () => new Response("") })
    const dead = `http://127.0.0.1:${closed.port}/jsonrpc`
    closed.stop(true)
    const error = await runSubmit(s.config, options({ server: dead }), s.deps).catch((e) => e)
    expect(error).toBeInstanceOf(GlideinError)
    expect(error.exitCode).toBe(1)
    expect(error.message).toStartWith(`server ${dead}: get_state failed:`)
    expect(s.commands.some((c) => c.line.startsWith("sbatch"))).toBe(false)
    expect(readJournal(s.paths.journal)).toEqual([])
  })

  test("runSubmit() rejects hostile demand whole and submits nothing", async () => {
    const s = site(SLURM)
    server.state = [S1, { ...S3, os: "el7\n#SBATCH --uid=0" }]
    const error = await runSubmit(s.config, options(), s.deps).catch((e) => e)
    expect(error.message).toContain("get_state: demand rejected: [1].os: expected a plain token")
    expect(s.commands.filter((c) => c.line.startsWith("sbatch"))).toEqual([])
  })

  test("runSubmit() reports a failing submit command with its stderr and goes on", async () => {
    const s = site(SLURM, (line, o) =>
      line.startsWith("sbatch") && o.cwd?.includes("/gpu/")
        ? { exitCode: 1, stderr: "sbatch: error: Invalid partition name specified\n" }
        : line.startsWith("sbatch")
          ? { stdout: "Submitted batch job 7\n" }
          : {},
    )
    expect(await runSubmit(s.config, options(), s.deps)).toBe(1)
    const err = s.stderr.join("")
    expect(err).toContain(
      '[gpu] "sbatch glidein.slurm" failed with exit code 1: sbatch: error: Invalid partition name specified (1 glidein not submitted)',
    )
    expect(err).toContain("[cpu] submitted 2 glideins as 7 7")
    expect(readJournal(s.paths.journal).map((r) => r.partition)).toEqual(["cpu", "cpu"])
    expect(server.monitoring).toHaveLength(1)
  })

  test("runSubmit() says so, exit 1, when a submission cannot be journaled", async () => {
    const s = site(SLURM)
    mkdirSync(s.paths.journal, { recursive: true })
    expect(await runSubmit(s.config, options(), s.deps)).toBe(1)
    const err = s.stderr.join("")
    expect(err).toContain("[gpu] submitted 1 glidein")
    expect(err).toContain("[gpu] cannot record 1 glidein in the journal")
    expect(err).toContain("glidein cancel will not know them")
  })

  test("runSubmit() runs up to four submissions at once and reports them in plan order", async () => {
    let running = 0
    let most = 0
    const s = site("[Cluster]\nscheduler = slurm\nrunning_cmd = echo 0\nidle_cmd = echo 0\n")
    const run = s.deps.run
    s.deps.run = async (argv, o) => {
      if (argv[0] !== "sbatch") return run(argv, o)
      running++
      most = Math.max(most, running)
      await Bun.sleep(20)
      running--
      const cpus = /\/c(\d+)-/.exec(o.cwd ?? "")?.[1]
      return {
        exitCode: 0,
        stdout: `Submitted batch job ${cpus}\n`,
        stderr: "",
        timedOut: false,
      }
    }
    server.state = [1, 2, 3, 4, 5, 6].map((cpus) => ({ ...S1, cpus, memory: 1000, count: 1 }))
    expect(await runSubmit(s.config, options(), s.deps)).toBe(0)
    expect(most).toBe(4)
    const lines = s.stderr.filter((l) => l.includes(" submitted "))
    expect(lines.map((l) => /as (\d)\n$/.exec(l)?.[1])).toEqual(["6", "5", "4", "3", "2", "1"])
  })

  test("runSubmit() skips a partition whose count fails and says so", async () => {
    const s = site(SLURM.replace("running_cmd = echo 1", "running_cmd = squeue-broken"), (line) =>
      line === "squeue-broken" ? { exitCode: 127, stderr: "sh: squeue-broken: not found\n" } : {},
    )
    expect(await runSubmit(s.config, options(), s.deps)).toBe(1)
    expect(s.stderr.join("")).toContain(
      '[gpu] running_cmd "squeue-broken" failed with exit code 127: sh: squeue-broken: not found; nothing submitted there',
    )
    expect(s.commands.filter((c) => c.line.startsWith("sbatch"))).toEqual([])
  })

  test("runSubmit() uses the site's submit_command through the shell, with its own redirection", async () => {
    const s = site(
      "[Cluster]\nscheduler = LSF\nsubmit_command = bsub <\nrunning_cmd = echo 0\nidle_cmd = echo 0\n",
    )
    server.state = [{ ...S1, count: 1 }]
    expect(await runSubmit(s.config, options(), s.deps)).toBe(0)
    expect(s.commands.filter((c) => c.line.startsWith("bsub"))).toEqual([
      { line: "bsub < glidein.lsf", cwd: expect.any(String) },
    ])
  })

  test("runSubmit() feeds LSF's script on stdin with the built-in command", async () => {
    const s = site("[Cluster]\nscheduler = lsf\nrunning_cmd = echo 0\nidle_cmd = echo 0\n")
    server.state = [{ ...S1, count: 1 }]
    expect(await runSubmit(s.config, options(), s.deps)).toBe(0)
    const bsub = s.commands.find((c) => c.line === "bsub")
    expect(bsub?.stdin).toEndWith("/glidein.lsf")
  })

  test("runSubmit() reads demand from --state-file and reports nothing", async () => {
    const s = site(SLURM)
    const file = join(s.dir, "state.json")
    writeFileSync(file, JSON.stringify([S3]))
    expect(await runSubmit(s.config, options({ stateFile: file, dryRun: true }), s.deps)).toBe(0)
    expect(s.stdout.join("")).toContain(`Demand from state file ${file}: 1 idle job in 1 shape.`)
    expect(server.monitoring).toEqual([])
  })

  test("runSubmit() refuses to submit without the glidein tarball", async () => {
    const s = site(SLURM)
    rmSync(join(s.dir, "glidein.tar.gz"))
    const error = await runSubmit(s.config, options(), s.deps).catch((e) => e)
    expect(error).toBeInstanceOf(ConfigError)
    expect(error.message).toContain('glidein.tar.gz" does not exist')
    expect(s.commands).toEqual([])
  })

  test("runSubmit() repeats rounds every delay seconds and keeps going through a bad one", async () => {
    const s = site(`[Glidein]\ndelay = 60\n${SLURM}`)
    const sleeps: number[] = []
    server.state = "not a list"
    s.deps.sleep = async (ms) => {
      sleeps.push(ms)
      if (sleeps.length === 2) throw new Error("stop")
      server.state = [S1]
    }
    await expect(runSubmit(s.config, options(), s.deps)).rejects.toThrow("stop")
    expect(sleeps).toEqual([60000, 60000])
    expect(s.stderr.join("")).toContain("demand rejected")
    // The good round's two glideins, one line each.
    expect(readJournal(s.paths.journal)).toHaveLength(2)
    // the lock is released when the loop ends
    const lock = await tryLock(s.paths.lock)
    expect(lock).toBeDefined()
    lock?.release()
    expect(readdirSync(s.paths.dir)).toContain("journal.jsonl")
  })

  test("runSubmit() in a loop frees the lock between rounds, so cancel can run, and skips a round it finds taken", async () => {
    const s = site(`[Glidein]\ndelay = 60\n${SLURM}`)
    const seen: string[] = []
    let held: Awaited<ReturnType<typeof tryLock>>
    s.deps.sleep = async () => {
      if (held || seen.length > 0) {
        held?.release()
        throw new Error("stop")
      }
      // Between rounds the lock is free: take it, as glidein cancel would, for the next round.
      held = await tryLock(s.paths.lock)
      seen.push(held ? "free" : "held")
    }
    await expect(runSubmit(s.config, options(), s.deps)).rejects.toThrow("stop")
    expect(seen).toEqual(["free"])
    expect(s.stderr.join("")).toContain(
      `another run for ${s.file} is still active (lock ${s.paths.lock}); this round does nothing`,
    )
    // The round that found the lock taken submitted nothing.
    expect(readJournal(s.paths.journal)).toHaveLength(3)
  })

  test("runSubmit() in a loop prunes old batch output in later rounds too", async () => {
    const s = site(`[Glidein]\ndelay = 60\n${SLURM}`)
    const start = new Date("2026-03-01T12:00:00Z").getTime()
    let now = start
    s.deps.now = () => new Date(now)
    const old = join(s.paths.outputDir, "glidein-7.out")
    let sleeps = 0
    s.deps.sleep = async () => {
      if (++sleeps === 2) throw new Error("stop")
      // Two days on, a glidein's output is fifteen days old.
      now = start + 2 * DAY_MS
      writeFileSync(old, "")
      const mtime = new Date(now - 15 * DAY_MS)
      utimesSync(old, mtime, mtime)
    }
    await expect(runSubmit(s.config, options(), s.deps)).rejects.toThrow("stop")
    expect(existsSync(old)).toBe(false)
  })

  test("runSubmit() names held and failed glideins once, and keeps them under max_total_jobs", async () => {
    server.state = [S1]
    const s = site(
      "[Glidein]\ndelay = 60\n[Cluster]\nscheduler = slurm\nmax_total_jobs = 3\n",
      (line) =>
        line.includes("--states SUSPENDED")
          ? { stdout: "46\n47_2\n" }
          : line.startsWith("sbatch")
            ? { stdout: "Submitted batch job 100\n" }
            : {},
    )
    let sleeps = 0
    s.deps.sleep = async () => {
      if (++sleeps === 2) throw new Error("stop")
    }
    await expect(runSubmit(s.config, options(), s.deps)).rejects.toThrow("stop")
    const warning =
      "glidein submit: [Cluster] warning: 2 glideins held, suspended or in an error state (46 47_2); they count toward max_total_jobs until released or removed\n"
    expect(s.stderr.filter((line) => line.includes("warning"))).toEqual([warning])
    // max_total_jobs 3 − 2 held: one glidein per round.
    const submits = readJournal(s.paths.journal).flatMap((r) =>
      r.kind === "submit" ? [r.count] : [],
    )
    expect(submits).toEqual([1, 1])
  })

  test("runSubmit() counts the journal's glideins by id, so a listing by user that misses them cannot make it submit more", async () => {
    server.state = [S1]
    // The batch system files the glideins under a name the listing by user does not ask for
    // (`user =` naming someone else did this): only the listings by id show them.
    const s = site("[Cluster]\nscheduler = slurm\nmax_idle_jobs = 2\n", (line) => {
      if (line.includes("--jobs=100,101") && line.includes("--states PENDING"))
        return { stdout: "100\n101\n" }
      if (line.includes("--jobs=100,101") && line.includes("%i %t"))
        return { stdout: "100 PD\n101 PD\n" }
      if (line.startsWith("sbatch")) return { stdout: "Submitted batch job 102\n" }
      return {}
    })
    ensureStateDir(s.paths, s.file)
    const resources = { cpus: 1, memoryMb: 2100, diskKb: 11264000, gpus: 0, walltimeS: 72000 }
    for (const id of ["100", "101"]) {
      appendJournal(s.paths.journal, {
        kind: "submit",
        time: "2026-03-01T11:00:00Z",
        partition: "Cluster",
        scheduler: "slurm",
        count: 1,
        resources,
        jobIds: [id],
      })
    }
    expect(await runSubmit(s.config, options(), s.deps)).toBe(0)
    // Two idle glideins against max_idle_jobs = 2: nothing more to submit, none marked finished.
    expect(s.commands.filter((c) => c.line.startsWith("sbatch"))).toEqual([])
    expect(readJournal(s.paths.journal).map((r) => r.kind)).toEqual(["submit", "submit"])
    expect(server.monitoring).toMatchObject([{ metrics: { glideins_idle: { Cluster: 2 } } }])
  })

  test("runSubmit() warns on every run when user = is not the account it runs as", async () => {
    server.state = [S1]
    const body =
      "[Cluster]\nscheduler = slurm\nuser = nobody-like-this-account\nmax_idle_jobs = 1\n"
    // The queue, asked by id, holds the glidein the real run submits; asked by user, nothing.
    const s = site(body, (line) => {
      if (line.startsWith("sbatch")) return { stdout: "Submitted batch job 5\n" }
      if (line.includes("--jobs=5") && line.includes("%i %t")) return { stdout: "5 PD\n" }
      if (line.includes("--jobs=5") && line.includes("PENDING")) return { stdout: "5\n" }
      return {}
    })
    for (const dryRun of [true, false]) {
      s.stderr.length = 0
      expect(await runSubmit(s.config, options({ dryRun }), s.deps)).toBe(0)
      expect(s.stderr[0]).toMatch(
        /^glidein submit: warning: \S+site\.ini:\d+: \[Cluster\] user: "nobody-like-this-account", but glidein runs as \S+, and the batch system files its glideins under /,
      )
    }
    // The glidein went out under the running account: the next run counts it by id.
    s.commands.length = 0
    expect(await runSubmit(s.config, options(), s.deps)).toBe(0)
    expect(s.commands.filter((c) => c.line.startsWith("sbatch"))).toEqual([])
  })

  test("runSubmit() journals a glidein whose sbatch printed its job id and then failed, and says so", async () => {
    server.state = [S1]
    let n = 200
    const s = site(
      "[Cluster]\nscheduler = slurm\nrunning_cmd = echo 0\nidle_cmd = echo 0\nlimit_per_submit = 2\n",
      (line) =>
        line.startsWith("sbatch")
          ? {
              exitCode: 1,
              stdout: `Submitted batch job ${n++}\n`,
              stderr: "sbatch: error: Socket timed out on send/recv operation\n",
            }
          : {},
    )
    expect(await runSubmit(s.config, options(), s.deps)).toBe(0)
    expect(readJournal(s.paths.journal).map((r) => r.jobIds)).toEqual([["200"], ["201"]])
    const err = s.stderr.join("")
    expect(err).toContain(
      '[Cluster] "sbatch glidein.slurm" failed with exit code 1: sbatch: error: Socket timed out on send/recv operation, but printed job id 200: the batch system took 1 glidein, and the journal has it',
    )
    expect(err).toContain("[Cluster] submitted 2 glideins as 200 201")
    expect(server.monitoring).toMatchObject([{ metrics: { glideins_launched: { Cluster: 2 } } }])
  })

  test("runSubmit() stopped by a signal journals the glideins submitted so far and starts no more", async () => {
    server.state = [{ ...S1, count: 10 }]
    const stop = new AbortController()
    let n = 300
    const s = site(
      "[Cluster]\nscheduler = slurm\nrunning_cmd = echo 0\nidle_cmd = echo 0\nlimit_per_submit = 10\n",
      (line) => {
        if (!line.startsWith("sbatch")) return {}
        // SIGTERM arrives while the third sbatch runs.
        if (n === 302) stop.abort("SIGTERM")
        return { stdout: `Submitted batch job ${n++}\n` }
      },
    )
    s.deps.signal = stop.signal
    expect(await runSubmit(s.config, options(), s.deps)).toBe(143)
    expect(readJournal(s.paths.journal).map((r) => r.jobIds)).toEqual([["300"], ["301"], ["302"]])
    expect(s.commands.filter((c) => c.line.startsWith("sbatch"))).toHaveLength(3)
    const err = s.stderr.join("")
    expect(err).toContain("[Cluster] stopped by a signal; 7 glideins not submitted")
    expect(err).toContain(
      `stopped by SIGTERM; every glidein submitted before it is in the journal ${s.paths.journal}`,
    )
    // Whoever sent the signal wants the process gone: no report.
    expect(server.monitoring).toEqual([])
  })

  test("runSubmit() says which count failed, and reports that partition as not counted, never as 0", async () => {
    server.state = [S1]
    const s = site("[Cluster]\nscheduler = slurm\n", (line) =>
      line.startsWith("squeue") ? { exitCode: 127, stderr: "squeue: command not found\n" } : {},
    )
    expect(await runSubmit(s.config, options(), s.deps)).toBe(1)
    const err = s.stderr.join("")
    expect(err).toContain('glidein submit: [Cluster] "squeue --noheader --array --user ')
    expect(err).toContain(
      "failed with exit code 127: squeue: command not found; nothing submitted there",
    )
    expect(err).toContain("[Cluster] could not be counted, so nothing goes there")
    expect(err).not.toContain("no partition is configured")
    expect(server.monitoring).toMatchObject([
      {
        metrics: {
          glideins_running: {},
          glideins_idle: {},
          glideins_launched: { Cluster: 0 },
          count_failed: { Cluster: 1 },
        },
      },
    ])
  })

  test("runSubmit() from cron says the same notice once: unplaceable demand again is left unsaid until it changes", async () => {
    const s = site(SLURM, (line) =>
      line.startsWith("sbatch") ? { stdout: "Submitted batch job 9\n" } : {},
    )
    const cannot = "cannot place 5 jobs of 8 cpus, 64000 MB, disk 100000 MB, 0 gpus"
    expect(await runSubmit(s.config, options(), s.deps)).toBe(0)
    expect(s.stderr.join("")).toContain(cannot)
    // The next run: the same jobs still cannot run here, and nothing else changed.
    s.stderr.length = 0
    server.state = [{ ...S4, count: 6 }]
    expect(await runSubmit(s.config, options(), s.deps)).toBe(0)
    expect(s.stderr).toEqual([])
    // Another shape this site cannot run is news.
    server.state = [S4, { ...S4, memory: 96000 }]
    expect(await runSubmit(s.config, options(), s.deps)).toBe(0)
    expect(s.stderr.join("")).toContain("cannot place 5 jobs of 8 cpus, 96000 MB")
    expect(s.stderr.join("")).not.toContain(cannot)
    // A dry run, read at a terminal, says everything.
    s.stderr.length = 0
    s.stdout.length = 0
    expect(await runSubmit(s.config, options({ dryRun: true }), s.deps)).toBe(0)
    expect(s.stdout.join("")).toContain("8 cpus, 64000 MB")
  })

  test("runSubmit() ignores a FIFO planted where it keeps its notices, instead of hanging", async () => {
    const s = site(SLURM)
    mkdirSync(s.paths.dir, { recursive: true, mode: 0o700 })
    Bun.spawnSync(["mkfifo", s.paths.notices])
    expect(await runSubmit(s.config, options(), s.deps)).toBe(0)
    expect(s.stderr.join("")).toContain("cannot place 5 jobs")
  })

  test("runSubmit() sends no glidein from a tarball that cannot join the pool, and a dry run says why", async () => {
    server.state = [S1]
    const s = site(SLURM)
    // A tarball without a pool credential: every glidein would be turned away by the collector.
    const bare = join(s.dir, "bare.tar.gz")
    const strip = `gzip -dc < ${s.dir}/glidein.tar.gz | tar --delete passwdfile | gzip > ${bare}`
    expect(Bun.spawnSync(["sh", "-c", strip]).exitCode).toBe(0)
    writeFileSync(join(s.dir, "glidein.tar.gz"), await Bun.file(bare).bytes())
    await expect(runSubmit(s.config, options(), s.deps)).rejects.toThrow(
      "carries no pool credential, so no glidein could join the pool (add one with glidein tarball inject-password); nothing submitted",
    )
    expect(s.commands.filter((c) => c.line.startsWith("sbatch"))).toEqual([])
    expect(await runSubmit(s.config, options({ dryRun: true }), s.deps)).toBe(0)
    expect(s.stderr.join("")).toContain("carries no pool credential")
    expect(s.stderr.join("")).toContain("a real run refuses this")
  })

  test("runSubmit() removes this config's glideins queued longer than max_queued_hours, never running ones", async () => {
    server.state = []
    const s = site("[Cluster]\nscheduler = slurm\nmax_queued_hours = 2\n", (line) => {
      if (line.includes("--states PENDING")) return { stdout: "100\n101\n" }
      if (line.includes("--states RUNNING")) return { stdout: "102\n" }
      if (line.includes("%i %t")) return { stdout: "100 PD\n101 PD\n102 R\n" }
      return {}
    })
    ensureStateDir(s.paths, s.file)
    const resources = { cpus: 1, memoryMb: 2100, diskKb: 11264000, gpus: 0, walltimeS: 72000 }
    // The run's clock is 2026-03-01T12:00:00Z: 100 and 102 went in 5 h before, 101 1 h before.
    for (const [time, id] of [
      ["2026-03-01T07:00:00Z", "100"],
      ["2026-03-01T11:00:00Z", "101"],
      ["2026-03-01T07:00:00Z", "102"],
    ] as const) {
      appendJournal(s.paths.journal, {
        kind: "submit",
        time,
        partition: "Cluster",
        scheduler: "slurm",
        count: 1,
        resources,
        jobIds: [id],
      })
    }
    expect(await runSubmit(s.config, options(), s.deps)).toBe(0)
    expect(s.commands.filter((c) => c.line.startsWith("scancel")).map((c) => c.line)).toEqual([
      "scancel 100",
    ])
    expect(s.stderr.join("")).toContain(
      "glidein submit: [Cluster] removed 1 glidein queued longer than 2 h (max_queued_hours): 100\n",
    )
    const cancels = readJournal(s.paths.journal).filter((r) => r.kind === "cancel")
    expect(cancels.map((r) => r.jobIds)).toEqual([["100"]])
  })
})
