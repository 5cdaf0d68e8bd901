/**
 * Faults around a submit run, with real processes: submit and count commands that fail, hang,
 * leave a daemon behind or print no job id; a disk that fills up before or during a run (a
 * small tmpfs); and two `glidein submit` processes started at once on the same config.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test"
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { GlideinError } from "../../errors.ts"
import { cancelGlideins } from "../cancel/cancel-glideins.ts"
import { runCommand } from "../lib/run-command.ts"
import { SMALL_DISK_SKIP, type SmallDisk, smallDisk } from "../lib/small-disk.ts"
import { readJournal } from "../site/journal.ts"
import { ensureStateDir, statePaths } from "../site/state-dir.ts"
import { runSubmit } from "./run-submit.ts"
import { realDeps, shellScript, startFakeServer, type TestSite, testSite } from "./test-site.ts"

if (SMALL_DISK_SKIP) console.warn(`client faults: disk-full tests skipped: ${SMALL_DISK_SKIP}`)

const REPO = resolve(import.meta.dir, "../../..")
const ROW = { cpus: 1, memory: 1000, disk: 10000, gpus: 0, os: null, count: 1 }

/** Two Slurm partitions, `a` and `b`, each taking one glidein. */
const TWO_PARTITIONS = `[Cluster]
scheduler = slurm
partitions = a, b
limit_per_submit = 1
[a]
partition = a
[b]
partition = b
`

let root: string
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "glidein-faults-"))
})
afterAll(() => rmSync(root, { recursive: true, force: true }))

const sites: TestSite[] = []
const cleanups: (() => void)[] = []
afterEach(() => {
  for (const s of sites.splice(0)) s.remove()
  for (const c of cleanups.splice(0)) c()
})

/**
 * A site whose `sbatch` and `squeue` are the given shell script bodies on PATH, with demand
 * from a state file. `$LOG` is a file the scripts may write to.
 */
function site(
  scripts: { sbatch: string; squeue?: string },
  options: { body?: string; stateRoot?: string; demand?: unknown[] } = {},
) {
  const s = testSite("http://127.0.0.1:9/jsonrpc", options.body ?? TWO_PARTITIONS)
  sites.push(s)
  const tools = join(s.dir, "tools")
  mkdirSync(tools)
  shellScript(tools, "sbatch", scripts.sbatch)
  shellScript(tools, "squeue", scripts.squeue ?? "exit 0\n")
  const stateFile = join(s.dir, "demand.json")
  writeFileSync(stateFile, JSON.stringify(options.demand ?? [{ ...ROW, count: 2 }]))
  const log = join(s.dir, "log")
  const stateRoot = options.stateRoot ?? s.stateRoot
  const stderr: string[] = []
  const deps = realDeps(s, tools, stderr, { stateRoot, env: { LOG: log } })
  const paths = statePaths(s.file, stateRoot)
  return {
    ...s,
    paths,
    deps,
    log,
    stderrText: () => stderr.join(""),
    submit: () =>
      runSubmit(s.config, { dryRun: false, json: false, assumeEmpty: false, stateFile }, deps),
  }
}

/** Whether `pid` is a live process (a zombie waiting for its parent counts as gone). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z"
  } catch {
    return false
  }
}

async function untilGone(pids: number[]): Promise<number[]> {
  for (let i = 0; i < 100 && pids.some(alive); i++) await Bun.sleep(20)
  return pids.filter(alive)
}

function killLater(pidFile: string): void {
  cleanups.push(() => {
    if (!existsSync(pidFile)) return
    for (const pid of readFileSync(pidFile, "utf8").split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), "SIGKILL")
      } catch {
        // already gone
      }
    }
  })
}

/** Files whose names say they are temporary, anywhere under `dir`. */
function temporaryFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => /\.tmp($|-)/.test(f))
}

describe("runSubmit() with a submit command that misbehaves", () => {
  test("runSubmit() reports a failing submit command with its stderr and submits the other partition", async () => {
    const s = site({
      sbatch: `case "$PWD" in
  */submit/a/*) echo "sbatch: error: Batch job submission failed: Invalid account" >&2; exit 1 ;;
esac
echo "Submitted batch job 77"
`,
    })
    expect(await s.submit()).toBe(1)
    expect(s.stderrText()).toBe(
      'glidein submit: [a] "sbatch glidein.slurm" failed with exit code 1: sbatch: error: Batch job submission failed: Invalid account (1 glidein not submitted)\n' +
        "glidein submit: [b] submitted 1 glidein as 77\n",
    )
    expect(readJournal(s.paths.journal).map((r) => [r.partition, r.jobIds])).toEqual([
      ["b", ["77"]],
    ])
  })

  test("runSubmit() shows a submit command's carriage returns and terminal escapes instead of obeying them", async () => {
    const s = site({
      sbatch:
        'printf "sbatch: error: \\033[31mdenied\\033[0m\\rglidein submit: [b] submitted 9\\n" >&2; exit 1\n',
    })
    expect(await s.submit()).toBe(1)
    // Printed as text, the escapes can neither colour the terminal nor overwrite the line.
    const said = "sbatch: error: \\u001b[31mdenied\\u001b[0m\\u000dglidein submit: [b] submitted 9"
    expect(s.stderrText()).toBe(
      ["a", "b"]
        .map(
          (p) =>
            `glidein submit: [${p}] "sbatch glidein.slurm" failed with exit code 1: ${said} (1 glidein not submitted)\n`,
        )
        .join(""),
    )
  })

  test("runSubmit() kills a hanging submit command's whole process group at its timeout and goes on", async () => {
    const pids = join(root, "hang.pids")
    killLater(pids)
    const s = site({
      sbatch: `case "$PWD" in
  */submit/a/*) echo $$ >>${pids}; sleep 300 & echo $! >>${pids}; (sleep 300; :) & echo $! >>${pids}; wait ;;
esac
echo "Submitted batch job 78"
`,
    })
    s.deps.submitTimeoutMs = 500
    expect(await s.submit()).toBe(1)
    expect(s.stderrText()).toBe(
      'glidein submit: [a] "sbatch glidein.slurm" gave no answer within 0.5 s (it may have submitted 1 glidein all the same)\n' +
        "glidein submit: [a] recorded in the journal as of unknown outcome: if they exist, the next run counts them and glidein cancel lists them for removal\n" +
        "glidein submit: [b] submitted 1 glidein as 78\n",
    )
    // The batch system may have taken the job before the command was killed: cancel must
    // know to look for it.
    const journal = readJournal(s.paths.journal).map(
      (r) => r.kind === "submit" && [r.partition, r.count, r.jobIds, r.outcome],
    )
    expect(journal.sort()).toEqual([
      ["a", 1, [], "unknown"],
      ["b", 1, ["78"], undefined],
    ])
    const started = readFileSync(pids, "utf8").split("\n").filter(Boolean).map(Number)
    expect(started).toHaveLength(3)
    expect(await untilGone(started)).toEqual([])
  })

  test("runSubmit() does not wait for a daemon that a submit command left holding its output", async () => {
    const pid = join(root, "daemon.pid")
    killLater(pid)
    // The daemon keeps stdout and stderr open for five minutes, in a session of its own.
    const s = site({
      sbatch: `echo "Submitted batch job 79"\nsetsid sleep 300 &\necho $! >>${pid}\n`,
    })
    expect(await s.submit()).toBe(0)
    expect(s.stderrText()).toBe(
      "glidein submit: [a] submitted 1 glidein as 79\nglidein submit: [b] submitted 1 glidein as 79\n",
    )
  })

  test("runSubmit() journals glideins whose submit command printed no job id, says so, and cancel reports them", async () => {
    const s = site({ sbatch: 'echo "job accepted"\n' })
    expect(await s.submit()).toBe(0)
    expect(s.stderrText()).toBe(
      'glidein submit: [a] submitted 1 glidein, but "sbatch glidein.slurm" printed no job id: glidein cancel cannot remove them by id\n' +
        'glidein submit: [b] submitted 1 glidein, but "sbatch glidein.slurm" printed no job id: glidein cancel cannot remove them by id\n',
    )
    // In the order the submissions finished.
    const journal = readJournal(s.paths.journal).map(
      (r) => r.kind === "submit" && [r.partition, r.count, r.jobIds],
    )
    expect(journal.sort()).toEqual([
      ["a", 1, []],
      ["b", 1, []],
    ])
    const out: string[] = []
    const err: string[] = []
    const code = await cancelGlideins(
      s.config,
      { dryRun: false },
      {
        run: runCommand,
        env: s.deps.env,
        now: s.deps.now,
        sleep: s.deps.sleep,
        stdout: (t) => out.push(t),
        stderr: (t) => err.push(t),
        ...(s.deps.stateRoot ? { stateRoot: s.deps.stateRoot } : {}),
      },
    )
    expect(code).toBe(0)
    expect(err.join("")).toBe(
      'glidein cancel: [a] 1 glidein went out without a job id and cannot be removed by id; they are named "glidein" in the batch system\n' +
        'glidein cancel: [b] 1 glidein went out without a job id and cannot be removed by id; they are named "glidein" in the batch system\n',
    )
    expect(out.join("")).toContain("No glideins of")
  })

  test("runSubmit() skips a partition whose count command hangs, killed at its timeout", async () => {
    const s = site(
      { sbatch: 'echo "Submitted batch job 80"\n' },
      {
        body: TWO_PARTITIONS.replace("[a]\n", "[a]\nrunning_cmd = sleep 300\nidle_cmd = echo 0\n"),
      },
    )
    s.deps.countTimeoutMs = 500
    expect(await s.submit()).toBe(1)
    expect(s.stderrText()).toBe(
      'glidein submit: [a] running_cmd "sleep 300" gave no answer within 0.5 s; nothing submitted there\n' +
        "glidein submit: [b] submitted 1 glidein as 80\n",
    )
  })
})

describe.skipIf(SMALL_DISK_SKIP !== undefined)("runSubmit() on a full disk", () => {
  let disk: SmallDisk
  beforeAll(() => {
    disk = smallDisk(256)!
  })
  afterAll(() => disk.remove())
  afterEach(() => {
    for (const name of readdirSync(disk.dir)) rmSync(join(disk.dir, name), { recursive: true })
  })

  test("runSubmit() on a disk already full says so in one line and leaves nothing behind", async () => {
    disk.fill()
    const s = site({ sbatch: 'echo "Submitted batch job 81"\n' }, { stateRoot: disk.dir })
    const error = await s.submit().catch((e) => e)
    expect(error).toBeInstanceOf(GlideinError)
    expect(error.exitCode).toBe(1)
    expect(error.message).toBe(
      `cannot use the state folder ${s.paths.dir} (no space left on the device); set GLIDEIN_STATE_DIR to a private folder of yours`,
    )
    expect(existsSync(s.log)).toBe(false)
    // An empty folder, no half-written note and no temporary file.
    expect(readdirSync(s.paths.dir)).toEqual([])
  })

  test("runSubmit() with no room for the submit files submits nothing and leaves no partial file", async () => {
    const s = site(
      { sbatch: 'echo ran >>"$LOG"; echo "Submitted batch job 82"\n' },
      {
        stateRoot: disk.dir,
      },
    )
    ensureStateDir(s.paths, s.file)
    disk.fill()
    expect(await s.submit()).toBe(1)
    const lines = s.stderrText().trimEnd().split("\n")
    expect(lines).toHaveLength(2)
    for (const [i, p] of ["a", "b"].entries()) {
      expect(lines[i]).toStartWith(
        `glidein submit: [${p}] cannot write the submit files in ${s.paths.submitRoot}/${p}/`,
      )
      expect(lines[i]).toContain("ENOSPC")
    }
    expect(existsSync(s.log)).toBe(false)
    expect(existsSync(s.paths.journal)).toBe(false)
    expect(temporaryFiles(disk.dir)).toEqual([])
    // Whatever exists under submit/ is whole: nothing but folders here.
    const files = readdirSync(s.paths.submitRoot, { recursive: true, withFileTypes: true })
    expect(files.filter((e) => e.isFile())).toEqual([])
  })

  test("runSubmit() when the disk fills during the submission keeps the journal to whole lines", async () => {
    // sbatch submits, then the disk fills up (another user's job, say) before the journal line.
    const s = site(
      {
        sbatch: `cat /dev/zero >>${join(disk.dir, "filler")} 2>/dev/null\necho "Submitted batch job 83"\n`,
      },
      {
        stateRoot: disk.dir,
        demand: [ROW],
        body: TWO_PARTITIONS.replace("partitions = a, b", "partitions = a"),
      },
    )
    ensureStateDir(s.paths, s.file)
    // A journal that ends 40 bytes short of a page: the next line would be cut there.
    const record = (id: string) =>
      `${JSON.stringify({ kind: "cancel", time: "2026-01-01T00:00:00Z", partition: "a", jobIds: [id] })}\n`
    const first = record("1")
    const before = first + record("2".repeat(4096 - 40 - first.length - record("").length))
    expect(before.length).toBe(4096 - 40)
    writeFileSync(s.paths.journal, before)
    expect(await s.submit()).toBe(1)
    expect(s.stderrText()).toStartWith(
      `glidein submit: [a] submitted 1 glidein as 83\nglidein submit: [a] cannot record 1 glidein (83) in the journal ${s.paths.journal}: `,
    )
    expect(s.stderrText()).toEndWith(
      "; glidein cancel will not know them, and nothing more is submitted\n",
    )
    expect(readFileSync(s.paths.journal, "utf8")).toBe(before)
    expect(temporaryFiles(disk.dir)).toEqual([])
  })
})

/**
 * An HTCondor site against `server` whose condor_q lists nothing and whose condor_submit
 * submits one glidein as cluster `cluster`; `submit()` is one real run.
 */
function htcondorSite(server: { url: string }, cluster: number) {
  const s = testSite(server.url, "[Cluster]\nscheduler = htcondor\n")
  sites.push(s)
  const tools = join(s.dir, "tools")
  mkdirSync(tools)
  shellScript(tools, "condor_q", "exit 0\n")
  shellScript(tools, "condor_submit", `echo "1 job(s) submitted to cluster ${cluster}."\n`)
  return {
    async submit() {
      const stderr: string[] = []
      const code = await runSubmit(
        s.config,
        { dryRun: false, json: false, assumeEmpty: false },
        {
          run: runCommand,
          env: { ...s.env, PATH: `${tools}:/usr/bin:/bin` },
          now: () => new Date("2026-03-01T12:00:00Z"),
          sleep: async () => {},
          stdout: () => {},
          stderr: (t) => stderr.push(t),
          startScript: "#!/bin/sh\n",
          stateRoot: s.stateRoot,
        },
      )
      return { code, stderr }
    },
  }
}

describe("runSubmit() where pyglidein crashed", () => {
  test("runSubmit() needs only condor_q and condor_submit, and reports after submitting", async () => {
    // pyglidein needed the htcondor Python bindings for an idle-time metric and crashed after
    // submitting without them, so the server never heard of the glideins.
    const server = startFakeServer()
    cleanups.push(() => server.stop())
    server.state = [ROW]
    const { code, stderr } = await htcondorSite(server, 55).submit()
    expect(code).toBe(0)
    // A pyglidein server has no get_allotment: said once, and the whole table is planned.
    expect(stderr).toEqual([
      expect.stringContaining("has no get_allotment (a pyglidein server?)"),
      "glidein submit: [Cluster] submitted 1 glidein as 55\n",
    ])
    expect(server.monitoring).toMatchObject([
      { metrics: { glideins_running: { Cluster: 0 }, glideins_launched: { Cluster: 1 } } },
    ])
  })

  test("runSubmit() says once that the pool flags the site, and submits the probe it is allotted", async () => {
    const server = startFakeServer()
    cleanups.push(() => server.stop())
    server.state = [{ ...ROW, count: 5 }]
    const reason =
      "its glideins run at the site but none joined the pool in 60 min: likely \u001b[31ma wrong credential"
    server.allotment = {
      uuid: "x",
      at: 0,
      total: 1,
      state: "flagged",
      flag: reason,
      partitions: [{ partition: "Cluster", count: 1, rows: [ROW] }],
      terms: [{ name: "flagged", value: 1, note: reason }],
    }
    const once = htcondorSite(server, 56).submit
    const first = await once()
    expect(first.code).toBe(0)
    expect(first.stderr[0]).toStartWith(
      "glidein submit: warning: the pool flags this site: its glideins run",
    )
    // The server's text is shown, not obeyed by the terminal.
    expect(first.stderr.join("")).not.toContain("\u001b")
    expect(first.stderr[1]).toBe("glidein submit: [Cluster] submitted 1 glidein as 56\n")
    // The next run, with the same reason: quiet about it.
    const second = await once()
    expect(second.stderr.some((l) => l.includes("flags this site"))).toBe(false)
  })

  test("runSubmit() with send_startd_logs and no S3 keys submits, with a note", async () => {
    // pyglidein stopped before its first submission when the secrets held no S3 keys.
    const s = site(
      { sbatch: 'echo "Submitted batch job 90"\n' },
      {
        body: `[StartdLogging]\nsend_startd_logs = True\nurl = s3.example.org\nbucket = logs\n${TWO_PARTITIONS.replace("partitions = a, b", "partitions = a")}`,
        demand: [ROW],
      },
    )
    expect(await s.submit()).toBe(0)
    expect(s.stderrText()).toBe(
      "glidein submit: note: send_startd_logs = True, but no [StartdLogging] access_key and secret_key came with --secrets; glidein logs stay in the batch output files\n" +
        "glidein submit: [a] submitted 1 glidein as 90\n",
    )
  })
})

describe("runSubmit() with send_startd_logs and S3 keys", () => {
  const LOGGING = `[Glidein]\nsite = Bench Site\n[StartdLogging]\nsend_startd_logs = True\nurl = s3.example.org\nbucket = glidein-logs\nregion = eu-west-1\n`
  const keys = {
    accessKey: "AKIDEXAMPLE",
    secretKey: "s3cr3t/KEY+never-shown",
    file: "secrets.ini",
  }

  test("runSubmit() gives every glidein a signed upload form for the site's prefix, never the keys", async () => {
    const s = site(
      { sbatch: 'echo "Submitted batch job 91"\n' },
      { body: `${LOGGING}${TWO_PARTITIONS}`, demand: [{ ...ROW, count: 2 }] },
    )
    s.deps.s3Keys = keys
    expect(await s.submit()).toBe(0)
    expect(s.stderrText()).toBe(
      "glidein submit: [a] submitted 1 glidein as 91\nglidein submit: [b] submitted 1 glidein as 91\n",
    )
    const scripts = readdirSync(s.paths.submitRoot, { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith("glidein.slurm"))
      .map((f) => readFileSync(join(s.paths.submitRoot, f), "utf8"))
    expect(scripts).toHaveLength(2)
    for (const script of scripts) {
      expect(script).toContain("LOG_UPLOAD_URL='https://s3.example.org/glidein-logs/'")
      expect(script).toContain("LOG_UPLOAD_PREFIX='Bench_Site_'")
      expect(script).toContain(
        "LOG_UPLOAD_CREDENTIAL='AKIDEXAMPLE/20260301/eu-west-1/s3/aws4_request'",
      )
      expect(script).toMatch(/LOG_UPLOAD_SIGNATURE='[0-9a-f]{64}'/)
      expect(script).not.toContain("s3cr3t")
    }
    // Signed once for the round, at the run's clock, for a week.
    const policy = /LOG_UPLOAD_POLICY='([A-Za-z0-9+/=]+)'/.exec(scripts[0]!)![1]!
    expect(JSON.parse(Buffer.from(policy, "base64").toString()).expiration).toBe(
      "2026-03-08T12:00:00.000Z",
    )
    expect(scripts[1]).toContain(policy)
  })

  test("runSubmit() refuses a region S3 would not take even before the keys are there", async () => {
    const s = site(
      { sbatch: 'echo "$PWD" >>"$LOG"\necho "Submitted batch job 93"\n' },
      { body: `${LOGGING.replace("eu-west-1", "Mars Base")}${TWO_PARTITIONS}` },
    )
    const error = await s.submit().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(GlideinError)
    expect((error as Error).message).toMatch(
      /\/site\.ini:\d+: \[StartdLogging\] region: "Mars Base" is not a region name like us-east-1$/,
    )
    expect(existsSync(s.log)).toBe(false)
  })

  test("runSubmit() refuses a bucket S3 would not take before submitting anything, naming the line", async () => {
    const s = site(
      { sbatch: 'echo "$PWD" >>"$LOG"\necho "Submitted batch job 92"\n' },
      { body: `${LOGGING.replace("glidein-logs", "Glidein_Logs")}${TWO_PARTITIONS}` },
    )
    s.deps.s3Keys = keys
    const error = await s.submit().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(GlideinError)
    expect((error as Error).message).toMatch(
      /\/site\.ini:\d+: \[StartdLogging\] bucket: "Glidein_Logs" is not an S3 bucket name/,
    )
    expect(existsSync(s.log)).toBe(false)
  })
})

describe("two glidein submit processes on one config", () => {
  test("glidein submit started twice at once: one submits, the other exits 0 saying another run is active", async () => {
    const s = site(
      {
        sbatch: 'echo "$PWD" >>"$LOG"\necho "Submitted batch job $$"\n',
        // The run holding the lock waits in its count until the test lets it go on.
        squeue: 'while [ ! -e "$LOG.go" ]; do sleep 0.02; done\n',
      },
      { body: TWO_PARTITIONS },
    )
    const stateRoot = join(s.dir, "state")
    const stateFile = join(s.dir, "demand.json")
    const env = { ...s.deps.env, GLIDEIN_STATE_DIR: stateRoot }
    const spawn = () =>
      Bun.spawn(
        [
          process.execPath,
          join(REPO, "src/main.ts"),
          "submit",
          "--config",
          s.file,
          "--state-file",
          stateFile,
        ],
        { cwd: s.dir, env, stdout: "pipe", stderr: "pipe" },
      )
    const rounds = 5
    for (let round = 1; round <= rounds; round++) {
      rmSync(`${s.log}.go`, { force: true })
      const runs = [spawn(), spawn()]
      const first = await Promise.race(runs.map((r, i) => r.exited.then(() => i)))
      const loser = runs[first]!
      const winner = runs[1 - first]!
      // A real run's lines start with the time.
      const unstamped = (text: string) => text.replace(/^\S+ (?=glidein submit: )/gm, "")
      expect(unstamped(await new Response(loser.stderr).text())).toBe(
        `glidein submit: another run for ${s.file} is still active (lock ${s.paths.lock}); this one does nothing\n`,
      )
      expect(loser.exitCode).toBe(0)
      writeFileSync(`${s.log}.go`, "")
      expect(await winner.exited).toBe(0)
      expect(unstamped(await new Response(winner.stderr).text())).toMatch(
        /^glidein submit: \[a\] submitted 1 glidein as \d+\nglidein submit: \[b\] submitted 1 glidein as \d+\n$/,
      )
      expect(readFileSync(s.log, "utf8").trimEnd().split("\n")).toHaveLength(2 * round)
    }
    const text = readFileSync(s.paths.journal, "utf8")
    // Each round also marks the last round's glideins finished: the fake queue has forgotten them.
    const lines = text
      .trimEnd()
      .split("\n")
      .filter((line) => JSON.parse(line).kind === "submit")
    expect(lines).toHaveLength(2 * rounds)
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ kind: "submit", count: 1 })
  }, 60_000)
})
