/**
 * @module
 * The end-to-end suite: the compiled `glidein` binary against a live one-node Slurm and Grid
 * Engine (brought up by slurm-up.sh / sge-up.sh; run it through run.sh). It starts
 * `glidein serve` over a fake condor_q with a known demand, builds a glidein tarball from a
 * stand-in HTCondor install and injects a pool password, then, as an unprivileged site user,
 * submits real glideins and checks what they recorded: resources, credential, retirement
 * time, the journal, `status`, the lock, the limits, the server's view, and `cancel`.
 *
 *   bun test/e2e/suite.ts --bin dist/glidein-linux-x64 --work DIR [--clusters slurm,sge]
 *
 * Prints one line per scenario and exits 1 when any scenario did not pass.
 */
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs"
import { readdir, writeFile } from "node:fs/promises"
import { join, resolve } from "node:path"
import { parseArgs } from "node:util"
import { type Cluster, type ClusterName, cluster } from "./batch.ts"
import {
  CheckFailed,
  check,
  describeRun,
  lookupUser,
  Runner,
  run,
  runOk,
  type User,
  waitFor,
} from "./harness.ts"
import { type MasterRecord, masterAlive, readRecords } from "./records.ts"

const { values: opts } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    bin: { type: "string" },
    work: { type: "string" },
    clusters: { type: "string", default: "slurm,sge" },
    "e2e-dir": { type: "string", default: process.env.GLIDEIN_E2E_DIR ?? "/tmp/glidein-e2e" },
    user: { type: "string", default: process.env.GLIDEIN_E2E_USER ?? "glidein-e2e" },
  },
})

/** The idle jobs the fake condor_q reports, as `condor_q -af:,` prints them. */
const REQS = '(TARGET.Arch == "X86_64") && (TARGET.OpSys == "LINUX")'
const GPU_JOB = `1, 1000, 1000000, 1, ${REQS}`
const BIG_JOB = `2, 1500, 3000000, undefined, ${REQS}`
const CPU_JOB = `1, 1200, 2000000, undefined, ${REQS}`
const DEMAND_LINES = [GPU_JOB, BIG_JOB, ...Array(5).fill(CPU_JOB)]
const DEMAND_JOBS = DEMAND_LINES.length

/** The demand table `serve` must publish for them (disk in pyglidein's wire unit, KiB/1000). */
const EXPECTED_DEMAND = [
  { cpus: 1, memory: 1000, disk: 1000, gpus: 1, count: 1 },
  { cpus: 2, memory: 1500, disk: 3000, gpus: 0, count: 1 },
  { cpus: 1, memory: 1200, disk: 2000, gpus: 0, count: 5 },
]

/** walltime_hrs of the test sites: a 30 min batch limit, WALLTIME 300 s below it. */
const WALLTIME_HRS = 0.5
const BATCH_LIMIT_S = 1800
const WALLTIME_S = 1500

/** What a glidein is told it has: the contract variables of glidein_start.sh. */
interface Glidein {
  CPUS: string
  MEMORY: string
  DISK: string
  GPUS: string
}

/**
 * The glideins the three shapes get on a batch-script site (pyglidein's sizing): memory with
 * a 5 % margin, disk from wire units × 1.1 × 1024 (KB), the job's own cores (all under the
 * default mem_per_core of 2000 MB). With max_total_jobs = 3 a run submits one of each, GPU
 * demand first, then by memory (prioritize_jobs = gpu, memory): 4 cores, which fill the node.
 */
const GLIDEINS: Glidein[] = [
  { CPUS: "1", MEMORY: "1050", DISK: "1126400", GPUS: "1" },
  { CPUS: "2", MEMORY: "1575", DISK: "3379200", GPUS: "0" },
  { CPUS: "1", MEMORY: "1260", DISK: "2252800", GPUS: "0" },
]
const FIRST_RUN = GLIDEINS.length

function label(g: Glidein): string {
  return `glidein CPUS=${g.CPUS} GPUS=${g.GPUS}`
}

/** How long a stand-in master stays up at most, whatever its -r (the suite cancels sooner). */
const MASTER_CAP_S = 600

/** Bytes of a pool password file: binary, with NUL, CR, LF and high bytes. */
const POOL_PASSWORD = Buffer.concat([
  Buffer.from([0xde, 0xad, 0x00, 0xbe, 0xef, 0x0a, 0x0d, 0xff, 0x00, 0x7f, 0x80]),
  crypto.getRandomValues(new Uint8Array(245)),
])

interface Context {
  work: string
  bin: string
  user: User
  e2eDir: string
  results: string
  pool: string
  condor: string
  tarball: string
  port: number
  serverUrl: string
}

async function main(): Promise<number> {
  if (!opts.bin || !opts.work) {
    process.stderr.write(
      "usage: bun test/e2e/suite.ts --bin FILE --work DIR [--clusters slurm,sge]\n",
    )
    return 2
  }
  const clusters = opts.clusters.split(",").filter((c) => c !== "") as ClusterName[]
  for (const c of clusters) {
    if (c !== "slurm" && c !== "sge") throw new Error(`unknown cluster "${c}" (slurm or sge)`)
  }
  const started = performance.now()
  const ctx = await prepare(resolve(opts.work), resolve(opts.bin), opts["e2e-dir"], opts.user)
  const runner = new Runner()
  const server = startServer(ctx)
  try {
    await runner.scenario("all", "serve", [], () => serveScenario(ctx, server))
    await runner.scenario("all", "tarball", [], () => tarballScenario(ctx))
    for (const name of clusters) await clusterScenarios(runner, ctx, cluster(name, ctx.e2eDir))
    await runner.scenario("all", "shutdown", ["serve"], () => shutdownScenario(server))
  } finally {
    server.kill("SIGKILL")
  }
  const results = runner.results
  const failed = results.filter((r) => r.outcome === "FAIL")
  const skipped = results.filter((r) => r.outcome === "SKIP")
  const seconds = ((performance.now() - started) / 1000).toFixed(0)
  const passed = results.length - failed.length - skipped.length
  const names = failed.map((f) => `${f.group}/${f.name}`).join(", ")
  process.stdout.write(
    `\n${passed}/${results.length} scenarios passed in ${seconds} s` +
      (failed.length ? `; failed: ${names}` : "") +
      (skipped.length ? `; ${skipped.length} skipped` : "") +
      "\n",
  )
  return passed === results.length ? 0 : 1
}

/** The run directory: binary, stand-in install, fake condor_q, results folder. */
async function prepare(
  work: string,
  bin: string,
  e2eDir: string,
  userName: string,
): Promise<Context> {
  const user = await lookupUser(userName)
  mkdirSync(work, { recursive: true, mode: 0o755 })
  chmodSync(work, 0o755)
  // The site user runs its own copy, as a site would after `scp`.
  const siteBin = join(work, "glidein")
  copyFileSync(bin, siteBin)
  chmodSync(siteBin, 0o755)
  // Masters run as the site user and write here; sticky so they cannot touch each other's.
  const results = join(work, "results")
  mkdirSync(results, { recursive: true })
  chmodSync(results, 0o1777)
  const condor = join(work, "condor")
  await runOk([
    join(import.meta.dir, "standin/make-condor.sh"),
    condor,
    results,
    String(MASTER_CAP_S),
  ])
  const pool = join(work, "pool")
  mkdirSync(pool, { recursive: true })
  copyFileSync(join(import.meta.dir, "standin/condor_q"), join(pool, "condor_q"))
  chmodSync(join(pool, "condor_q"), 0o755)
  await writeFile(join(pool, "demand.txt"), `${DEMAND_LINES.join("\n")}\n`)
  await writeFile(join(work, "pool_password"), POOL_PASSWORD, { mode: 0o600 })
  const port = await freePort()
  return {
    work,
    bin: siteBin,
    user,
    e2eDir,
    results,
    pool,
    condor,
    tarball: join(work, "glidein.tar.gz"),
    port,
    serverUrl: `http://127.0.0.1:${port}`,
  }
}

async function freePort(): Promise<number> {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } })
  const { port } = listener
  listener.stop(true)
  return port
}

type Server = ReturnType<typeof startServer>

function startServer(ctx: Context) {
  const log = Bun.file(join(ctx.work, "server.log"))
  const argv = [
    ctx.bin,
    "serve",
    "--host",
    "127.0.0.1",
    "--port",
    String(ctx.port),
    "--condor-q",
    join(ctx.pool, "condor_q"),
    "--db",
    join(ctx.work, "server.db"),
    "--delay",
    "1",
  ]
  return Bun.spawn(argv, { stdin: "ignore", stdout: log, stderr: log, cwd: ctx.work })
}

function serverLog(ctx: Context): string {
  const path = join(ctx.work, "server.log")
  return existsSync(path)
    ? `--- server.log (last lines)\n${tail(readFileSync(path, "utf8"), 30)}`
    : ""
}

function tail(text: string, n: number): string {
  return text.trimEnd().split("\n").slice(-n).join("\n")
}

// ---------------------------------------------------------------------------------- serve

async function serveScenario(ctx: Context, server: Server): Promise<string> {
  let last = ""
  const rows = await waitFor(
    "the server to publish the fake condor_q's demand on /api/state",
    20,
    async () => {
      check(server.exitCode === null, `glidein serve exited ${server.exitCode}`, serverLog(ctx))
      try {
        const res = await fetch(`${ctx.serverUrl}/api/state`)
        last = `GET /api/state → ${res.status} ${await res.clone().text()}`
        if (!res.ok) return undefined
        const found = demandRows(await res.json())
        return found && found.length > 0 ? found : undefined
      } catch (error) {
        last = `GET /api/state: ${(error as Error).message}`
        return undefined
      }
    },
    250,
    () => `${last}\n${serverLog(ctx)}`,
  )
  check(
    sameDemand(rows, EXPECTED_DEMAND),
    "/api/state is not the fake condor_q's demand",
    show(rows),
  )

  const health = await fetch(`${ctx.serverUrl}/healthz`)
  check(health.ok, `GET /healthz answered ${health.status}`)

  const rpc = await fetch(`${ctx.serverUrl}/jsonrpc`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "get_state", params: {} }),
  })
  const reply = (await rpc.json()) as { result?: unknown }
  const rpcRows = demandRows(reply.result)
  check(
    rpcRows !== undefined && sameDemand(rpcRows, EXPECTED_DEMAND),
    "JSON-RPC get_state does not return the demand",
    show(reply),
  )

  // condor_q was asked for idle jobs, with the constraint as one argument (no shell).
  const calls = readFileSync(join(ctx.pool, "calls.log"), "utf8")
    .split("\n\n")
    .filter((c) => c.trim() !== "")
    .map((c) => c.split("\n"))
  const query = calls.find((args) => args.some((a) => a.startsWith("-af")))
  check(
    query !== undefined,
    "condor_q was never run with -af",
    calls.map((c) => c.join(" ")).join("\n"),
  )
  for (const want of ["RequestCpus", "RequestMemory", "RequestDisk", "RequestGpus"]) {
    check(query.includes(want), `condor_q was not asked for ${want}`, query.join("\n"))
  }
  check(
    query.some((a) => /^JobStatus\s*==\s*1$/.test(a.trim())),
    'condor_q was not given "JobStatus == 1" as one argument',
    query.join("\n"),
  )
  return `demand ${EXPECTED_DEMAND.map((d) => `${d.count}×(${d.cpus} cpu, ${d.memory} MB, ${d.gpus} gpu)`).join(" + ")} on /api/state and get_state; condor_q ran ${calls.length}×`
}

interface DemandRowish {
  cpus: number
  memory: number
  disk: number
  gpus: number
  count: number
}

/** The demand rows in a server answer: the array itself, or the first array of rows in it. */
function demandRows(value: unknown): DemandRowish[] | undefined {
  const isRows = (v: unknown): v is DemandRowish[] =>
    Array.isArray(v) && v.every((r) => typeof r === "object" && r !== null && "cpus" in r)
  if (isRows(value)) return value
  if (typeof value === "object" && value !== null) {
    for (const v of Object.values(value)) if (isRows(v) && v.length > 0) return v
  }
  return undefined
}

function sameDemand(rows: DemandRowish[], expected: DemandRowish[]): boolean {
  const key = (r: DemandRowish) => `${r.cpus}/${r.memory}/${r.disk}/${r.gpus}/${r.count}`
  return (
    JSON.stringify(rows.map(key).sort()) === JSON.stringify(expected.map(key).sort()) &&
    rows.length === expected.length
  )
}

function show(value: unknown): string {
  return JSON.stringify(value, null, 2)
}

// -------------------------------------------------------------------------------- tarball

async function tarballScenario(ctx: Context): Promise<string> {
  const bare = join(ctx.work, "glidein-nopw.tar.gz")
  const built = await runOk([ctx.bin, "tarball", "build", "--condor", ctx.condor, "-o", bare], {
    cwd: ctx.work,
  })
  await runOk(
    [
      ctx.bin,
      "tarball",
      "inject-password",
      bare,
      "--password",
      join(ctx.work, "pool_password"),
      "-o",
      ctx.tarball,
    ],
    { cwd: ctx.work },
  )
  const mode = (await Bun.file(ctx.tarball).stat()).mode & 0o777
  check(mode === 0o600, `the tarball with the password has mode ${mode.toString(8)}, want 600`)

  const before = await listing(bare)
  const after = await listing(ctx.tarball)
  const pw = after.find((e) => /(^|\/)passwdfile$/.test(e.name))
  check(pw !== undefined, "no passwdfile in the tarball", after.map((e) => e.line).join("\n"))
  check(pw.mode === "-rw-------", `passwdfile has mode ${pw.mode}, want -rw-------`)
  const tar = Bun.spawn(["tar", "-xzOf", ctx.tarball, pw.name], { stdout: "pipe" })
  const extracted = Buffer.from(await new Response(tar.stdout).arrayBuffer())
  check((await tar.exited) === 0, "tar could not extract passwdfile")
  check(
    extracted.equals(POOL_PASSWORD),
    `passwdfile differs from the pool password (${extracted.length} bytes, want ${POOL_PASSWORD.length})`,
  )
  for (const daemon of ["condor_master", "condor_startd", "condor_starter"]) {
    check(
      after.some((e) => e.name.endsWith(`sbin/${daemon}`) && e.mode.includes("x")),
      `no executable sbin/${daemon} in the tarball`,
      after.map((e) => e.line).join("\n"),
    )
  }
  // Injecting changes nothing else.
  const describe = (entries: Entry[]) =>
    entries.filter((e) => e.name !== pw.name).map((e) => `${e.name} ${e.mode} ${e.size}`)
  check(
    JSON.stringify(describe(before)) === JSON.stringify(describe(after)),
    "inject-password changed entries other than passwdfile",
    `before:\n${describe(before).join("\n")}\nafter:\n${describe(after).join("\n")}`,
  )
  const size = (await Bun.file(ctx.tarball).stat()).size
  return `${after.length} entries, ${size} bytes, passwdfile ${POOL_PASSWORD.length} bytes byte-exact, mode 0600 (build ${built.seconds.toFixed(1)} s)`
}

interface Entry {
  name: string
  mode: string
  size: number
  line: string
}

/** `tar -tvzf` of an archive, one entry per line. */
async function listing(path: string): Promise<Entry[]> {
  const r = await runOk(["tar", "--numeric-owner", "-tvzf", path])
  return r.stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((line) => {
      // -rwxr-xr-x 0/0 1234 2024-01-01 00:00 name
      const f = line.split(/\s+/)
      return { mode: f[0]!, size: Number(f[2]), name: f.slice(5).join(" "), line }
    })
}

// ------------------------------------------------------------------------------ per cluster

interface Site {
  dir: string
  config: string
  state: string
  tarball: string
  uuid: string
  name: string
  env: Record<string, string>
}

/** Limits written into the site config for a scenario. */
interface Limits {
  maxTotal: number
  maxIdle: number
  perSubmit: number
}

async function clusterScenarios(runner: Runner, ctx: Context, c: Cluster): Promise<void> {
  const site = await prepareSite(ctx, c)
  const g = c.name
  await runner.scenario(g, "submit", ["all/serve", "all/tarball"], () =>
    submitScenario(ctx, c, site),
  )
  await runner.scenario(g, "glideins", ["submit"], () => glideinsScenario(ctx, c, site))
  await runner.scenario(g, "journal", ["submit"], () => journalScenario(ctx, c, site))
  await runner.scenario(g, "limits", ["submit"], () => limitsScenario(ctx, c, site))
  await runner.scenario(g, "lock", ["limits"], () => lockScenario(ctx, c, site))
  await runner.scenario(g, "report", ["submit"], () => reportScenario(ctx, site))
  await runner.scenario(g, "cancel", ["submit"], () => cancelScenario(ctx, c, site))
}

async function prepareSite(ctx: Context, c: Cluster): Promise<Site> {
  const dir = join(ctx.work, c.name)
  const state = join(dir, "state")
  mkdirSync(state, { recursive: true })
  const tarball = join(dir, "glidein.tar.gz")
  const name = c.name === "slurm" ? "E2E-Slurm" : "E2E-GridEngine"
  const site: Site = {
    dir,
    config: join(dir, "site.ini"),
    state,
    tarball,
    uuid: `e2e-${c.name}`,
    name,
    env: {
      PATH: "/usr/local/bin:/usr/bin:/bin",
      HOME: ctx.user.home,
      LOGNAME: ctx.user.name,
      SHELL: "/bin/sh",
      GLIDEIN_STATE_DIR: state,
      ...c.clientEnv,
    },
  }
  await writeSiteConfig(ctx, c, site, { maxTotal: FIRST_RUN, maxIdle: 10, perSubmit: 10 })
  for (const path of [dir, state, site.config]) chownSync(path, ctx.user.uid, ctx.user.gid)
  chmodSync(dir, 0o755)
  return site
}

async function writeSiteConfig(ctx: Context, c: Cluster, site: Site, limits: Limits) {
  const text = [
    `# ${c.name} test site, written by test/e2e/suite.ts`,
    "[Mode]",
    "debug = True",
    "",
    "[Glidein]",
    `address = ${ctx.serverUrl}/jsonrpc`,
    `site = ${site.name}`,
    `resourcename = ${site.name}-vm`,
    "cluster = pool.e2e.invalid",
    `uuid = ${site.uuid}`,
    `tarball = ${site.tarball}`,
    "",
    "[Cluster]",
    ...c.configLines,
    `walltime_hrs = ${WALLTIME_HRS}`,
    `max_total_jobs = ${limits.maxTotal}`,
    `max_idle_jobs = ${limits.maxIdle}`,
    `limit_per_submit = ${limits.perSubmit}`,
    "",
    "[CustomEnv]",
    `E2E_CLUSTER = ${c.name}`,
    "",
  ].join("\n")
  await writeFile(site.config, text)
}

function submit(ctx: Context, site: Site, extraEnv: Record<string, string> = {}) {
  return run([ctx.bin, "submit", "--config", site.config], {
    user: ctx.user,
    env: { ...site.env, ...extraEnv },
    cwd: site.dir,
    timeoutMs: 90_000,
  })
}

function recordsOf(ctx: Context, c: Cluster): MasterRecord[] {
  return readRecords(ctx.results, c.jobIdVariable).filter((r) => r.contract?.E2E_CLUSTER === c.name)
}

/** Batch output files the glideins left (debug mode), for failure details. */
async function batchOutput(site: Site): Promise<string> {
  const out: string[] = []
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const path = join(dir, e.name)
      if (e.isDirectory()) await walk(path)
      else if (/\.(out|err)$/.test(e.name)) {
        const text = readFileSync(path, "utf8")
        if (text.trim()) out.push(`--- ${path}\n${tail(text, 15)}`)
      }
    }
  }
  await walk(site.state)
  return out.slice(-6).join("\n")
}

async function submitScenario(ctx: Context, c: Cluster, site: Site): Promise<string> {
  copyFileSync(ctx.tarball, site.tarball)
  chownSync(site.tarball, ctx.user.uid, ctx.user.gid)
  chmodSync(site.tarball, 0o600)

  const r = await submit(ctx, site)
  check(r.code === 0, `glidein submit exited ${r.code}`, describeRun(r))
  const jobs = await waitFor(`${FIRST_RUN} glideins in the batch system`, 20, async () => {
    const list = await c.jobs(ctx.user.name)
    return list.length >= FIRST_RUN ? list : undefined
  })
  check(
    jobs.length === FIRST_RUN,
    `${jobs.length} glideins in the batch system, want ${FIRST_RUN}`,
    `${show(jobs)}\n${describeRun(r)}`,
  )
  let seen = 0
  await waitFor(
    "every glidein to start its condor_master",
    60,
    async () => {
      seen = recordsOf(ctx, c).length
      return seen >= FIRST_RUN ? true : undefined
    },
    500,
    () => `${seen} master(s) recorded; batch jobs: ${show(jobs)}\n${describeRun(r)}`,
  ).catch(async (error: unknown) => {
    if (error instanceof CheckFailed)
      throw new CheckFailed(error.message, `${error.details ?? ""}\n${await batchOutput(site)}`)
    throw error
  })
  return `submit ${r.seconds.toFixed(1)} s; jobs ${jobs
    .map((j) => j.id)
    .sort((a, b) => Number(a) - Number(b))
    .join(", ")} started their masters`
}

async function glideinsScenario(ctx: Context, c: Cluster, site: Site): Promise<string> {
  const records = recordsOf(ctx, c)
  const jobs = await c.jobs(ctx.user.name)
  check(
    records.length === FIRST_RUN,
    `${records.length} masters started, want ${FIRST_RUN}`,
    records.map((r) => r.dir).join("\n"),
  )
  const shape = (env: Record<string, string> | undefined) => `${env?.CPUS}/${env?.GPUS}`
  // Every glidein is checked, so one failure does not hide another.
  const checkGlidein = async (want: Glidein): Promise<void> => {
    const rec = records.find((r) => shape(r.contract) === shape({ ...want }))
    check(
      rec !== undefined,
      `no ${label(want)} started`,
      records.map((r) => show(r.contract)).join("\n"),
    )
    // Exactly the contract: the job script starts glidein_start.sh from `env -i`.
    const env = rec.contract!
    const expected: Record<string, string> = {
      ...want,
      WALLTIME: String(WALLTIME_S),
      SITE: site.name,
      ResourceName: `${site.name}-vm`,
      CLUSTER: "pool.e2e.invalid",
      GLIDEIN_TARBALL: site.tarball,
      E2E_CLUSTER: c.name,
    }
    for (const [k, v] of Object.entries(expected)) {
      check(env[k] === v, `${label(want)}: ${k}=${JSON.stringify(env[k])}, want "${v}"`, show(env))
    }
    // glidein_start.sh also reads the GPUs the batch system assigned, when there are any.
    if (env.CUDA_VISIBLE_DEVICES !== undefined) {
      const assigned = rec.jobEnv?.CUDA_VISIBLE_DEVICES
      check(
        env.CUDA_VISIBLE_DEVICES === assigned,
        `${label(want)}: CUDA_VISIBLE_DEVICES=${env.CUDA_VISIBLE_DEVICES}, but the batch system assigned ${JSON.stringify(assigned)}`,
      )
      expected.CUDA_VISIBLE_DEVICES = assigned
    }
    const extra = Object.keys(env).filter((k) => !(k in expected))
    check(
      extra.length === 0,
      `${label(want)}: glidein_start.sh was started with more than the contract: ${extra.join(", ")}`,
      show(env),
    )
    check(rec.user === ctx.user.name, `the master ran as "${rec.user}", want "${ctx.user.name}"`)

    // The batch job asked the scheduler for the same resources.
    check(rec.jobId !== undefined, "no batch job id above the master", rec.dir)
    const job = jobs.find((j) => j.id === rec.jobId)
    check(
      job?.state === "running",
      `job ${rec.jobId} is ${job?.raw ?? "gone"}, want running`,
      show(jobs),
    )
    const req = await c.request(rec.jobId)
    const cpus = Number(want.CPUS)
    const wantReq = {
      owner: ctx.user.name,
      cpus,
      memoryMb: c.requestedMemory(Number(want.MEMORY), cpus),
      gpus: Number(want.GPUS),
      timeLimitS: BATCH_LIMIT_S,
    }
    check(
      show(req) === show(wantReq),
      `${label(want)}: job ${rec.jobId} asked ${c.name} for other resources`,
      `got ${show(req)}\nwant ${show(wantReq)}`,
    )

    // The master: foreground, retiring before WALLTIME, configured for this glidein.
    checkMaster(rec, want, site)

    // The credential, byte for byte, private.
    check(
      rec.passwordPath !== undefined,
      "the master was given no SEC_PASSWORD_FILE",
      show(rec.env),
    )
    check(rec.password !== undefined, `the pool password ${rec.passwordPath} was not readable`)
    check(
      rec.password.equals(POOL_PASSWORD),
      `the pool password the master sees differs (${rec.password.length} bytes, want ${POOL_PASSWORD.length})`,
    )
    check(rec.passwordMode === "600", `the pool password has mode ${rec.passwordMode}, want 600`)
  }
  const failures: CheckFailed[] = []
  for (const want of GLIDEINS) {
    await checkGlidein(want).catch((error: unknown) => {
      if (!(error instanceof CheckFailed)) throw error
      failures.push(error)
    })
  }
  if (failures.length > 0) {
    const more = failures.length > 1 ? ` (and ${failures.length - 1} more below)` : ""
    throw new CheckFailed(
      `${failures[0]!.message}${more}`,
      failures.map((f) => [f.message, f.details].filter(Boolean).join("\n")).join("\n\n"),
    )
  }
  const shapes = GLIDEINS.map((g) => `${g.CPUS} cpu/${g.MEMORY} MB/${g.GPUS} gpu`).join(", ")
  return `${FIRST_RUN} glideins (${shapes}) with WALLTIME=${WALLTIME_S}, SITE, CLUSTER; batch requests match; password byte-exact; condor_master ${records[0]!.args.join(" ")}`
}

/**
 * glidein_start.sh's default RETIRETIME is WALLTIME / 4, at most 1200 s: no new jobs after
 * WALLTIME − RETIRETIME, which `condor_master -r` gets in whole minutes, rounded down.
 */
const RETIRE_S = Math.min(Math.floor(WALLTIME_S / 4), 1200)
const RETIRE_MINUTES = Math.floor((WALLTIME_S - RETIRE_S) / 60)

/**
 * How the master was started: in the foreground with the retirement time, its daemons beside
 * it, and HTCondor configured (through `_condor_*`) with exactly the glidein's resources.
 */
function checkMaster(rec: MasterRecord, want: Glidein, site: Site): void {
  const args = rec.args
  const label = `glidein CPUS=${want.CPUS} GPUS=${want.GPUS}`
  check(args.includes("-f"), `condor_master was started without -f: ${args.join(" ")}`)
  const at = args.indexOf("-r")
  check(
    at >= 0 && args[at + 1] === String(RETIRE_MINUTES),
    `condor_master ${args.join(" ")}: want -r ${RETIRE_MINUTES} (minutes until WALLTIME ${WALLTIME_S} s − RETIRETIME ${RETIRE_S} s)`,
  )
  check(!rec.error, `the stand-in master reported: ${rec.error}`)
  for (const d of ["condor_startd", "condor_starter"]) {
    check(rec.daemons.includes(d), `${d} is missing or not executable beside condor_master`)
  }
  const config: Record<string, string> = {
    _condor_NUM_CPUS: want.CPUS,
    _condor_MEMORY: want.MEMORY,
    _condor_DISK: want.DISK,
    _condor_GLIDEIN_Site: `"${site.name}"`,
    _condor_GLIDEIN_ResourceName: `"${site.name}-vm"`,
    _condor_GLIDEIN_Max_Walltime: String(WALLTIME_S),
    _condor_CONDOR_HOST: "pool.e2e.invalid",
  }
  for (const [k, v] of Object.entries(config)) {
    check(
      rec.env[k] === v,
      `${label}: master has ${k}=${JSON.stringify(rec.env[k])}, want ${JSON.stringify(v)}`,
    )
  }
  const toDie = Number(rec.env._condor_GLIDEIN_ToDie)
  const toRetire = Number(rec.env._condor_GLIDEIN_ToRetire)
  check(
    toDie - toRetire === RETIRE_S &&
      toDie - rec.started <= WALLTIME_S &&
      toDie - rec.started > WALLTIME_S - 60,
    `${label}: GLIDEIN_ToRetire ${toRetire} and GLIDEIN_ToDie ${toDie} for a master started at ${rec.started}: want the end WALLTIME ${WALLTIME_S} s after the start and retirement ${RETIRE_S} s before it`,
  )
  // GPUs: as many as planned; the ones the batch system assigned when it says which.
  const advertised = (rec.env._condor_MACHINE_RESOURCE_GPUs ?? "")
    .split(/[,\s]+/)
    .filter((id) => id !== "" && id !== "0")
  check(
    advertised.length === Number(want.GPUS),
    `${label}: the master advertises ${advertised.length} GPUs (MACHINE_RESOURCE_GPUs=${JSON.stringify(rec.env._condor_MACHINE_RESOURCE_GPUs)}), want ${want.GPUS}`,
  )
  const assigned = rec.jobEnv?.CUDA_VISIBLE_DEVICES
  if (Number(want.GPUS) > 0 && assigned) {
    const ids = assigned.split(",").map((id) => (/^\d+$/.test(id) ? `CUDA${id}` : id))
    check(
      show(advertised) === show(ids),
      `${label}: the master advertises GPUs ${advertised.join(", ")}, but the batch job was assigned CUDA_VISIBLE_DEVICES=${assigned}: the assignment did not reach glidein_start.sh`,
      `the job's environment above env -i has CUDA_VISIBLE_DEVICES=${assigned}; glidein_start.sh's environment: ${show(rec.contract)}`,
    )
  }
}

async function journalScenario(ctx: Context, c: Cluster, site: Site): Promise<string> {
  const journal = await journalRecords(site)
  const submits = journal.filter((j) => j.kind === "submit")
  const jobIds = submits.flatMap((s) => s.jobIds ?? [])
  const batch = (await c.jobs(ctx.user.name)).map((j) => j.id)
  check(
    submits.reduce((n, s) => n + (s.count ?? 0), 0) === FIRST_RUN,
    `the journal does not record ${FIRST_RUN} glideins`,
    show(journal),
  )
  check(
    same(jobIds, batch),
    "the journal's job ids are not the batch system's",
    `journal ${show(jobIds)}\nbatch ${show(batch)}`,
  )

  // status --config: what the batch system and the journal hold, and what a run would do.
  const asUser = { user: ctx.user, env: site.env, cwd: site.dir }
  const json = await runOk([ctx.bin, "status", "--config", site.config, "--json"], asUser)
  const status = JSON.parse(json.stdout) as {
    demand_jobs?: number
    partitions?: {
      running?: number
      idle?: number
      journaled_not_cancelled?: number
      would_submit?: unknown[]
    }[]
  }
  const p = status.partitions?.[0]
  const seen = {
    demand_jobs: status.demand_jobs,
    partitions: status.partitions?.length,
    running: p?.running,
    idle: p?.idle,
    journaled_not_cancelled: p?.journaled_not_cancelled,
    would_submit: p?.would_submit?.length,
  }
  const want = {
    demand_jobs: DEMAND_JOBS,
    partitions: 1,
    running: FIRST_RUN,
    idle: 0,
    journaled_not_cancelled: FIRST_RUN,
    would_submit: 0, // max_total_jobs is reached
  }
  check(
    show(seen) === show(want),
    "status --config --json disagrees",
    `got ${show(seen)}\nwant ${show(want)}\n${json.stdout}`,
  )
  const text = await runOk([ctx.bin, "status", "--config", site.config], asUser)
  check(
    text.stdout.includes(`${FIRST_RUN} running, 0 idle`),
    `status --config does not say "${FIRST_RUN} running, 0 idle"`,
    describeRun(text),
  )
  const listed = new Set(
    text.stdout
      .split("\n")
      .filter((l) => l.includes("journal"))
      .flatMap((l) => l.split(/[\s,:]+/)),
  )
  const unlisted = batch.filter((id) => !listed.has(id))
  check(
    unlisted.length === 0,
    `status --config does not list the journal's job ${unlisted.join(", ")}`,
    describeRun(text),
  )
  return `journal lists jobs ${jobIds.join(", ")}; status --config: ${FIRST_RUN} running, 0 idle, ${DEMAND_JOBS} idle jobs wanted, nothing to submit`
}

function same(a: string[], b: string[]): boolean {
  return JSON.stringify([...a].sort()) === JSON.stringify([...b].sort())
}

interface JournalLine {
  kind: string
  count?: number
  jobIds?: string[]
}

/** The lock file of the site's config (created by its first run). */
async function lockFile(site: Site): Promise<string> {
  for (const e of await readdir(site.state, { withFileTypes: true })) {
    const path = join(site.state, e.name, "lock")
    if (e.isDirectory() && existsSync(path)) return path
  }
  throw new CheckFailed(`no lock file under ${site.state}`)
}

async function journalRecords(site: Site): Promise<JournalLine[]> {
  const out: JournalLine[] = []
  for (const e of await readdir(site.state, { withFileTypes: true })) {
    const path = join(site.state, e.name, "journal.jsonl")
    if (!e.isDirectory() || !existsSync(path)) continue
    for (const line of readFileSync(path, "utf8").split("\n")) {
      if (line.trim()) out.push(JSON.parse(line) as JournalLine)
    }
  }
  check(out.length > 0, `no journal.jsonl under ${site.state}`)
  return out
}

async function counts(ctx: Context, c: Cluster) {
  const jobs = await c.jobs(ctx.user.name)
  return {
    running: jobs.filter((j) => j.state === "running").length,
    pending: jobs.filter((j) => j.state === "pending").length,
    other: jobs.filter((j) => j.state === "other"),
    jobs,
  }
}

async function limitsScenario(ctx: Context, c: Cluster, site: Site): Promise<string> {
  // The node is full (4 cores, 3 glideins); demand is 7 jobs. With max_idle_jobs = 2 one run
  // queues 2 more, and the next run none, however much demand there is.
  await writeSiteConfig(ctx, c, site, { maxTotal: 10, maxIdle: 2, perSubmit: 10 })
  const first = await submit(ctx, site)
  check(first.code === 0, `glidein submit exited ${first.code}`, describeRun(first))
  const after1 = await counts(ctx, c)
  check(
    after1.running === FIRST_RUN && after1.pending === 2 && after1.other.length === 0,
    `after one run: ${after1.running} running, ${after1.pending} pending, want ${FIRST_RUN} and 2`,
    `${show(after1.jobs)}\n${describeRun(first)}`,
  )
  const second = await submit(ctx, site)
  check(second.code === 0, `the second glidein submit exited ${second.code}`, describeRun(second))
  const after2 = await counts(ctx, c)
  check(
    after2.running === FIRST_RUN && after2.pending === 2,
    `after a second run: ${after2.running} running, ${after2.pending} pending; max_idle_jobs = 2 should have stopped it`,
    `${show(after2.jobs)}\n${describeRun(second)}`,
  )
  return `max_idle_jobs = 2 with ${DEMAND_JOBS} idle jobs of demand on a full node: +2 pending, then +0`
}

async function lockScenario(ctx: Context, c: Cluster, site: Site): Promise<string> {
  // Each run may submit one glidein (limit_per_submit = 1), so a second run that submits
  // anything, at once or after waiting, shows. The first run is slowed down while it counts
  // (its squeue/qstat sleeps 2 s); the second starts once the first holds the lock.
  await writeSiteConfig(ctx, c, site, { maxTotal: 10, maxIdle: 10, perSubmit: 1 })
  const slow = join(ctx.work, `slow-${c.name}`)
  mkdirSync(slow, { recursive: true })
  const real = (await runOk(["sh", "-c", `command -v ${c.countCommand}`])).stdout.trim()
  await writeFile(join(slow, c.countCommand), `#!/bin/sh\nsleep 2\nexec ${real} "$@"\n`, {
    mode: 0o755,
  })
  chmodSync(slow, 0o755)

  const journalBefore = (await journalRecords(site)).length
  const lock = await lockFile(site)
  const holderBefore = readFileSync(lock, "utf8")
  const order: string[] = []
  const first = submit(ctx, site, { PATH: `${slow}:${site.env.PATH}` }).then((r) => {
    order.push("first")
    return r
  })
  // The lock file names its holder once the lock is taken.
  await waitFor("the first run to take the lock", 10, async () =>
    readFileSync(lock, "utf8") !== holderBefore || order.length > 0 ? true : undefined,
  )
  const second = await submit(ctx, site)
  order.push("second")
  const firstDone = await first
  check(
    firstDone.code === 0,
    `the first (slow) submit exited ${firstDone.code}`,
    describeRun(firstDone),
  )
  check(
    second.code === 0,
    `the overlapping submit exited ${second.code}, want 0 (another run is active)`,
    describeRun(second),
  )
  check(
    order[0] === "second",
    "the overlapping submit ended after the first one: it waited for the lock instead of leaving",
    `${describeRun(second)}\n${describeRun(firstDone)}`,
  )
  const said = `${second.stdout}\n${second.stderr}`
  check(
    /another|already|lock|in progress|active/i.test(said),
    "the overlapping submit did not say another run holds the lock",
    describeRun(second),
  )
  const now = await counts(ctx, c)
  check(
    now.running === FIRST_RUN && now.pending === 3,
    `${now.running} running, ${now.pending} pending, want ${FIRST_RUN} and 3 (one submission, not two)`,
    `${show(now.jobs)}\n${describeRun(firstDone)}\n${describeRun(second)}`,
  )
  const journalAfter = await journalRecords(site)
  check(
    journalAfter.length === journalBefore + 1,
    `the journal grew by ${journalAfter.length - journalBefore} records, want 1`,
    show(journalAfter.slice(journalBefore)),
  )
  return `a run started while another held the lock left at once and said so; 1 glidein added, not 2`
}

async function reportScenario(ctx: Context, site: Site): Promise<string> {
  const res = await fetch(`${ctx.serverUrl}/api/clients`)
  check(res.ok, `GET /api/clients answered ${res.status}`)
  const body = (await res.json()) as unknown
  const client = findClient(body, site.uuid)
  check(client !== undefined, `/api/clients has no client "${site.uuid}"`, show(body))
  const running = findMetric(client, "glideins_running")
  check(
    running !== undefined && Object.values(running).reduce((a, b) => a + b, 0) === FIRST_RUN,
    `/api/clients reports ${show(running)} running glideins for "${site.uuid}", want ${FIRST_RUN}`,
    show(client),
  )
  const page = await fetch(`${ctx.serverUrl}/`)
  const html = await page.text()
  check(
    page.ok && html.includes(site.uuid),
    `the status page does not show "${site.uuid}"`,
    tail(html, 40),
  )
  return `/api/clients and / show ${site.uuid} with ${JSON.stringify(running)} running`
}

/** The client entry in an /api/clients answer whose uuid (or key) is `uuid`. */
function findClient(body: unknown, uuid: string): Record<string, unknown> | undefined {
  const visit = (v: unknown, key?: string): Record<string, unknown> | undefined => {
    if (Array.isArray(v)) {
      for (const item of v) {
        const found = visit(item)
        if (found) return found
      }
    } else if (typeof v === "object" && v !== null) {
      const o = v as Record<string, unknown>
      if (o.uuid === uuid || o.name === uuid || key === uuid) return o
      for (const [k, child] of Object.entries(o)) {
        const found = visit(child, k)
        if (found) return found
      }
    }
    return undefined
  }
  return visit(body)
}

/** `metrics.<name>` (or `<name>`) as partition → number. */
function findMetric(
  client: Record<string, unknown>,
  name: string,
): Record<string, number> | undefined {
  const metrics = (client.metrics ?? client) as Record<string, unknown>
  const value = metrics[name]
  if (typeof value === "object" && value !== null) return value as Record<string, number>
  if (typeof value === "number") return { total: value }
  return undefined
}

async function cancelScenario(ctx: Context, c: Cluster, site: Site): Promise<string> {
  const before = await c.jobs(ctx.user.name)
  const r = await run([ctx.bin, "cancel", "--config", site.config], {
    user: ctx.user,
    env: site.env,
    cwd: site.dir,
  })
  check(r.code === 0, `glidein cancel --config exited ${r.code}`, describeRun(r))
  let left: unknown = []
  await waitFor(
    "the batch system to drop every glidein",
    30,
    async () => {
      const jobs = await c.jobs(ctx.user.name)
      left = jobs
      return jobs.length === 0 ? true : undefined
    },
    500,
    () => `still listed: ${show(left)}\n${describeRun(r)}`,
  )
  let alive: MasterRecord[] = []
  await waitFor(
    "every stand-in condor_master to end",
    20,
    async () => {
      alive = recordsOf(ctx, c).filter(masterAlive)
      return alive.length === 0 ? true : undefined
    },
    500,
    () => `still running: ${alive.map((a) => `pid ${a.pid} (${a.dir})`).join(", ")}`,
  )
  const journal = await journalRecords(site)
  const cancelled = new Set(
    journal.filter((j) => j.kind === "cancel").flatMap((j) => j.jobIds ?? []),
  )
  const missing = before.map((j) => j.id.replace(/\..*$/, "")).filter((id) => !cancelled.has(id))
  check(
    missing.length === 0,
    `the journal has no cancel record for ${missing.join(", ")}`,
    show(journal),
  )
  const stops = new Map<string, number>()
  for (const m of recordsOf(ctx, c)) {
    const how = !m.stopped
      ? "SIGKILL"
      : m.stopped === "lifetime"
        ? "its lifetime"
        : `SIG${m.stopped}`
    stops.set(how, (stops.get(how) ?? 0) + 1)
  }
  const how = [...stops].map(([sig, n]) => `${n} by ${sig}`).join(", ")
  return `${before.length} glideins removed in ${r.seconds.toFixed(1)} s; masters ended: ${how}`
}

async function shutdownScenario(server: Server): Promise<string> {
  const started = performance.now()
  server.kill("SIGTERM")
  const code = await Promise.race([server.exited, Bun.sleep(10_000).then(() => "timeout" as const)])
  check(code !== "timeout", "glidein serve did not exit within 10 s of SIGTERM")
  check(code === 0, `glidein serve exited ${code} after SIGTERM, want 0`)
  return `SIGTERM → exit 0 in ${((performance.now() - started) / 1000).toFixed(1)} s`
}

main()
  .then((code) => process.exit(code))
  .catch((error: unknown) => {
    process.stderr.write(`e2e suite crashed: ${(error as Error)?.stack ?? String(error)}\n`)
    process.exit(1)
  })
