/**
 * glidein_start.sh in a real HTCondor pool: a personal central manager on loopback
 * (collector, negotiator, schedd; no startd) made from the install GLIDEIN_TEST_CONDOR names
 * (a `make install` prefix or an unpacked release), tarballs built by `tarball build` from the
 * same install, real jobs, and glideins that must join with IDTOKENS and with PASSWORD, run
 * the jobs, leave when idle, and fail, saying why, with a wrong credential. Skipped, saying so,
 * without GLIDEIN_TEST_CONDOR. Run as root, HTCondor and the glideins run as
 * GLIDEIN_TEST_CONDOR_USER (default nobody), since HTCondor runs no job as root.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { chmodSync, chownSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import path from "node:path"
import { buildTarball } from "../tarball/build-tarball.ts"
import { removeTempDirs, tempDir } from "../tarball/test-support.ts"
import { GLIDEIN_START_SH } from "./index.ts"

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

interface Pool {
  dir: string
  port: number
  env: { [name: string]: string }
  master: ReturnType<typeof Bun.spawn>
}

/** Runs an HTCondor tool of the install against the pool. */
function tool(pool: Pool, name: string, args: string[]): { code: number; out: string } {
  const bin = ["bin", "sbin"].map((d) => path.join(CONDOR as string, d, name)).find(existsSync)
  const r = Bun.spawnSync(as([bin ?? name, ...args]), { env: pool.env, cwd: pool.dir })
  return { code: r.exitCode ?? -1, out: r.stdout.toString() + r.stderr.toString() }
}

async function freePort(): Promise<number> {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } })
  const port = server.port
  server.stop(true)
  return port
}

/** Waits up to `seconds` for `ready`, polling every second. */
async function until(seconds: number, ready: () => boolean): Promise<boolean> {
  for (let i = 0; i < seconds; i++) {
    if (ready()) return true
    await Bun.sleep(1000)
  }
  return ready()
}

async function startPool(): Promise<Pool> {
  const dir = ownedDir("glidein-pool-")
  const port = await freePort()
  const config = `RELEASE_DIR = ${CONDOR}
LOCAL_DIR = ${dir}
LOCAL_CONFIG_FILE =
LOCAL_CONFIG_DIR =
LOCK = $(LOCAL_DIR)/lock
DAEMON_LIST = MASTER, COLLECTOR, NEGOTIATOR, SCHEDD
CONDOR_HOST = 127.0.0.1
COLLECTOR_HOST = 127.0.0.1:${port}
NETWORK_INTERFACE = 127.0.0.1
BIND_ALL_INTERFACES = False
USE_SHARED_PORT = False
UID_DOMAIN = pool.test
TRUST_DOMAIN = pool.test
NEGOTIATOR_INTERVAL = 5
NEGOTIATOR_CYCLE_DELAY = 5
SCHEDD_INTERVAL = 5
SEC_DEFAULT_AUTHENTICATION = REQUIRED
SEC_DEFAULT_AUTHENTICATION_METHODS = FS, IDTOKENS, PASSWORD
SEC_CLIENT_AUTHENTICATION_METHODS = FS, IDTOKENS, PASSWORD
SEC_ADVERTISE_STARTD_AUTHENTICATION_METHODS = IDTOKENS, PASSWORD
SEC_ADVERTISE_MASTER_AUTHENTICATION_METHODS = IDTOKENS, PASSWORD
SEC_DEFAULT_INTEGRITY = REQUIRED
SEC_PASSWORD_DIRECTORY = $(LOCAL_DIR)/passwords.d
SEC_PASSWORD_FILE = $(LOCAL_DIR)/passwords.d/POOL
SEC_TOKEN_DIRECTORY = $(LOCAL_DIR)/tokens.d
SEC_TOKEN_SYSTEM_DIRECTORY = $(LOCAL_DIR)/tokens.d
ALLOW_READ = *
ALLOW_WRITE = *@pool.test, condor@password, condor_pool@*
ALLOW_ADMINISTRATOR = *@pool.test
ALLOW_DAEMON = *@pool.test, condor@password, condor_pool@*
ALLOW_NEGOTIATOR = *@pool.test
ALLOW_ADVERTISE_STARTD = glidein@pool.test, condor@password, condor_pool@*
ALLOW_ADVERTISE_MASTER = glidein@pool.test, condor@password, condor_pool@*
`
  const file = path.join(dir, "condor_config")
  writeFileSync(file, config)
  const env = {
    CONDOR_CONFIG: file,
    PATH: `${CONDOR}/bin:${CONDOR}/sbin:/usr/bin:/bin`,
    HOME: dir,
  }
  for (const sub of ["log", "spool", "execute", "lock", "passwords.d", "tokens.d", "jobs"]) {
    Bun.spawnSync(as(["mkdir", "-p", path.join(dir, sub)]))
  }
  Bun.spawnSync(as(["chmod", "700", path.join(dir, "passwords.d")]))
  const master = Bun.spawn(as([path.join(CONDOR as string, "sbin/condor_master"), "-f"]), {
    env,
    stdout: "ignore",
    stderr: "ignore",
  })
  const pool = { dir, port, env, master }
  const stored = tool(pool, "condor_store_cred", [
    "add",
    "-c",
    "-p",
    "glidein-test-pool",
    "-f",
    path.join(dir, "passwords.d/POOL"),
  ])
  if (stored.code !== 0) throw new Error(`condor_store_cred: ${stored.out}`)
  const up = await until(60, () => {
    const r = tool(pool, "condor_status", ["-schedd", "-af", "Name"])
    return r.code === 0 && r.out.trim() !== ""
  })
  if (!up) throw new Error(`the pool did not come up; see ${dir}/log`)
  return pool
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
    // every daemon on loopback
    _condor_NETWORK_INTERFACE: "127.0.0.1",
    _condor_UPDATE_INTERVAL: String(UPDATE),
    // One host plays both the pool and the batch node: FS would pass the glidein off as a
    // local user, and its family session would be offered to the pool's collector.
    _condor_SEC_CLIENT_AUTHENTICATION_METHODS: "IDTOKENS, PASSWORD",
    _condor_SEC_USE_FAMILY_SESSION: "False",
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
  let pool: Pool
  const glideins: { [name: string]: Glidein } = {}
  let ads: string[] = []
  let history: string[] = []
  let jobs: string

  beforeAll(async () => {
    pool = await startPool()
    jobs = path.join(pool.dir, "jobs")
    const token = tool(pool, "condor_token_create", [
      "-identity",
      "glidein@pool.test",
      "-authz",
      "ADVERTISE_STARTD",
      "-authz",
      "ADVERTISE_MASTER",
      "-authz",
      "READ",
      "-key",
      "POOL",
    ])
    if (token.code !== 0) throw new Error(`condor_token_create: ${token.out}`)
    const jwt = token.out.trim()
    const password = Bun.spawnSync(as(["cat", path.join(pool.dir, "passwords.d/POOL")])).stdout
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
    const passwordTarball = await build("password.tar.gz", { password: new Uint8Array(password) })
    const forged = `${jwt.slice(0, -6)}AAAAAA\n`
    const badTarball = await build("bad.tar.gz", { token: new TextEncoder().encode(forged) })

    const files: { [name: string]: string } = {
      "job.sh": JOB,
      "plain.sub": submitFile("plain", ["request_cpus = 1", "queue 2"]),
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
    for (const sub of ["plain.sub", "multi.sub", "gpu.sub", "gpucap.sub"]) {
      const r = Bun.spawnSync(as([`${CONDOR}/bin/condor_submit`, sub]), {
        env: pool.env,
        cwd: jobs,
      })
      if (r.exitCode !== 0) throw new Error(`condor_submit ${sub}: ${r.stderr.toString()}`)
    }

    glideins.token = startGlidein("token", tokenTarball, {
      SLURM_JOB_ID: "5001",
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
      ads = tool(pool, "condor_status", [
        "-af:,",
        "Name",
        "GLIDEIN_Site",
        "GLIDEIN_BatchJobId",
        "PYGLIDEIN_TIME_TO_LIVE",
        "HAS_FOO",
        "TotalGPUs",
        "GPUs_Capability",
      ]).out.split("\n")
      return ads.filter((l) => l.startsWith("slot1@")).length >= 3
    })
    await until(240, () => tool(pool, "condor_q", ["-af", "ClusterId"]).out.trim() === "")
    history = tool(pool, "condor_history", [
      "-af:,",
      "Cmd",
      "ExitCode",
      "LastRemoteHost",
    ]).out.split("\n")
    await Promise.all(Object.values(glideins).map((g) => finish(g, NOCLAIM + 6 * UPDATE + 120)))
  }, 900_000)

  afterAll(async () => {
    if (pool) {
      pool.master.kill("SIGTERM")
      const timer = setTimeout(() => pool.master.kill("SIGKILL"), 60_000)
      await pool.master.exited
      clearTimeout(timer)
    }
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
