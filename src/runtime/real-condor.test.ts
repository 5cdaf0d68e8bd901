/**
 * glidein_start.sh in a real HTCondor pool: a personal central manager on loopback
 * (collector, negotiator, schedd; no startd) made from the install GLIDEIN_TEST_CONDOR names
 * (a `make install` prefix or an unpacked release), tarballs built by `tarball build` from the
 * same install, real jobs, and glideins that must join with IDTOKENS and with PASSWORD, run
 * the jobs, leave when idle, and fail, saying why, with a wrong credential; and the pool
 * watcher's condor_history query puts each completed job down to the glidein that ran it. Skipped, saying so,
 * without GLIDEIN_TEST_CONDOR. Run as root, HTCondor and the glideins run as
 * GLIDEIN_TEST_CONDOR_USER (default nobody), since HTCondor runs no job as root.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { chmodSync, chownSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import path from "node:path"
import { type EndedJobs, parseEndedJobs } from "../pool/condor-history-parse.ts"
import { condorHistoryArgv } from "../pool/condor-history-run.ts"
import { type GlideinAds, parseGlideinAds } from "../pool/condor-status-parse.ts"
import { condorStatusArgv } from "../pool/condor-status-run.ts"
import { glideinsOf, poolFunnel } from "../pool/pool-funnel.ts"
import { PoolWatch } from "../pool/pool-watch.ts"
import { buildTarball } from "../tarball/build-tarball.ts"
import { removeTempDirs, tempDir } from "../tarball/test-support.ts"
import { VERSION } from "../version.ts"
import { GLIDEIN_START_SH } from "./index.ts"
import {
  glideinToken,
  type LoopbackPool,
  ONE_HOST_GLIDEIN_ENV,
  poolPassword,
  poolTool,
  startLoopbackPool,
  stopLoopbackPool,
  until,
} from "./loopback-pool.ts"

const CONDOR = process.env.GLIDEIN_TEST_CONDOR
if (!CONDOR) {
  console.warn(
    "glidein_start.sh real-pool tests skipped: set GLIDEIN_TEST_CONDOR to an HTCondor install (with sbin/condor_master)",
  )
}
const ROOT = process.getuid?.() === 0
const USER = process.env.GLIDEIN_TEST_CONDOR_USER ?? "nobody"
const RUNUSER = Bun.which("runuser") ?? "/usr/sbin/runuser"
/** How often the glideins' startd and master send their ads (HTCondor checks idleness then). */
const UPDATE = 15
const NOCLAIM = 30
/** What glideins say of themselves in the master's ad too. */
const IDENTITY = [
  "Name",
  "GLIDEIN_Client",
  "GLIDEIN_Partition",
  "GLIDEIN_BatchJobId",
  "GLIDEIN_Version",
  "GLIDEIN_TarballDigest",
  "GLIDEIN_TarballVersion",
]

/** argv run as the test's HTCondor user. */
function as(argv: string[]): string[] {
  return ROOT ? [RUNUSER, "-u", USER, "--", ...argv] : argv
}

/** A directory the HTCondor user owns. */
function ownedDir(prefix: string): string {
  const dir = tempDir(prefix)
  chmodSync(dir, 0o755)
  if (ROOT) {
    const id = Bun.spawnSync(["id", "-u", USER]).stdout.toString().trim()
    const gid = Bun.spawnSync(["id", "-g", USER]).stdout.toString().trim()
    chownSync(dir, Number(id), Number(gid))
  }
  return dir
}

interface Glidein {
  name: string
  proc: ReturnType<typeof Bun.spawn>
  scratch: string
  started: number
  code?: number
  out?: string
  ended?: number
}

function startGlidein(name: string, tarball: string, vars: { [k: string]: string }): Glidein {
  const scratch = ownedDir(`glidein-${name}-`)
  const script = path.join(scratch, "glidein_start.sh")
  writeFileSync(script, GLIDEIN_START_SH)
  const contract = {
    CPUS: "4",
    MEMORY: "2000",
    DISK: "2000000",
    WALLTIME: "1800",
    SITE: "Test Site",
    NOCLAIMTIME: String(NOCLAIM),
    GLIDEIN_TARBALL: tarball,
    _condor_UPDATE_INTERVAL: String(UPDATE),
    ...ONE_HOST_GLIDEIN_ENV,
    ...vars,
  }
  const pairs = Object.entries(contract).map(([k, v]) => `${k}=${v}`)
  const proc = Bun.spawn(as(["/usr/bin/env", "-i", ...pairs, "/bin/sh", script]), {
    cwd: scratch,
    stdout: "pipe",
    stderr: "pipe",
  })
  return { name, proc, scratch, started: Date.now() }
}

async function finish(g: Glidein, seconds: number): Promise<void> {
  const timer = setTimeout(() => g.proc.kill("SIGTERM"), seconds * 1000)
  const [code, out, err] = await Promise.all([
    g.proc.exited,
    new Response(g.proc.stdout as ReadableStream).text(),
    new Response(g.proc.stderr as ReadableStream).text(),
  ])
  clearTimeout(timer)
  g.code = code
  g.out = out + err
  g.ended = Date.now()
}

const JOB = `#!/bin/sh
echo "CONDOR_CONFIG=\${CONDOR_CONFIG-unset} SITE=\${SITE-unset} CPUS=\${CPUS-unset}"
echo "CUDA_VISIBLE_DEVICES=\${CUDA_VISIBLE_DEVICES-unset}"
echo "GLIDEIN_Site=\${GLIDEIN_Site-unset}"
sleep 3
`

function submitFile(name: string, lines: string[]): string {
  return [
    "executable = job.sh",
    `output = ${name}.$(Process).out`,
    `error = ${name}.$(Process).err`,
    "log = jobs.log",
    "should_transfer_files = YES",
    "request_memory = 100",
    "request_disk = 10000",
    ...lines,
  ].join("\n")
}

describe.skipIf(!CONDOR)("glidein_start.sh in a real HTCondor pool", () => {
  let pool: LoopbackPool
  const glideins: { [name: string]: Glidein } = {}
  let ads: string[] = []
  let masters: string[] = []
  let glideinAds: GlideinAds | undefined
  let history: string[] = []
  let ended: EndedJobs | undefined
  let since = 0
  let jobs: string

  beforeAll(async () => {
    pool = await startLoopbackPool(CONDOR as string, ownedDir("glidein-pool-"), as)
    jobs = path.join(pool.dir, "jobs")
    const jwt = glideinToken(pool)
    const password = poolPassword(pool)
    const tarballs = ownedDir("glidein-tarballs-")
    const build = async (
      file: string,
      credentials: Parameters<typeof buildTarball>[0]["credentials"],
    ) => {
      const output = path.join(tarballs, file)
      await buildTarball({
        condor: CONDOR as string,
        output,
        credentials,
        collector: `127.0.0.1:${pool.port}`,
        version: "test",
      })
      if (ROOT) Bun.spawnSync(["chown", USER, output])
      return output
    }
    const tokenTarball = await build("token.tar.gz", {
      token: new TextEncoder().encode(`${jwt}\n`),
    })
    const passwordTarball = await build("password.tar.gz", { password })
    const forged = `${jwt.slice(0, -6)}AAAAAA\n`
    const badTarball = await build("bad.tar.gz", { token: new TextEncoder().encode(forged) })

    const files: { [name: string]: string } = {
      "job.sh": JOB,
      // the schedd records the glidein's client in these jobs (SYSTEM_JOB_MACHINE_ATTRS's
      // per-job form), as the pool watcher prefers
      "plain.sub": submitFile("plain", [
        "request_cpus = 1",
        "job_machine_attrs = GLIDEIN_Client",
        "queue 2",
      ]),
      "multi.sub": submitFile("multi", [
        "request_cpus = 2",
        'requirements = (GLIDEIN_Site == "Test Site") && (PYGLIDEIN_TIME_TO_LIVE > 600) && (HAS_FOO =?= True)',
        "queue 1",
      ]),
      // only the glidein with the batch system's list of ids (no properties) takes this one
      "gpu.sub": submitFile("gpu", [
        "request_cpus = 1",
        "request_gpus = 1",
        "requirements = (TARGET.GPUs_Capability =?= undefined)",
        "queue 1",
      ]),
      "gpucap.sub": submitFile("gpucap", [
        "request_cpus = 1",
        "request_gpus = 1",
        "gpus_minimum_capability = 1.0",
        "queue 1",
      ]),
    }
    for (const [name, text] of Object.entries(files)) {
      Bun.spawnSync(as(["sh", "-c", `cat > ${path.join(jobs, name)}`]), {
        stdin: Buffer.from(text),
      })
    }
    Bun.spawnSync(as(["chmod", "755", path.join(jobs, "job.sh")]))
    since = Math.floor(Date.now() / 1000) - 60
    for (const sub of ["plain.sub", "multi.sub", "gpu.sub", "gpucap.sub"]) {
      const r = Bun.spawnSync(as([`${CONDOR}/bin/condor_submit`, sub]), {
        env: pool.env,
        cwd: jobs,
      })
      if (r.exitCode !== 0) throw new Error(`condor_submit ${sub}: ${r.stderr.toString()}`)
    }

    glideins.token = startGlidein("token", tokenTarball, {
      SLURM_JOB_ID: "5001",
      GLIDEIN_CLIENT: "ice@login1/test",
      GLIDEIN_PARTITION: "cpu",
      GLIDEIN_STARTD_ATTRS: "HAS_FOO=True",
    })
    glideins.password = startGlidein("password", passwordTarball, {
      GPUS: "2",
      CUDA_VISIBLE_DEVICES: "0,1",
      SLURM_JOB_ID: "5002",
    })
    glideins.discovered = startGlidein("discovered", tokenTarball, {
      GPUS: "1",
      GPU_DISCOVERY_EXTRA: "-simulate:0,1",
      SLURM_JOB_ID: "5003",
    })
    glideins.bad = startGlidein("bad", badTarball, { SLURM_JOB_ID: "5004" })
    glideins.owners = startGlidein("owners", tokenTarball, {
      SLURM_JOB_ID: "5005",
      GLIDEIN_OWNERS: "someone-else",
    })

    // the ads while they run, then every job done
    await until(90, () => {
      ads = poolTool(pool, "condor_status", [
        "-af:,",
        "Name",
        "GLIDEIN_Site",
        "GLIDEIN_BatchJobId",
        "PYGLIDEIN_TIME_TO_LIVE",
        "HAS_FOO",
        "TotalGPUs",
        "GPUs_Capability",
      ]).out.split("\n")
      // a master sends its first ad on its own schedule
      masters = poolTool(pool, "condor_status", ["-master", "-af:,", ...IDENTITY]).out.split("\n")
      const master = masters.some((l) => l.startsWith("glidein_5001_"))
      return master && ads.filter((l) => l.startsWith("slot1@")).length >= 3
    })
    glideinAds = parseGlideinAds(poolTool(pool, "condor_status", condorStatusArgv()).out)
    await until(240, () => poolTool(pool, "condor_q", ["-af", "ClusterId"]).out.trim() === "")
    history = poolTool(pool, "condor_history", [
      "-af:,",
      "Cmd",
      "ExitCode",
      "LastRemoteHost",
    ]).out.split("\n")
    const watched = poolTool(pool, "condor_history", condorHistoryArgv(since))
    ended = parseEndedJobs(watched.out)
    await Promise.all(Object.values(glideins).map((g) => finish(g, NOCLAIM + 6 * UPDATE + 120)))
  }, 900_000)

  afterAll(async () => {
    if (pool) await stopLoopbackPool(pool)
    removeTempDirs()
  })

  test("glideins join with IDTOKENS and PASSWORD and advertise what jobs match on", () => {
    const line = (id: string) => ads.find((l) => l.includes(`glidein_${id}_`)) ?? ""
    expect(line("5001")).toMatch(
      /^slot1@glidein_5001_\d+_[0-9a-f]{8}@\S+, Test Site, 5001, \d+, true, 0, undefined$/,
    )
    expect(Number(line("5001").split(", ")[3])).toBeGreaterThan(600)
    expect(line("5002")).toMatch(/, 5002, \d+, undefined, 2, undefined$/)
    // HTCondor's own discovery: the properties jobs match on
    expect(line("5003")).toMatch(/, 5003, \d+, undefined, 1, 1\.2$/)
    expect(ads.some((l) => l.includes("glidein_5004_"))).toBe(false)
  })

  test("startds and masters say who they are, and the pool watcher reads them", () => {
    const master = masters.find((l) => l.startsWith("glidein_5001_")) ?? ""
    expect(master).toMatch(
      /^glidein_5001_\S+, ice@login1\/test, cpu, 5001, [^,]+, manifest-sha256:[0-9a-f]{64}, test$/,
    )
    const slots = glideinAds?.slots ?? []
    expect(glideinAds?.firstBad).toBeUndefined()
    const token = slots.find((s) => s.batchJobId === "5001" && s.slotType === "Partitionable")
    expect(token).toMatchObject({ site: "Test Site", client: "ice@login1/test", version: VERSION })
    expect(token?.partition).toBe("cpu")
    expect(token?.tarballDigest).toBe(master.split(", ")[5])
    expect(slots.find((s) => s.batchJobId === "5002")?.client).toBeUndefined()
    expect(poolFunnel(glideinsOf(slots)).total.joined).toBeGreaterThanOrEqual(3)
  })

  test("every job completes: plain, multi-core with requirements, GPU and GPU-capability jobs", () => {
    const done = history.filter((l) => l.includes(", 0, slot"))
    expect(done).toHaveLength(5)
    for (const id of ["5001", "5002", "5003"]) {
      expect(history.find((l) => l.includes(`glidein_${id}_`))).toBeDefined()
    }
    const out = (name: string) => readFileSync(path.join(jobs, name), "utf8")
    // payload jobs see the site, not the glidein's configuration or contract
    expect(out("plain.0.out")).toContain("CONDOR_CONFIG=unset SITE=unset CPUS=unset")
    expect(out("plain.0.out")).toContain("GLIDEIN_Site=Test Site")
    expect(out("multi.0.out")).toContain("GLIDEIN_Site=Test Site")
    // a GPU from the batch system's list is handed over verbatim, never as CUDA0
    expect(out("gpu.0.out")).toMatch(/CUDA_VISIBLE_DEVICES=[01]\n/)
    // discovered GPUs reach the job as their full UUID
    expect(out("gpucap.0.out")).toMatch(/CUDA_VISIBLE_DEVICES=GPU-[0-9a-f]{8}-[0-9a-f-]+\n/)
  })

  test("the pool watcher reads the jobs completed from condor_history and puts each down to the glidein that ran it", () => {
    expect(ended?.firstBad).toBeUndefined()
    const jobs = ended?.jobs ?? []
    expect(jobs).toHaveLength(5)
    for (const job of jobs) {
      expect(job).toMatchObject({ status: "completed", exitCode: 0, bySignal: false })
      expect(job.glidein).toMatch(/^glidein_500[123]_\S+@/)
      // each job sleeps 3 s
      expect(job.endedAt - (job.startedAt as number)).toBeGreaterThanOrEqual(3)
    }
    // plain jobs carry the client of the glidein they ran on; only 5001's names one
    for (const j of jobs.filter((j) => j.id.startsWith("1."))) {
      const onToken = j.glidein?.startsWith("glidein_5001_") === true
      expect(j.client).toBe(onToken ? "ice@login1/test" : undefined)
    }
    // the glideins seen while they ran, then gone by the time the history is read
    const watch = new PoolWatch()
    const at = Date.now()
    watch.observe(glideinAds?.slots ?? [], at - 60_000, [], 0)
    watch.observe([], at, [], 0, jobs)
    const clientOf = new Map(glideinsOf(glideinAds?.slots ?? []).map((g) => [g.name, g.client]))
    const expected: { [client: string]: number } = {}
    for (const j of jobs) {
      const client = j.client ?? clientOf.get(j.glidein as string) ?? "none"
      expected[client] = (expected[client] ?? 0) + 1
    }
    expect(expected.none).toBeUndefined()
    const completed = watch.view(0).filter((w) => w.jobsCompleted > 0)
    expect(Object.fromEntries(completed.map((w) => [w.client, w.jobsCompleted]))).toEqual(expected)
  })

  test("idle glideins leave by themselves, exit 0, and say they stopped as planned", () => {
    for (const name of ["token", "password", "discovered"]) {
      const g = glideins[name] as Glidein
      expect({ name, code: g.code, out: g.out }).toMatchObject({ code: 0 })
      expect(g.out).not.toContain("got SIGTERM")
      expect(g.out).not.toContain("never claimed")
      expect(g.out).not.toContain("the startd failed")
      // NOCLAIMTIME after the last claim, give or take an UPDATE_INTERVAL
      expect(((g.ended as number) - g.started) / 1000).toBeLessThan(240)
    }
  })

  test("a glidein restricted to other owners takes none of the jobs, and is no failure", () => {
    const g = glideins.owners as Glidein
    expect({ code: g.code, out: g.out }).toMatchObject({ code: 0 })
    expect(g.out).toContain("glidein: never claimed: no job matched it")
    expect(history.some((l) => l.includes("glidein_5005_"))).toBe(false)
  })

  test("a glidein with a forged token is never claimed, exits 3 and says why", () => {
    const g = glideins.bad as Glidein
    expect({ code: g.code, out: g.out }).toMatchObject({ code: 3 })
    expect(g.out).toContain("glidein: never claimed, and the logs say why:")
    expect(g.out).toMatch(/SECMAN:\d+|AUTHENTICATE|PERMISSION DENIED/)
    expect(readdirSync(g.scratch).some((n) => n.startsWith("glidein."))).toBe(true)
  })
})
