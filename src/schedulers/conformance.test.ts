// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings hold shell syntax
/**
 * The conformance suite: the same tests over every scheduler adapter, on each of its duties:
 * settings read or refused, queue choice, sizing and memory units, rendering, and reading its
 * system's output (submit, count, live listings). Rendered job scripts are run for real with
 * `sh` (the directives are comments to a shell), with a stand-in glidein_start.sh that
 * records the environment it was started with.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { ConfigError } from "../errors.ts"
import { type ConfigKeys, jobSpec, settingsSource } from "./fixtures.ts"
import { SCHEDULERS, schedulerFor } from "./index.ts"
import type {
  GlideinResources,
  GlideinState,
  JobSpec,
  RenderedJob,
  Scheduler,
  SchedulerName,
} from "./types.ts"

const TESTDATA = path.join(import.meta.dir, "testdata")

/** The submit file's text. */
function submitText(job: RenderedJob): string {
  return job.files[job.submitFile]!
}

/** Glideins per submit-command run, read back from the rendered array directive. */
const TASKS: Record<SchedulerName, RegExp> = {
  slurm: /^#SBATCH --array=1-(\d+)$/m,
  pbs: /^#PBS -t 1-(\d+)$/m,
  sge: /^#\$ -t 1-(\d+)$/m,
  uge: /^#\$ -t 1-(\d+)$/m,
  lsf: /^#BSUB -J "glidein\[1-(\d+)\]"$/m,
  htcondor: /^queue (\d+)$/m,
}

function tasksPerRun(s: Scheduler, job: RenderedJob): number {
  const m = TASKS[s.name].exec(submitText(job))
  return m ? Number(m[1]) : 1
}

/** The file that runs in the job: the script itself, or HTCondor's wrapper. */
function jobScript(job: RenderedJob): { name: string; text: string } {
  const name = Object.keys(job.files).find((f) => f !== job.submitFile) ?? job.submitFile
  return { name, text: job.files[name]! }
}

/** Values no quoting mistake survives. `$NAME`/`${NAME}` are meant to expand (pyglidein's
 *  CustomEnv did); everything else must arrive as written. */
function hostileEnv(dir: string): Record<string, string> {
  const pwned = path.join(dir, "pwned")
  return {
    QUOTE: "it's",
    DQUOTE: 'say "hi"',
    BACKTICK: `\`touch ${pwned}\``,
    SUBST: `$(touch ${pwned})`,
    BACKSLASH: "back\\slash\\",
    NEWLINE: "two\nlines",
    GLOB: "*",
    SEMICOLON: `; touch ${pwned}; #`,
    AND: `x && touch ${pwned}`,
    PIPE: `x | touch ${pwned}`,
    REDIRECT: `> ${pwned}`,
    DOLLARS: "cost $5 and $",
    DEFAULTED: `\${X:-$(touch ${pwned})}`,
    EXPANDED: "pre-$GLIDEIN_TEST-${GLIDEIN_TEST}-post",
    TILDE: "~",
    SPACES: "  spaced  ",
    EMPTY: "",
    UNICODE: "ünïcödé",
  }
}

interface Run {
  status: number
  env: Record<string, string>
  cwd: string
  stdout: string
}

/** A stand-in glidein_start.sh that records its environment and directory in `out`. */
function recordingStartScript(out: string): string {
  return `#!/bin/sh\ncat /proc/$$/environ > '${out}/env'\npwd > '${out}/pwd'\nexit 7\n`
}

/**
 * Writes the rendered files and starts the job the way its batch system would (for HTCondor:
 * the wrapper inside a sandbox holding the transferred files), with `startScript` standing in
 * for glidein_start.sh.
 */
async function startJob(
  s: Scheduler,
  job: JobSpec,
  root: string,
  startScript: string,
  batchEnv: Record<string, string> = {},
) {
  const rendered = s.render(job)
  await writeFile(job.paths.startScript, startScript)
  const script = jobScript(rendered)
  let cwd = job.paths.submitDir
  if (s.name === "htcondor") {
    cwd = path.join(root, "sandbox")
    await mkdir(cwd, { recursive: true })
    await writeFile(path.join(cwd, "glidein_start.sh"), startScript)
    await writeFile(path.join(cwd, "glidein.tar.gz"), "")
  }
  const file = path.join(cwd, script.name)
  await writeFile(file, script.text)
  await chmod(file, 0o755)
  return Bun.spawn(["sh", file], {
    cwd,
    env: {
      PATH: "/usr/bin:/bin",
      HOME: root,
      TMPDIR: path.join(root, "scratch"),
      GLIDEIN_TEST: "expanded-value",
      _CONDOR_SCRATCH_DIR: cwd,
      ...batchEnv,
    },
    stdout: "pipe",
    stderr: "pipe",
  })
}

/** Runs the job to its end with the recording stand-in; what glidein_start.sh saw. */
async function runJob(
  s: Scheduler,
  job: JobSpec,
  root: string,
  batchEnv: Record<string, string> = {},
): Promise<Run> {
  const out = path.join(root, "recorded")
  await mkdir(out, { recursive: true })
  const proc = await startJob(s, job, root, recordingStartScript(out), batchEnv)
  const [status, stdout] = await Promise.all([proc.exited, new Response(proc.stdout).text()])
  const raw = await readFile(path.join(out, "env"), "utf8")
  const env: Record<string, string> = {}
  for (const entry of raw.split("\0").filter((e) => e !== "")) {
    const eq = entry.indexOf("=")
    env[entry.slice(0, eq)] = entry.slice(eq + 1)
  }
  const cwdSeen = (await readFile(path.join(out, "pwd"), "utf8")).trim()
  return { status, env, cwd: cwdSeen, stdout }
}

let root: string
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "glidein-conformance-"))
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

/** A fresh directory tree for one run: submit dir, scratch ($TMPDIR), tarball. */
async function workspace(name: string) {
  const dir = path.join(root, name)
  const submitDir = path.join(dir, "submit")
  await mkdir(submitDir, { recursive: true })
  await mkdir(path.join(dir, "scratch"))
  const tarball = path.join(dir, "glidein.tar.gz")
  await writeFile(tarball, "")
  return {
    dir,
    paths: { submitDir, startScript: path.join(submitDir, "glidein_start.sh"), tarball },
  }
}

const expected: Record<
  SchedulerName,
  {
    ids: Record<string, string[]>
    /** Glideins in `state` (in `queue`, when given), and which ones when `ids` is given. */
    counts: { file: string; state: GlideinState; queue?: string; count: number; ids?: string[] }[]
    /** Job numbers of the live glideins in a `liveArgv` listing. */
    live: { file: string; numbers: string[] }[]
  }
> = JSON.parse(await readFile(path.join(TESTDATA, "expected.json"), "utf8"))

test("schedulerFor() finds every adapter by any case and nothing else", () => {
  for (const name of Object.keys(SCHEDULERS)) {
    expect(schedulerFor(name.toUpperCase())?.name).toBe(name as SchedulerName)
  }
  expect(schedulerFor("HTCondor")?.name).toBe("htcondor")
  expect(schedulerFor(" slurm ")?.name).toBe("slurm")
  expect(schedulerFor("torque")).toBeUndefined()
  expect(schedulerFor("toString")).toBeUndefined()
  expect(Object.keys(SCHEDULERS)).toEqual(["htcondor", "slurm", "pbs", "uge", "sge", "lsf"])
})

/** Keys each adapter writes into a job as one word: a value with a space is refused. */
const WORD_KEYS: Record<SchedulerName, string[]> = {
  slurm: ["partition", "queue", "account"],
  pbs: ["queue", "account", "node_property"],
  sge: ["queue", "account", "pe"],
  uge: ["queue", "account", "pe"],
  lsf: ["queue", "account", "ref_host"],
  htcondor: ["env_wrapper_name"],
}

/** [SubmitFile] keys each adapter writes into one line of a job. */
const LINE_KEYS: Record<SchedulerName, string[]> = {
  slurm: ["gpu_submit"],
  pbs: [],
  sge: ["gpu_submit"],
  uge: ["gpu_submit"],
  lsf: ["gpu_submit"],
  htcondor: ["log", "requirements"],
}

/** Keys of [SubmitFile] among those above; the rest are partition keys. */
const SUBMIT_FILE_KEYS = new Set([
  "ref_host",
  "env_wrapper_name",
  "gpu_submit",
  "log",
  "requirements",
])

/** Sizing of a 1-core job of 5000 MB and 1000 MB of disk, and of the same on a whole node of
 *  8 cores, 32000 MB, 100000 MB of disk and 2 GPUs: pyglidein's rules per family. */
const SIZES: Record<
  SchedulerName,
  { cpus: number; memoryMb: number; diskKb: number; scaledFrom?: number; node: GlideinResources }
> = (() => {
  const node = { cpus: 8, memoryMb: 32000, diskKb: 102400000, gpus: 2, walltimeS: 7200 }
  // Memory per core: 5250 MB (5 % margin) needs 3 cores at the default 2000 MB per core.
  const perCore = { cpus: 3, memoryMb: 5250, diskKb: 1126400, scaledFrom: 1, node }
  const perSlot = { cpus: 1, memoryMb: 5250, diskKb: 1126400, node }
  return {
    slurm: perCore,
    lsf: perCore,
    // Torque's MiB: 5000 × 1024/1000 = 5120 MB before the margin.
    pbs: { ...perCore, memoryMb: 5376 },
    sge: perSlot,
    uge: perSlot,
    // 10 % margins, the job's own cores; a whole node's disk × 1000 and no GPUs for CPU jobs.
    htcondor: {
      cpus: 1,
      memoryMb: 5500,
      diskKb: 1126400,
      node: { ...node, diskKb: 100000000, gpus: 0 },
    },
  }
})()

/** The memory a rendered job asks for, read back from its directives in MB. */
const MEMORY_MB: Record<SchedulerName, (text: string, cpus: number) => number> = {
  slurm: (t) => Number(/^#SBATCH --mem=(\d+)$/m.exec(t)![1]),
  pbs: (t) => Number(/^#PBS -l pmem=\d+mb,mem=(\d+)mb$/m.exec(t)![1]),
  // h_rss is per slot.
  sge: (t, cpus) => Number(/^#\$ -l h_rss=(\d+)M$/m.exec(t)![1]) * cpus,
  uge: (t, cpus) => Number(/^#\$ -l h_rss=(\d+)M$/m.exec(t)![1]) * cpus,
  // LSF_UNIT_FOR_LIMITS = KB, counted 1000 to the MB as pyglidein did.
  lsf: (t) => Number(/^#BSUB -M (\d+)$/m.exec(t)![1]) / 1000,
  htcondor: (t) => Number(/^request_memory = (\d+)$/m.exec(t)![1]),
}

for (const s of Object.values(SCHEDULERS)) {
  describe(s.name, () => {
    /** The settings this adapter reads from a partition `short` holding `keys`. */
    const read = (keys: ConfigKeys = {}) => s.readSettings(settingsSource(s.name, keys, "short"))
    const settings = read()
    /** A planned submission with this adapter's settings of a partition without any keys. */
    const spec = (patch: Partial<JobSpec> = {}, site: Partial<JobSpec["site"]> = {}): JobSpec => ({
      ...jobSpec(patch, site),
      settings,
    })

    test("readSettings() refuses a value that cannot be one word of a directive, naming section and key", () => {
      const all = new Set(Object.values(WORD_KEYS).flat())
      for (const key of all) {
        const section = SUBMIT_FILE_KEYS.has(key) ? "SubmitFile" : "short"
        const reading = () => read({ [key]: "two words" })
        if (WORD_KEYS[s.name].includes(key))
          expect(reading).toThrow(
            new ConfigError(
              { section, key },
              '"two words" cannot be used in a job directive (empty, or has spaces, quotes or backslashes)',
            ),
          )
        // Another scheduler's key is not this adapter's to refuse (HTCondor passes `queue` to
        // site templates only).
        else expect(reading).not.toThrow()
      }
    })

    test("readSettings() refuses more than one line where the job has room for one", () => {
      for (const key of new Set(Object.values(LINE_KEYS).flat())) {
        const reading = () => read({ [key]: "one\ntwo" })
        if (LINE_KEYS[s.name].includes(key))
          expect(reading).toThrow(`[SubmitFile] ${key}: must be one line, got several`)
        else expect({ key, settings: reading() }).toEqual({ key, settings })
      }
    })

    test("queue() chooses the partition's queue as readSettings() and the job script do", () => {
      const template = "#!/bin/sh\n{{DIRECTIVES}}\n# queue={{QUEUE}}\n"
      // Slurm's is `partition`, as in pyglidein, else `queue`; every other scheduler's `queue`.
      const cases: [ConfigKeys, string | undefined][] = [
        [{}, undefined],
        [{ queue: "long" }, "long"],
        [{ partition: "gpu" }, s.name === "slurm" ? "gpu" : undefined],
        [{ partition: "gpu", queue: "long" }, s.name === "slurm" ? "gpu" : "long"],
      ]
      for (const [keys, queue] of cases) {
        const source = settingsSource(s.name, keys)
        const chosen = read(keys)
        expect({ keys, queue: s.queue(source.partition), read: chosen.queue }).toEqual({
          keys,
          queue,
          read: queue,
        })
        const text = submitText(s.render({ ...spec({}, { template }), settings: chosen }))
        expect(text).toContain(`# queue=${queue ?? ""}\n`)
        // Batch systems are told the queue in a directive; HTCondor has none.
        if (queue !== undefined && s.name !== "htcondor")
          expect(text).toMatch(new RegExp(`^#\\S* .*[ =]${queue}$`, "m"))
      }
    })

    test("sizing sizes a glidein by this scheduler's rules, in its memory unit", () => {
      const policy = { scheduler: s.name, memSafetyScale: 1, walltimeHours: 2 }
      const demand = { cpus: 1, memory: s.sizing.demandMemoryMb(5000), disk: 1000, gpus: 0 }
      const { node, ...want } = SIZES[s.name]
      const sized = s.sizing.size(demand, policy)
      expect({ ...sized.resources, scaledFrom: sized.scaledFrom }).toEqual({
        ...want,
        gpus: 0,
        walltimeS: 7200,
        scaledFrom: want.scaledFrom,
      })
      const wholeNode = { cpus: 8, memory: 32000, disk: 100000, gpus: 2 }
      expect(s.sizing.size(demand, { ...policy, wholeNode }).resources).toEqual(node)
      // However it sizes, the glidein holds what the job asked for.
      for (const shape of [
        { cpus: 4, memory: 1000, disk: 10, gpus: 1 },
        { cpus: 2, memory: 30000, disk: 0, gpus: 0 },
      ]) {
        const r = s.sizing.size(shape, { ...policy, memPerCore: 4000 }).resources
        expect(r.cpus).toBeGreaterThanOrEqual(shape.cpus)
        expect(r.memoryMb).toBeGreaterThanOrEqual(shape.memory)
        expect(r.diskKb).toBeGreaterThanOrEqual(shape.disk * 1024)
        expect(r.gpus).toBe(shape.gpus)
      }
    })

    test("render() asks for the memory it reports, in the scheduler's memory unit", () => {
      for (const [cpus, memoryMb] of [
        [1, 4200],
        [3, 9000],
        [8, 64000],
      ] as const) {
        const job = s.render(spec({ resources: { ...spec().resources, cpus, memoryMb } }))
        expect({ cpus, memoryMb, asked: MEMORY_MB[s.name](submitText(job), cpus) }).toEqual({
          cpus,
          memoryMb,
          asked: job.request.memoryMb,
        })
      }
    })

    test("render() starts the glidein with exactly the environment contract", async () => {
      const ws = await workspace(`${s.name}-env`)
      const job = spec({ paths: ws.paths })
      const run = await runJob(s, job, ws.dir)
      const tarball =
        s.name === "htcondor" ? path.join(ws.dir, "sandbox", "glidein.tar.gz") : ws.paths.tarball
      expect(run.env).toEqual({ ...job.env, GLIDEIN_TARBALL: tarball })
      expect(run.status).toBe(7)
    })

    test("render() gives the glidein this round's values; HTCondor's wrapper stays the same from round to round", async () => {
      const ws = await workspace(`${s.name}-round`)
      const round = (url: string) => ({
        LOG_UPLOAD_URL: url,
        LOG_UPLOAD_POLICY: "eyJleHBpcmF0aW9uIjoi+/=",
      })
      const job: JobSpec = {
        ...spec({ paths: ws.paths }),
        roundEnv: round("https://s3.example.org/logs/"),
      }
      const rendered = s.render(job)
      const next = s.render({ ...job, roundEnv: round("https://s3.example.org/other/") })
      let batchEnv: Record<string, string> = {}
      if (s.name === "htcondor") {
        // The schedd starts the job with its submit description's environment.
        const line = /^environment = "(.*)"$/m.exec(rendered.files[rendered.submitFile]!)![1]!
        batchEnv = Object.fromEntries(
          line.split(" ").map((w) => [w.slice(0, w.indexOf("=")), w.slice(w.indexOf("=") + 1)]),
        )
        const wrappers = (r: RenderedJob) =>
          Object.entries(r.files).filter(([name]) => name !== r.submitFile)
        expect(wrappers(next)).toEqual(wrappers(rendered))
      }
      const run = await runJob(s, job, ws.dir, batchEnv)
      expect(run.env).toMatchObject(job.roundEnv!)
      expect(run.status).toBe(7)
    })

    test("render() refuses a round value that would need quoting", () => {
      const job: JobSpec = { ...spec(), roundEnv: { LOG_UPLOAD_URL: 'https://x/"; reboot' } }
      expect(() => s.render(job)).toThrow(
        "LOG_UPLOAD_URL holds characters a job environment cannot carry",
      )
    })

    test("render() passes the batch system's GPU assignment to the glidein", async () => {
      const ws = await workspace(`${s.name}-gpus`)
      const job = spec({ paths: ws.paths })
      const given = {
        CUDA_VISIBLE_DEVICES: "2,3",
        ROCR_VISIBLE_DEVICES: "1",
        PBS_GPUFILE: "/var/spool/pbs/aux/42.gpu",
        SGE_HGR_gpu: "gpu0 gpu1",
        SLURM_JOB_ID: "4242",
      }
      const run = await runJob(s, job, ws.dir, given)
      expect(run.env).toMatchObject(given)
      expect(run.env.GPUS).toBe(job.env.GPUS!)
    })

    test("render() keeps every shell metacharacter of an env value inside its quotes", async () => {
      const ws = await workspace(`${s.name}-hostile`)
      const env = { ...spec().env, ...hostileEnv(ws.dir) }
      const run = await runJob(s, spec({ paths: ws.paths, env }), ws.dir)
      expect(run.env).toMatchObject({
        ...env,
        EXPANDED: "pre-expanded-value-expanded-value-post",
      })
      expect(await readdir(ws.dir)).not.toContain("pwned")
    })

    test("render() refuses an env name that is not an identifier and a NUL in a value", () => {
      expect(() => s.render(spec({ env: { "BAD NAME": "1" } }))).toThrow(/environment variable/)
      expect(() => s.render(spec({ env: { X: "a\0b" } }))).toThrow(/NUL/)
    })

    test("render() writes scripts that sh and bash parse", () => {
      const rendered = s.render(spec({ count: 3 }, { groupJobs: true, customEnd: "echo end" }))
      const { text } = jobScript(rendered)
      for (const shell of ["sh", "bash"]) {
        const check = Bun.spawnSync([shell, "-n"], { stdin: new TextEncoder().encode(text) })
        expect({ shell, status: check.exitCode, err: check.stderr.toString() }).toEqual({
          shell,
          status: 0,
          err: "",
        })
      }
    })

    if (s.name !== "htcondor") {
      test("render() runs the glidein in a fresh directory under $TMPDIR and removes it", async () => {
        const ws = await workspace(`${s.name}-tmpdir`)
        const run = await runJob(s, spec({ paths: ws.paths }), ws.dir)
        expect(path.dirname(run.cwd)).toBe(path.join(ws.dir, "scratch"))
        expect(path.basename(run.cwd)).toMatch(/^glidein\./)
        expect(await readdir(path.join(ws.dir, "scratch"))).toEqual([])
      })

      test("render() creates a missing local_dir with $VARS expanded, and removes it", async () => {
        const ws = await workspace(`${s.name}-localdir`)
        const job = spec({ paths: ws.paths }, { localDir: "$HOME/jobs/${GLIDEIN_TEST}" })
        const run = await runJob(s, job, ws.dir)
        expect(path.dirname(run.cwd)).toBe(path.join(ws.dir, "jobs", "expanded-value"))
        expect(path.basename(run.cwd)).toMatch(/^glidein\./)
        expect(await readdir(path.join(ws.dir, "jobs"))).toEqual([])
      })

      test("render() gives glideins sharing a missing local_dir their own directories; the first to end removes only its own", async () => {
        const base = path.join(root, `${s.name}-shared-local-dir`, "glidein")
        const record = await mkdtemp(path.join(root, "record-"))
        // Stays until told to go, then says whether its directory is still there.
        const stay = [
          "#!/bin/sh",
          `record='${record}'`,
          // Renamed into place: the test reads it as soon as it exists.
          'pwd > "$record/$GLIDEIN_NAME.tmp" && mv "$record/$GLIDEIN_NAME.tmp" "$record/$GLIDEIN_NAME.pwd"',
          'while [ ! -e "$record/$GLIDEIN_NAME.go" ]; do sleep 0.02; done',
          'if [ -f ./glidein_start.sh ]; then echo intact; else echo gone; fi > "$record/$GLIDEIN_NAME.after"',
        ].join("\n")
        const start = async (name: string) => {
          const ws = await workspace(`${s.name}-shared-${name}`)
          const env = { ...spec().env, GLIDEIN_NAME: name }
          const proc = await startJob(
            s,
            spec({ paths: ws.paths, env }, { localDir: base }),
            ws.dir,
            stay,
          )
          const pwd = path.join(record, `${name}.pwd`)
          const deadline = Date.now() + 10_000
          while (!(await Bun.file(pwd).exists()) && Date.now() < deadline) await Bun.sleep(20)
          return { proc, dir: (await readFile(pwd, "utf8")).trim() }
        }
        const go = async (name: string) => writeFile(path.join(record, `${name}.go`), "")
        const after = async (name: string) =>
          (await readFile(path.join(record, `${name}.after`), "utf8")).trim()
        const first = await start("first")
        try {
          const second = await start("second")
          try {
            expect(path.dirname(first.dir)).toBe(base)
            expect(path.dirname(second.dir)).toBe(base)
            expect(first.dir).not.toBe(second.dir)
            await go("first")
            expect(await first.proc.exited).toBe(0)
            await go("second")
            expect(await second.proc.exited).toBe(0)
            expect(await after("second")).toBe("intact")
            expect(await readdir(base)).toEqual([])
          } finally {
            await go("second")
            second.proc.kill()
          }
        } finally {
          await go("first")
          first.proc.kill()
        }
      })

      /** Runs the job with a stand-in that leaves HTCondor logs where glidein_start.sh does. */
      async function failingGlidein(name: string, exit: number, env: Record<string, string> = {}) {
        const ws = await workspace(`${s.name}-${name}`)
        const out = path.join(ws.dir, "out")
        await mkdir(out)
        const stand = [
          "#!/bin/sh",
          `pwd > '${ws.dir}/pwd'`,
          "mkdir -p glidein.AbC123/log || exit 99",
          "echo 'ERROR: stand-in failure detail' > glidein.AbC123/log/MasterLog",
          `exit ${exit}`,
        ].join("\n")
        const job = spec({ paths: ws.paths, env: { ...spec().env, ...env } }, { outputDir: out })
        const proc = await startJob(s, job, ws.dir, stand)
        const [status, stdout] = await Promise.all([proc.exited, new Response(proc.stdout).text()])
        const cwd = (await readFile(path.join(ws.dir, "pwd"), "utf8")).trim()
        return { status, stdout, out, cwd, scratch: path.join(ws.dir, "scratch") }
      }

      test("render() saves the HTCondor logs of a failed glidein next to its output, and says where", async () => {
        const run = await failingGlidein("logs-failed", 3)
        expect(run.status).toBe(3)
        const saved = await readdir(run.out)
        expect(saved).toEqual([expect.stringMatching(/^glidein-logs-.+\.tar\.gz$/)])
        const archive = path.join(run.out, saved[0]!)
        expect(run.stdout).toContain(`glidein: exit status 3; HTCondor logs saved in ${archive}`)
        const log = Bun.spawnSync(["tar", "-xzOf", archive, "glidein.AbC123/log/MasterLog"])
        expect(log.stdout.toString()).toBe("ERROR: stand-in failure detail\n")
        expect(await readdir(run.scratch)).toEqual([])
      })

      test("render() saves no logs when the glidein ends well", async () => {
        const run = await failingGlidein("logs-ok", 0)
        expect(run.status).toBe(0)
        expect(await readdir(run.out)).toEqual([])
        expect(run.stdout).not.toContain("HTCondor logs")
        expect(await readdir(run.scratch)).toEqual([])
      })

      test("render() with GLIDEIN_KEEP keeps the glidein's directory and saves its logs", async () => {
        const run = await failingGlidein("logs-keep", 0, { GLIDEIN_KEEP: "1" })
        expect(run.status).toBe(0)
        const saved = await readdir(run.out)
        expect(saved).toEqual([expect.stringMatching(/^glidein-logs-.+\.tar\.gz$/)])
        expect(run.stdout).toContain(`HTCondor logs saved in ${path.join(run.out, saved[0]!)}`)
        expect(run.stdout).toContain(`GLIDEIN_KEEP is set: ${run.cwd} is kept on `)
        expect(await readFile(path.join(run.cwd, "glidein.AbC123/log/MasterLog"), "utf8")).toBe(
          "ERROR: stand-in failure detail\n",
        )
      })

      test("render() stopped by SIGTERM: the glidein ends first, then its logs are saved and its directory removed", async () => {
        const ws = await workspace(`${s.name}-sigterm`)
        const out = path.join(ws.dir, "out")
        await mkdir(out)
        // Like glidein_start.sh, which the batch system's TERM makes shut HTCondor down.
        const stand = [
          "#!/bin/sh",
          "mkdir -p glidein.AbC123/log && echo 'shutting down' > glidein.AbC123/log/MasterLog",
          `pwd > '${ws.dir}/pwd'`,
          `while [ ! -e '${ws.dir}/go' ]; do sleep 0.02; done`,
          "echo 'shut down' >> glidein.AbC123/log/MasterLog",
        ].join("\n")
        const proc = await startJob(s, spec({ paths: ws.paths }, { outputDir: out }), ws.dir, stand)
        try {
          const deadline = Date.now() + 10_000
          while (!(await Bun.file(path.join(ws.dir, "pwd")).exists()) && Date.now() < deadline)
            await Bun.sleep(20)
          proc.kill("SIGTERM")
          await Bun.sleep(100)
          await writeFile(path.join(ws.dir, "go"), "")
          const [status, stdout] = await Promise.all([
            proc.exited,
            new Response(proc.stdout).text(),
          ])
          expect(status).toBe(143)
          const saved = await readdir(out)
          expect(saved).toEqual([expect.stringMatching(/^glidein-logs-.+\.tar\.gz$/)])
          const archive = path.join(out, saved[0]!)
          expect(stdout).toContain(`exit status 143; HTCondor logs saved in ${archive}`)
          // saved after the glidein ended, not while it still ran
          const log = Bun.spawnSync(["tar", "-xzOf", archive, "glidein.AbC123/log/MasterLog"])
          expect(log.stdout.toString()).toBe("shutting down\nshut down\n")
          expect(await readdir(path.join(ws.dir, "scratch"))).toEqual([])
        } finally {
          await writeFile(path.join(ws.dir, "go"), "")
          proc.kill()
        }
      })

      test("render() leaves an existing local_dir in place and works in a subdirectory", async () => {
        const ws = await workspace(`${s.name}-existing`)
        const scratch = path.join(ws.dir, "site-scratch")
        await mkdir(scratch)
        await writeFile(path.join(scratch, "keep"), "")
        const run = await runJob(s, spec({ paths: ws.paths }, { localDir: scratch }), ws.dir)
        expect(path.dirname(run.cwd)).toBe(scratch)
        expect(await readdir(scratch)).toEqual(["keep"])
      })

      test("render() runs custom_end after the glidein and exits with the glidein's status", async () => {
        const ws = await workspace(`${s.name}-end`)
        const marker = path.join(ws.dir, "end-ran")
        const job = spec({ paths: ws.paths }, { customEnd: `echo "$LOCAL_DIR" > '${marker}'` })
        const run = await runJob(s, job, ws.dir)
        expect(run.status).toBe(7)
        expect((await readFile(marker, "utf8")).trim()).toBe(run.cwd)
      })
    }

    test("render() with group_jobs makes one array of exactly N glideins", () => {
      for (const count of [1, 2, 5]) {
        const job = s.render(spec({ count }, { groupJobs: true }))
        expect({ count, tasks: tasksPerRun(s, job), runs: job.runs, jobs: job.jobs }).toEqual({
          count,
          tasks: count,
          runs: 1,
          jobs: count,
        })
      }
    })

    test("render() without group_jobs submits the same single glidein N times", () => {
      const job = s.render(spec({ count: 4 }))
      expect({ tasks: tasksPerRun(s, job), runs: job.runs, jobs: job.jobs }).toEqual({
        tasks: 1,
        runs: 4,
        jobs: 4,
      })
    })

    test("render() refuses a count that is not a positive whole number", () => {
      expect(() => s.render(spec({ count: 0 }))).toThrow(/cannot submit 0 glideins/)
      expect(() => s.render(spec({ count: 1.5 }))).toThrow(/cannot submit/)
    })

    test("render() refuses a glidein no directive can express", () => {
      const r = spec().resources
      expect(() => s.render(spec({ resources: { ...r, cpus: 0 } }))).toThrow(
        'cannot submit a glidein with 0 cores to "Cluster" (expected a whole number ≥ 1)',
      )
      expect(() => s.render(spec({ resources: { ...r, memoryMb: 7500.5 } }))).toThrow(/7500.5 MB/)
      expect(() => s.render(spec({ resources: { ...r, gpus: -1 } }))).toThrow(/-1 GPUs/)
    })

    test("render() puts custom_header, custom_middle and custom_end in their places", () => {
      const job = s.render(
        spec({}, { customHeader: "# HEADER", customMiddle: "# MIDDLE", customEnd: "# END" }),
      )
      const text = submitText(job)
      const lines = text.split("\n")
      const at = (marker: string) => lines.indexOf(marker)
      expect(at("# HEADER")).toBeGreaterThan(0)
      expect(at("# HEADER")).toBeLessThan(at("# MIDDLE"))
      expect(at("# MIDDLE")).toBeLessThan(at("# END"))
      if (s.name === "htcondor") {
        // Submit-file lines: the header before every command, the end before `queue`.
        expect(at("# HEADER")).toBeLessThan(lines.findIndex((l) => l.startsWith("executable")))
        expect(at("# END")).toBeLessThan(lines.findIndex((l) => l.startsWith("queue")))
      } else {
        // Directives only count before the first command, so the header must come first.
        const firstCommand = lines.findIndex((l) => l !== "" && !l.startsWith("#"))
        expect(at("# HEADER")).toBeLessThan(firstCommand)
        const start = lines.findIndex((l) => l.includes("glidein_start.sh") && l.includes("env -i"))
        expect(at("# MIDDLE")).toBeLessThan(start)
        expect(at("# END")).toBeGreaterThan(start)
      }
    })

    test("render() leaves no empty line where a custom section is unset", () => {
      const text = submitText(s.render(spec()))
      expect(text).not.toMatch(/\n\n\n/)
      expect(text).not.toContain("{{")
    })

    test("render() sends output and error to files, in the output directory when set", () => {
      const withDir = submitText(s.render(spec({}, { outputDir: "/data/glidein-out" })))
      expect(withDir).not.toContain("/dev/null")
      expect(withDir.split("/data/glidein-out/").length - 1).toBeGreaterThanOrEqual(2)
      const without = submitText(s.render(spec()))
      expect(without).not.toContain("/dev/null")
      expect(without.split("/home/user/glidein/").length - 1).toBeGreaterThanOrEqual(2)
    })

    test("render() writes the output directory without its trailing slashes", () => {
      const template = "#!/bin/sh\n{{DIRECTIVES}}\n# dir={{OUTPUT_DIR}} out={{OUTPUT}}\n"
      const text = submitText(s.render(spec({}, { outputDir: "/data/glidein-out//", template })))
      expect(text).toContain("# dir=/data/glidein-out out=/data/glidein-out/")
      expect(text).not.toContain("glidein-out//")
    })

    test("render() asks the batch system for the planned cores, GPUs and wall time", () => {
      const resources = { cpus: 3, memoryMb: 9000, diskKb: 2048000, gpus: 2, walltimeS: 7200 }
      const job = s.render(spec({ resources }))
      expect(job.request.cpus).toBe(3)
      expect(job.request.gpus).toBe(2)
      expect(job.request.walltimeS).toBe(7200)
      expect(job.request.memoryMb).toBeLessThanOrEqual(9000)
      expect(job.request.memoryMb).toBeGreaterThanOrEqual(9000 - 3)
    })

    test("render() uses a site template with the documented placeholders", () => {
      const template = [
        "#!/bin/sh",
        "{{DIRECTIVES}}",
        "# cpus={{CPUS}} gpus={{GPUS}} mem={{MEMORY_MB}} disk={{DISK_KB}} wall={{WALLTIME_HMS}}",
        "# name={{JOB_NAME}} count={{COUNT}} out={{OUTPUT}}",
        "{{CUSTOM_HEADER}}",
      ].join("\n")
      const job = s.render(
        spec({ count: 2 }, { template, templateFile: "site.tmpl", groupJobs: true }),
      )
      const text = submitText(job)
      expect(text).toContain("# cpus=2 gpus=0 mem=4200 disk=11264000 wall=14:00:00")
      expect(text).toContain("# name=glidein count=2 out=/home/user/glidein/")
      expect(tasksPerRun(s, job)).toBe(s.name === "htcondor" ? 1 : 2)
    })

    test("render() names the template file and line of an unknown placeholder", () => {
      const template = "#!/bin/sh\n{{DIRECTIVES}}\necho {{CPU}}\n"
      try {
        s.render(spec({}, { template, templateFile: "/home/user/site.tmpl" }))
        throw new Error("render() accepted an unknown placeholder")
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError)
        expect((e as Error).message).toStartWith(
          '/home/user/site.tmpl:3: unknown placeholder "{{CPU}}"',
        )
      }
    })

    test("render() is deterministic", () => {
      const job = spec({ count: 3 }, { groupJobs: true, customHeader: "#x" })
      expect(s.render(job)).toEqual(s.render(structuredClone(job)))
    })

    test("render() honours the site's submit file name", () => {
      const job = s.render(spec({}, { filename: "site-glidein.job" }))
      expect(job.submitFile).toBe("site-glidein.job")
      expect(Object.keys(job.files)).toContain("site-glidein.job")
      expect(job.stdinFile ?? job.argv.at(-1)).toBe("site-glidein.job")
    })

    test("parseJobIds() reads the ids from real submit output", async () => {
      for (const [file, ids] of Object.entries(expected[s.name].ids)) {
        const stdout = await readFile(path.join(TESTDATA, file), "utf8")
        expect({ file, ids: s.parseJobIds(stdout) }).toEqual({ file, ids })
      }
      expect(s.parseJobIds("")).toEqual([])
      expect(s.parseJobIds("error: something went wrong\n")).toEqual([])
    })

    test("parseGlideins() finds only glideins in the state (and queue) asked for", async () => {
      for (const { file, state, queue, count, ids } of expected[s.name].counts) {
        const stdout = await readFile(path.join(TESTDATA, file), "utf8")
        const found = s.parseGlideins(stdout, state, queue === undefined ? {} : { queue })
        expect({ file, state, queue, count: found.length }).toEqual({ file, state, queue, count })
        if (ids) expect({ file, state, queue, found }).toEqual({ file, state, queue, found: ids })
      }
      expect(s.parseGlideins("", "running", {})).toEqual([])
    })

    test("parseLive() gives the job number of each live glidein job, arrays folded", async () => {
      for (const { file, numbers } of expected[s.name].live) {
        const stdout = await readFile(path.join(TESTDATA, file), "utf8")
        expect({ file, live: s.parseLive(stdout).sort() }).toEqual({ file, live: numbers.sort() })
      }
      expect(s.parseLive("")).toEqual([])
    })

    test("countArgv() and liveArgv() are plain argvs for this user's glideins", () => {
      const plain = (argv: string[]) => argv.every((a) => typeof a === "string" && a !== "")
      for (const state of ["running", "idle", "held"] as const) {
        const argv = s.countArgv(state, { user: "alice" })
        expect(argv).toContain("alice")
        expect(plain(argv)).toBe(true)
        // Grid Engine's qstat cannot filter by name; parseGlideins does (see its testdata).
        if (s.name !== "sge" && s.name !== "uge") expect(argv.join(" ")).toContain("glidein")
        expect(s.countArgv(state, {})).not.toContain("alice")
        // A partition's queue (or, for HTCondor, the partition) narrows the default count.
        expect(s.countArgv(state, { queue: "q7", partition: "p7" })).not.toEqual(
          s.countArgv(state, {}),
        )
      }
      expect(s.liveArgv({ user: "alice" })).toContain("alice")
      expect(plain(s.liveArgv({ user: "alice" }))).toBe(true)
      expect(s.liveArgv({})).not.toContain("alice")
    })

    test("countArgv() and liveArgv() for the journal's jobs never ask by the user's name", () => {
      // A job filed under another name than `user` (run by another account) must still be
      // found: the journal's jobs are listed by id, or among every user's glideins.
      const jobs = ["4711", "4712"]
      const argvs = [
        ...(["running", "idle", "held"] as const).map((state) =>
          s.countArgv(state, { user: "alice", jobs }),
        ),
        s.liveArgv({ user: "alice", jobs }),
      ]
      for (const argv of argvs) {
        expect(argv.every((a) => typeof a === "string" && a !== "")).toBe(true)
        expect(argv).not.toContain("alice")
        expect(argv).not.toContain("--me")
        // Those that can name jobs do; the others list every user's glideins.
        const named = jobs.every((j) => argv.join(" ").includes(j))
        const everyone = argv.some((a) => a === "*" || a === "all" || a === "-allusers")
        const qselectAll = argv[0] === "qselect" && !argv.includes("-u")
        expect({ argv, ok: named || everyone || qselectAll }).toEqual({ argv, ok: true })
      }
    })

    test("cancelArgv() passes each job id as its own argument", () => {
      const argv = s.cancelArgv(["12", "13.server"])
      expect(argv.slice(1)).toEqual(["12", "13.server"])
      expect(argv[0]).toMatch(/^(scancel|qdel|bkill|condor_rm)$/)
    })
  })
}
