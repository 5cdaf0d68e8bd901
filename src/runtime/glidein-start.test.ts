/**
 * templates/glidein_start.sh run for real: `env -i ... sh ./glidein_start.sh` in a scratch
 * directory, against tarballs built by `tarball build` from a stand-in HTCondor install whose
 * condor_master records its arguments, environment and the credential files it can see.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { createHash } from "node:crypto"
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { hostname } from "node:os"
import path from "node:path"
import { logUploadEnv, logUploadForm } from "../client/site/log-upload.ts"
import { buildTarball } from "../tarball/build-tarball.ts"
import type { Credentials } from "../tarball/credentials.ts"
import {
  put,
  removeTempDirs,
  run,
  standInInstall,
  tarMember,
  tarMemberOf,
  tempDir,
} from "../tarball/test-support.ts"
import { VERSION } from "../version.ts"
import { fakeS3 } from "./fake-s3.ts"
import { GLIDEIN_START_SH } from "./index.ts"

const PASSWORD = Uint8Array.of(0x9a, 0xcf, 0xd1, 0x8a, 0x00, 0xde, 0xad, 0x0a)
const TOKEN = "eyJhbGciOiJIUzI1NiIsImtpZCI6IlBPT0wifQ.eyJzdWIiOiJnbGlkZWluQHBvb2wifQ.c2ln\n"

/**
 * The stand-in condor_master: writes master.json into $STANDIN_RECORD, a MasterLog, then
 * exits with $STANDIN_EXIT, or with STANDIN_STAY waits for the signal glidein_start.sh sends.
 */
const MASTER = `#!${process.execPath}
const fs = require("node:fs"), path = require("node:path")
if (process.argv[2] === "-version") {
  if (process.env.STANDIN_BROKEN) { console.log("error while loading shared libraries: libfoo.so.1"); process.exit(127) }
  console.log("$CondorVersion: 25.0.0 2026-01-01 BuildID: 0 $")
  process.exit(0)
}
const env = process.env, dir = env._condor_GLIDEIN_DIR, record = env.STANDIN_RECORD
const file = (p) => ({ path: p, base64: fs.readFileSync(p).toString("base64"), mode: fs.statSync(p).mode & 0o777 })
const tokens = path.join(dir, "tokens.d")
const credentials = {
  password: env._condor_SEC_PASSWORD_FILE ? file(env._condor_SEC_PASSWORD_FILE) : null,
  tokens: fs.existsSync(tokens) ? fs.readdirSync(tokens).map((n) => file(path.join(tokens, n))) : [],
}
fs.writeFileSync(path.join(dir, "log", "MasterLog"), "11/21/25 condor_master starting\\nERROR: stand-in failure detail\\n" + (env.STANDIN_MASTERLOG ?? ""))
fs.writeFileSync(path.join(dir, "log", ".master_address"), "<127.0.0.1:9618>\\n")
require("node:child_process").spawnSync("mkfifo", [path.join(dir, "log", "procd_pipe")])
if (env.STANDIN_STARTLOG !== undefined) {
  fs.writeFileSync(path.join(dir, "log", "StartLog"), env.STANDIN_STARTLOG)
  fs.writeFileSync(path.join(dir, "log", "StarterLog.testing"), "the startd tries its starter at start\\n")
}
fs.writeFileSync(path.join(record, "master.json"), JSON.stringify({ argv: process.argv.slice(2), env, cwd: process.cwd(), credentials }))
if (env.STANDIN_STAY) {
  for (const signal of ["SIGQUIT", "SIGTERM"]) process.on(signal, () => { fs.writeFileSync(path.join(record, "signal"), signal); process.exit(0) })
  setInterval(() => {}, 1000)
  fs.writeFileSync(path.join(record, "ready"), "")
} else process.exit(Number(env.STANDIN_EXIT ?? 0))
`

/**
 * Stand-in GPU discovery, printing what HTCondor's (25.x, nested properties) would on a node
 * with three GPUs, of which it reports only those CUDA_VISIBLE_DEVICES names by index, as the
 * real one does. It records its arguments and CUDA_VISIBLE_DEVICES; STANDIN_DISCOVERY_HANG
 * makes it hang.
 */
const DISCOVERY = `#!/bin/sh
printf '%s\\n' "$*" "\${CUDA_VISIBLE_DEVICES-unset}" > "$STANDIN_RECORD/discovery"
[ -z "$STANDIN_DISCOVERY_HANG" ] || exec sleep 30
for arg in "$@"; do case $arg in -properties) props=1 ;; esac; done
[ -n "$props" ] || exit 1
ids="GPU-aaaa1111 GPU-bbbb2222 GPU-cccc3333"
if [ -n "\${CUDA_VISIBLE_DEVICES+set}" ]; then
  all=$ids ids=""
  for i in $(echo "$CUDA_VISIBLE_DEVICES" | tr , ' '); do
    ids="$ids $(echo $all | cut -d ' ' -f $((i + 1)))"
  done
fi
echo "DetectedGPUs=\\"$(echo $ids | sed 's/ /, /g')\\""
echo 'Common=[ Capability=8.0; DriverVersion=12.4; ]'
for id in $ids; do
  echo "$(echo $id | tr - _)=[ id=\\"$id\\"; DeviceName=\\"Stand-in GPU\\"; GlobalMemoryMb=40326; ]"
done
`

interface Record {
  argv: string[]
  env: { [name: string]: string }
  cwd: string
  credentials: {
    password: { path: string; base64: string; mode: number } | null
    tokens: { path: string; base64: string; mode: number }[]
  }
}

interface Result {
  code: number
  out: string
  err: string
  scratch: string
  record: string
  master: Record | undefined
  /** The glidein.XXXXXX directory, when one is left. */
  glideinDir: string | undefined
}

const tarballs: { [name: string]: string } = {}
let noGpuTarball: string

async function makeTarball(name: string, credentials: Credentials, install: string) {
  const output = path.join(tempDir(), name)
  await buildTarball({ condor: install, output, credentials, version: "test" })
  return output
}

beforeAll(async () => {
  const install = standInInstall(path.join(tempDir(), "condor"), {
    "sbin/condor_master": MASTER,
    "libexec/condor_gpu_discovery": DISCOVERY,
  })
  const token = new TextEncoder().encode(TOKEN)
  tarballs.password = await makeTarball("password.tar.gz", { password: PASSWORD }, install)
  tarballs.token = await makeTarball("token.tar.gz", { token }, install)
  tarballs.both = await makeTarball("both.tar.gz", { password: PASSWORD, token }, install)
  tarballs.none = await makeTarball("none.tar.gz", {}, install)
  const quiet = standInInstall(path.join(tempDir(), "condor"), {
    "sbin/condor_master": MASTER,
    "libexec/condor_gpu_discovery": "#!/bin/sh\nexit 0\n",
  })
  noGpuTarball = await makeTarball("nogpu.tar.gz", { password: PASSWORD }, quiet)
})
afterAll(removeTempDirs)

/** The contract's variables for a 4-core glidein at CLUSTER pool.example.org. */
function contract(tarball: string): { [name: string]: string } {
  return {
    CPUS: "4",
    GPUS: "0",
    MEMORY: "8000",
    DISK: "20000000",
    WALLTIME: "3600",
    SITE: "Test Site",
    ResourceName: "test-cluster",
    CLUSTER: "pool.example.org:9618",
    GLIDEIN_TARBALL: tarball,
  }
}

/** A fresh scratch directory holding glidein_start.sh, a record directory for the stand-in,
 *  and the argv that runs `env -i VARS <shell> ./glidein_start.sh` there. */
function scratchRun(vars: { [name: string]: string }, shell: string[]) {
  const scratch = tempDir("glidein-scratch-")
  const record = tempDir("glidein-record-")
  writeFileSync(path.join(scratch, "glidein_start.sh"), GLIDEIN_START_SH)
  const pairs = Object.entries({ STANDIN_RECORD: record, ...vars }).map(([k, v]) => `${k}=${v}`)
  return { scratch, record, argv: ["/usr/bin/env", "-i", ...pairs, ...shell, "./glidein_start.sh"] }
}

/** Runs `env -i VARS sh ./glidein_start.sh` in a fresh scratch directory. */
function startGlidein(vars: { [name: string]: string }, shell = ["sh"]): Result {
  const { scratch, record, argv } = scratchRun(vars, shell)
  const result = Bun.spawnSync(argv, { cwd: scratch })
  return collect(scratch, record, result.exitCode, result.stdout, result.stderr)
}

/** startGlidein() without blocking this process, so a server in it can answer the glidein;
 *  `during` runs once the stand-in condor_master (STANDIN_STAY) is up. */
async function startGlideinAsync(
  vars: { [name: string]: string },
  during?: (proc: ReturnType<typeof Bun.spawn>) => Promise<void>,
  shell = ["sh"],
): Promise<Result> {
  const { scratch, record, argv } = scratchRun(vars, shell)
  const proc = Bun.spawn(argv, { cwd: scratch, stdout: "pipe", stderr: "pipe" })
  if (during) {
    const deadline = Date.now() + 20_000
    while (!existsSync(path.join(record, "ready")) && Date.now() < deadline) await Bun.sleep(20)
    await during(proc)
  }
  const [code, out, err] = await Promise.all([
    proc.exited,
    new Response(proc.stdout).bytes(),
    new Response(proc.stderr).bytes(),
  ])
  return collect(scratch, record, code, out, err)
}

function collect(
  scratch: string,
  record: string,
  code: number | null,
  stdout: Uint8Array,
  stderr: Uint8Array,
): Result {
  const masterFile = path.join(record, "master.json")
  const glidein = readdirSync(scratch).find((n) => n.startsWith("glidein."))
  return {
    code: code ?? -1,
    out: Buffer.from(stdout).toString(),
    err: Buffer.from(stderr).toString(),
    scratch,
    record,
    master: existsSync(masterFile) ? JSON.parse(readFileSync(masterFile, "utf8")) : undefined,
    glideinDir: glidein === undefined ? undefined : path.join(scratch, glidein),
  }
}

function expectRefused(result: Result, message: string) {
  expect(result.err).toStartWith("glidein_start.sh: ")
  expect(result.err).toContain(message)
  expect(result.code).toBe(2)
  expect(result.master).toBeUndefined()
  expect(result.glideinDir).toBeUndefined()
}

const shells = [
  { name: "sh", argv: ["sh"], present: true },
  { name: "bash --posix", argv: ["bash", "--posix"], present: Bun.which("bash") !== null },
  { name: "busybox sh", argv: ["busybox", "sh"], present: Bun.which("busybox") !== null },
]

/**
 * A PATH whose `sleep` records its pid in $STANDIN_RECORD/sleeps. With STANDIN_WALLTIME_OVER
 * the watchdog's long sleep returns as soon as condor_master is up, as if WALLTIME had passed;
 * other sleeps are real.
 */
function trackedSleep(): string {
  const bin = tempDir("glidein-bin-")
  const real = Bun.which("sleep") as string
  put(
    path.join(bin, "sleep"),
    [
      "#!/bin/sh",
      'echo "$$" >> "$STANDIN_RECORD/sleeps"',
      // WALLTIME is over once the stand-in master is ready for signals
      'if [ -n "$STANDIN_WALLTIME_OVER" ] && [ "$1" -gt 60 ]; then',
      `  while [ ! -e "$STANDIN_RECORD/ready" ]; do ${real} 0.05; done`,
      "  exit 0",
      "fi",
      `exec ${real} "$@"`,
    ].join("\n"),
    0o755,
  )
  return `${bin}:/usr/bin:/bin`
}

/** The recorded sleeps still running (zombies count as gone), after up to 5 s for them to end. */
async function sleepsLeft(record: string): Promise<number[]> {
  const file = path.join(record, "sleeps")
  const pids = existsSync(file)
    ? readFileSync(file, "utf8").split("\n").filter(Boolean).map(Number)
    : []
  const running = (pid: number) => {
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"))
    } catch {
      return false
    }
  }
  const deadline = Date.now() + 5000
  while (pids.some(running) && Date.now() < deadline) await Bun.sleep(50)
  const left = pids.filter(running)
  for (const pid of left) process.kill(pid, "SIGKILL")
  return left
}

describe("glidein_start.sh", () => {
  for (const shell of shells) {
    test.skipIf(!shell.present)(
      `with a PASSWORD tarball, under ${shell.name}: configures and runs condor_master`,
      () => {
        const r = startGlidein(contract(tarballs.password as string), shell.argv)
        expect(r.err).toBe("")
        expect(r.code).toBe(0)
        const m = r.master as Record
        const dir = m.env._condor_GLIDEIN_DIR as string
        expect(path.dirname(dir)).toBe(r.scratch)
        expect(m.argv[0]).toBe("-f")
        expect(m.argv[1]).toBe("-r")
        // RETIRETIME defaults to WALLTIME/4 = 900 s: retire 2700 s in, in whole minutes
        expect(["44", "45"]).toContain(m.argv[2] as string)
        const env = m.env
        expect(env.CONDOR_CONFIG).toBe(`${dir}/glidein_condor_config`)
        expect(env._condor_GLIDEIN_CLUSTER).toBe("pool.example.org:9618")
        expect(env._condor_CONDOR_HOST).toBe("pool.example.org")
        expect([env._condor_NUM_CPUS, env._condor_MEMORY, env._condor_DISK]).toEqual([
          "4",
          "8000",
          "20000000",
        ])
        expect(env._condor_GLIDEIN_Site).toBe('"Test Site"')
        expect(env._condor_GLIDEIN_ResourceName).toBe('"test-cluster"')
        expect([env._condor_MACHINE_RESOURCE_GPUs, env._condor_GLIDEIN_HAS_GPUS]).toEqual([
          "0",
          "False",
        ])
        const die = Number(env._condor_GLIDEIN_ToDie)
        expect(die - Number(env._condor_GLIDEIN_ToRetire)).toBe(900)
        expect(Math.abs(die - Date.now() / 1000 - 3600)).toBeLessThan(30)
        expect(env._condor_GLIDEIN_NOCLAIM_TIME).toBe("1200")
        // unique where pids are not (PID namespaces): random bytes after the time
        expect(env._condor_STARTD_NAME).toMatch(/^glidein_\d+_[0-9a-f]{8}$/)
        expect(env._condor_GLIDEIN_BatchJobId).toBeUndefined()
        expect(env._condor_GLIDEIN_LOCK_DIR).toMatch(/^\/tmp\/glidein-lock\.\w+$/)
        expect(existsSync(env._condor_GLIDEIN_LOCK_DIR as string)).toBe(false)
        expect(env.PATH).toContain("/usr/bin:/bin")
        expect(env.GLIDEIN_Site).toBe("Test Site")
        const password = m.credentials.password
        expect(password?.path).toBe(`${dir}/passwdfile`)
        expect(Buffer.from(password?.base64 ?? "", "base64").equals(Buffer.from(PASSWORD))).toBe(
          true,
        )
        expect(password?.mode).toBe(0o600)
        expect(m.credentials.tokens).toEqual([])
        expect(r.out).toContain("glidein: collector pool.example.org:9618; 4 cores, 8000 MB")
        expect(r.out).toContain(
          `HTCondor logs are in ${dir}/log until the job's directory is removed`,
        )
        // the credential and the binaries go, the logs stay, without dot-files and pipes
        expect(readdirSync(path.join(dir, "log"))).toEqual(["MasterLog"])
        expect(readdirSync(dir).sort()).toEqual([
          "SHA256SUMS",
          "glidein_condor_config",
          "log",
          "user_job_wrapper.sh",
        ])
      },
    )
  }

  test("with an IDTOKENS tarball: the token is in tokens.d and no password file is set", () => {
    const r = startGlidein(contract(tarballs.token as string))
    expect(r.code).toBe(0)
    const m = r.master as Record
    expect(m.env._condor_SEC_PASSWORD_FILE).toBeUndefined()
    expect(m.credentials.tokens.map((t) => [path.basename(t.path), t.mode])).toEqual([
      ["glidein.token", 0o600],
    ])
    expect(Buffer.from(m.credentials.tokens[0]?.base64 ?? "", "base64").toString()).toBe(TOKEN)
    expect(r.out).toContain("1 IDTOKEN file(s)")
  })

  test("with both credentials, both are offered", () => {
    const r = startGlidein(contract(tarballs.both as string))
    expect(r.code).toBe(0)
    expect(r.master?.credentials.password).not.toBeNull()
    expect(r.master?.credentials.tokens.length).toBe(1)
    expect(r.out).toContain("pool password and 1 IDTOKEN file(s)")
  })

  test("finds ./glidein.tar.gz without GLIDEIN_TARBALL and copes with an empty PATH", () => {
    const scratchTarball = contract(tarballs.password as string)
    const { GLIDEIN_TARBALL, ...vars } = scratchTarball
    const { scratch, record, argv } = scratchRun({ PATH: "", ...vars }, ["/bin/sh"])
    writeFileSync(path.join(scratch, "glidein.tar.gz"), readFileSync(GLIDEIN_TARBALL as string))
    const result = Bun.spawnSync(argv, { cwd: scratch })
    const r = collect(scratch, record, result.exitCode, result.stdout, result.stderr)
    expect(r.err).toBe("")
    expect(r.code).toBe(0)
    expect(r.master?.env.PATH).toBe("/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin")
  })

  test("keeps a site's PATH in front and passes [CustomEnv] variables on", () => {
    const vars = {
      ...contract(tarballs.password as string),
      PATH: "/opt/site/bin",
      http_proxy: "http://squid.example.org:3128",
    }
    // with PATH in the environment, env(1) looks sh up there: name it in full
    const r = startGlidein(vars, ["/bin/sh"])
    expect(r.master?.env.PATH).toStartWith("/opt/site/bin:/usr/local/bin")
    expect(r.master?.env.http_proxy).toBe("http://squid.example.org:3128")
  })

  test("honours RETIRETIME, NOCLAIMTIME and GLIDEIN_NAME", () => {
    const r = startGlidein({
      ...contract(tarballs.password as string),
      WALLTIME: "7200",
      RETIRETIME: "1800",
      NOCLAIMTIME: "300",
      GLIDEIN_NAME: "site-a_7",
    })
    const env = r.master?.env ?? {}
    expect(Number(env._condor_GLIDEIN_ToDie) - Number(env._condor_GLIDEIN_ToRetire)).toBe(1800)
    expect(["89", "90"]).toContain(r.master?.argv[2] as string)
    expect(env._condor_GLIDEIN_NOCLAIM_TIME).toBe("300")
    expect(env._condor_SHUTDOWN_GRACEFUL_TIMEOUT).toBe("1860")
    expect([env._condor_MASTER_NAME, env._condor_STARTD_NAME]).toEqual(["site-a_7", "site-a_7"])
  })

  test("caps the default retirement at 1200 s for long walltimes", () => {
    const r = startGlidein({ ...contract(tarballs.password as string), WALLTIME: "86400" })
    const env = r.master?.env ?? {}
    expect(Number(env._condor_GLIDEIN_ToDie) - Number(env._condor_GLIDEIN_ToRetire)).toBe(1200)
  })

  describe("GPUs", () => {
    /** The glidein's GPU settings, what discovery was run with, and its output the startd reads. */
    const gpus = (vars: { [name: string]: string }, tarball = tarballs.password as string) => {
      const r = startGlidein({ ...contract(tarball), ...vars })
      expect(r.err).toBe("")
      expect(r.code).toBe(0)
      const env = r.master?.env ?? {}
      const inventory = env._condor_MACHINE_RESOURCE_INVENTORY_GPUs
      const discovery = path.join(r.record, "discovery")
      return {
        ids: env._condor_MACHINE_RESOURCE_GPUs,
        has: env._condor_GLIDEIN_HAS_GPUS,
        jobEnv: env._condor_ENVIRONMENT_FOR_AssignedGPUs,
        env,
        // the startd runs the inventory program; here it prints what it would be told
        inventory: inventory === undefined ? undefined : run([inventory]).split("\n"),
        discovery: existsSync(discovery) ? readFileSync(discovery, "utf8").split("\n") : [],
        out: r.out,
      }
    }
    const CUDA_ENV = "CUDA_VISIBLE_DEVICES=/(?!)// GPU_DEVICE_ORDINAL=/(?!)//"

    test("hands the startd HTCondor's own discovery, with the properties jobs match on", () => {
      const r = gpus({ GPUS: "all" })
      expect(r.discovery[0]).toBe("-properties")
      expect(r.ids).toBeUndefined()
      expect(r.has).toBe("True")
      expect(r.inventory).toEqual([
        'DetectedGPUs="GPU-aaaa1111, GPU-bbbb2222, GPU-cccc3333"',
        "Common=[ Capability=8.0; DriverVersion=12.4; ]",
        'GPU_aaaa1111=[ id="GPU-aaaa1111"; DeviceName="Stand-in GPU"; GlobalMemoryMb=40326; ]',
        'GPU_bbbb2222=[ id="GPU-bbbb2222"; DeviceName="Stand-in GPU"; GlobalMemoryMb=40326; ]',
        'GPU_cccc3333=[ id="GPU-cccc3333"; DeviceName="Stand-in GPU"; GlobalMemoryMb=40326; ]',
        "",
      ])
      // HTCondor's own way to tell jobs their GPUs (its starter sets the full UUIDs)
      expect(r.jobEnv).toBe("GPU_DEVICE_ORDINAL=/(CUDA|OCL)// CUDA_VISIBLE_DEVICES=/CUDA//")
      expect(r.out).toContain("3 GPU(s)")
    })

    test("keeps the first GPUS devices discovery finds, with their properties only", () => {
      const r = gpus({ GPUS: "2" })
      expect(r.inventory?.filter((l) => !l.startsWith("Common"))).toEqual([
        'DetectedGPUs="GPU-aaaa1111, GPU-bbbb2222"',
        'GPU_aaaa1111=[ id="GPU-aaaa1111"; DeviceName="Stand-in GPU"; GlobalMemoryMb=40326; ]',
        'GPU_bbbb2222=[ id="GPU-bbbb2222"; DeviceName="Stand-in GPU"; GlobalMemoryMb=40326; ]',
        "",
      ])
    })

    test("discovery sees the batch system's CUDA_VISIBLE_DEVICES and reports only those GPUs", () => {
      const r = gpus({ GPUS: "2", CUDA_VISIBLE_DEVICES: "0,2" })
      expect(r.discovery[1]).toBe("0,2")
      expect(r.inventory?.[0]).toBe('DetectedGPUs="GPU-aaaa1111, GPU-cccc3333"')
    })

    test("takes PBS's PBS_GPUFILE and Grid Engine's SGE_HGR_gpu as CUDA_VISIBLE_DEVICES", () => {
      const file = path.join(tempDir(), "gpufile")
      const host = hostname().split(".")[0] as string
      writeFileSync(file, `${host}-gpu1\n${host}-gpu2\nother-node-gpu0\n`)
      const pbs = gpus({ GPUS: "2", PBS_GPUFILE: file })
      expect(pbs.discovery[1]).toBe("1,2")
      expect(pbs.inventory?.[0]).toBe('DetectedGPUs="GPU-bbbb2222, GPU-cccc3333"')
      expect(pbs.env.PBS_GPUFILE).toBeUndefined()
      const sge = gpus({ GPUS: "2", SGE_HGR_gpu: "gpu0 gpu2" })
      expect(sge.discovery[1]).toBe("0,2")
      expect(sge.env.SGE_HGR_gpu).toBeUndefined()
    })

    test("passes discovery HTCondor's GPU_DISCOVERY_EXTRA and gives up on it after GPU_DISCOVERY_TIMEOUT", () => {
      expect(gpus({ GPUS: "1", GPU_DISCOVERY_EXTRA: "-nvcuda" }).discovery[0]).toBe(
        "-nvcuda -properties",
      )
      const started = Date.now()
      const r = gpus({
        GPUS: "1",
        CUDA_VISIBLE_DEVICES: "3",
        STANDIN_DISCOVERY_HANG: "1",
        GPU_DISCOVERY_TIMEOUT: "1",
      })
      expect(Date.now() - started).toBeLessThan(15_000)
      expect(r.out).toContain("glidein: condor_gpu_discovery failed (status 124)")
      expect(r.ids).toBe("3")
      // a timeout without -k (older busybox) bounds it too
      const bin = tempDir("glidein-bin-")
      const real = Bun.which("timeout") as string
      put(
        path.join(bin, "timeout"),
        `#!/bin/sh\n[ "$1" != -k ] || exit 125\nexec ${real} "$@"\n`,
        0o755,
      )
      const busybox = gpus({
        GPUS: "1",
        CUDA_VISIBLE_DEVICES: "3",
        STANDIN_DISCOVERY_HANG: "1",
        GPU_DISCOVERY_TIMEOUT: "1",
        PATH: `${bin}:/usr/bin:/bin`,
      })
      expect(busybox.out).toContain("glidein: condor_gpu_discovery failed (status 124)")
    })

    test("without discovery, jobs get the batch system's ids verbatim, never CUDA0", () => {
      const r = gpus({ GPUS: "2", CUDA_VISIBLE_DEVICES: "0,1" }, noGpuTarball)
      expect([r.ids, r.has, r.inventory]).toEqual(["0, 1", "True", undefined])
      expect(r.jobEnv).toBe(CUDA_ENV)
      expect(r.out).toContain(
        "condor_gpu_discovery found no GPU: advertising the batch system's ids (0 1) without their properties",
      )
      expect(gpus({ GPUS: "1", CUDA_VISIBLE_DEVICES: "3,5" }, noGpuTarball).ids).toBe("3")
      expect(
        gpus({ GPUS: "2", CUDA_VISIBLE_DEVICES: "GPU-1234abcd,GPU-99" }, noGpuTarball).ids,
      ).toBe("GPU-1234abcd, GPU-99")
    })

    test("device ids in GPUS are advertised as given, CUDA<n> as <n>, MIG ids kept", () => {
      expect(gpus({ GPUS: "CUDA0,1" }).ids).toBe("0, 1")
      const mig = gpus({ GPUS: "MIG-GPU-5c89852c/1/0,MIG-8f6f3a46-0a0e-5a8b" })
      expect(mig.ids).toBe("MIG-GPU-5c89852c/1/0, MIG-8f6f3a46-0a0e-5a8b")
      expect(mig.jobEnv).toBe(CUDA_ENV)
      expect(mig.discovery).toEqual([])
    })

    test("AMD: jobs get ROCR_VISIBLE_DEVICES, and not the batch job's HIP_VISIBLE_DEVICES", () => {
      const r = gpus(
        { GPUS: "2", ROCR_VISIBLE_DEVICES: "4,5", HIP_VISIBLE_DEVICES: "0,1" },
        noGpuTarball,
      )
      expect(r.ids).toBe("4, 5")
      expect(r.jobEnv).toBe(`ROCR_VISIBLE_DEVICES=/(?!)// ${CUDA_ENV}`)
      expect(r.env.HIP_VISIBLE_DEVICES).toBeUndefined()
      expect(r.env.ROCR_VISIBLE_DEVICES).toBe("4,5")
    })

    test("advertises none, and says so, when no GPU can be found", () => {
      const r = gpus({ GPUS: "2" }, noGpuTarball)
      expect([r.ids, r.has, r.jobEnv]).toEqual(["0", "False", undefined])
      expect(r.out).toContain("GPUS=2 but no GPU was found; advertising none")
    })
  })

  describe("bad input is refused before anything is unpacked", () => {
    const cases: [string, { [name: string]: string }, string][] = [
      ["no CLUSTER", { CLUSTER: "" }, "CLUSTER is not set"],
      [
        "a CLUSTER with spaces",
        { CLUSTER: "pool.example.org; rm -rf" },
        "CLUSTER is not a host[:port]",
      ],
      ["CPUS not a number", { CPUS: "4x" }, 'CPUS must be a whole number of cores, got "4x"'],
      ["no MEMORY", { MEMORY: "" }, "MEMORY is not set (expected MB)"],
      ["DISK zero", { DISK: "0" }, 'DISK must be at least 1 KB, got "0"'],
      [
        "WALLTIME negative",
        { WALLTIME: "-5" },
        'WALLTIME must be a whole number of seconds, got "-5"',
      ],
      ["a SITE with a quote", { SITE: 'Bad"Site' }, "SITE may not contain quotes"],
      ["GPUS with shell syntax", { GPUS: "1;reboot" }, "GPUS must be a count"],
      [
        "RETIRETIME not below WALLTIME",
        { RETIRETIME: "3600" },
        "RETIRETIME (3600 s) must be less than WALLTIME (3600 s)",
      ],
      [
        "too little time for jobs",
        { WALLTIME: "100", RETIRETIME: "50" },
        "WALLTIME (100 s) minus RETIRETIME (50 s) leaves less than a minute for jobs",
      ],
      ["a GLIDEIN_NAME with a slash", { GLIDEIN_NAME: "a/b" }, "GLIDEIN_NAME may only hold"],
      [
        "a GLIDEIN_JOB_WRAPPER that is not there",
        { GLIDEIN_JOB_WRAPPER: "/nonexistent/wrapper" },
        'GLIDEIN_JOB_WRAPPER "/nonexistent/wrapper" is not an executable file on ',
      ],
      [
        "a missing tarball",
        { GLIDEIN_TARBALL: "/nonexistent/glidein.tar.gz" },
        'the glidein tarball "/nonexistent/glidein.tar.gz" does not exist (set GLIDEIN_TARBALL)',
      ],
    ]
    for (const [label, vars, message] of cases) {
      test(label, () => {
        expectRefused(startGlidein({ ...contract(tarballs.password as string), ...vars }), message)
      })
    }
  })

  test("refuses a tarball without a credential, and removes what it unpacked", () => {
    expectRefused(
      startGlidein(contract(tarballs.none as string)),
      "carries no pool credential; add one with: glidein tarball inject-password",
    )
  })

  test("refuses a tarball that tarball build did not make", () => {
    const tree = tempDir()
    for (const daemon of ["condor_master", "condor_startd", "condor_starter"]) {
      put(path.join(tree, "glideinExec/sbin", daemon), "#!/bin/sh\n", 0o755)
    }
    put(path.join(tree, "glidein_condor_config"), "CONDOR_HOST = $(CONDOR_HOST2)\n")
    put(path.join(tree, "passwdfile"), "x", 0o600)
    const foreign = path.join(tempDir(), "pyglidein.tar.gz")
    run(["tar", "czf", foreign, "-C", tree, "."])
    expectRefused(startGlidein(contract(foreign)), "was not made by glidein tarball build")
  })

  test("when condor_master fails: its status, the end of its log, and where the logs are", () => {
    const r = startGlidein({ ...contract(tarballs.password as string), STANDIN_EXIT: "3" })
    expect(r.code).toBe(3)
    const dir = r.glideinDir as string
    expect(r.out).toContain("glidein: condor_master exited with status 3")
    expect(r.out).toContain(`glidein: last lines of ${dir}/log/MasterLog:`)
    expect(r.out).toContain("ERROR: stand-in failure detail")
    expect(r.out).toContain(`HTCondor logs are in ${dir}/log until the job's directory is removed`)
    expect(existsSync(path.join(dir, "log/MasterLog"))).toBe(true)
    expect(existsSync(path.join(dir, "passwdfile"))).toBe(false)
  })

  test("refuses, with the loader's words, HTCondor that cannot run on the node", () => {
    const r = startGlidein({ ...contract(tarballs.password as string), STANDIN_BROKEN: "1" })
    expect(r.code).toBe(2)
    expect(r.err).toMatch(
      /^glidein_start\.sh: HTCondor from "\S+password\.tar\.gz" cannot run on \S+: error while loading shared libraries: libfoo\.so\.1/,
    )
    expect(r.master).toBeUndefined()
    expect(r.glideinDir).toBeUndefined()
  })

  describe("how the glidein ended", () => {
    const planned =
      "12/07/26 10:00:00 The DaemonShutdown expression evaluated to TRUE: starting graceful shutdown\n"
    const startdLeft =
      "12/07/26 09:59:00 The STARTD (pid 4242) exited with status 99 (daemon will not restart automatically)\n"

    test("condor_master's status 99 after the startd left through DAEMON_SHUTDOWN is a planned end", () => {
      const r = startGlidein({
        ...contract(tarballs.password as string),
        STANDIN_EXIT: "99",
        STANDIN_MASTERLOG: startdLeft + planned,
      })
      expect(r.code).toBe(0)
      expect(r.out).toContain(
        "glidein: condor_master stopped itself as planned (DAEMON_SHUTDOWN, HTCondor's status 99)",
      )
      expect(r.out).not.toContain("last lines of")
    })

    test("status 99 after the startd was stopped (status 0) is a planned end too", () => {
      const r = startGlidein({
        ...contract(tarballs.password as string),
        STANDIN_EXIT: "99",
        STANDIN_MASTERLOG: `12/07/26 10:01:30 The STARTD (pid 4242) exited with status 0\n${planned}`,
      })
      expect(r.code).toBe(0)
    })

    test("status 99 after the startd crashed is a failure, and says how it crashed", () => {
      const r = startGlidein({
        ...contract(tarballs.password as string),
        STANDIN_EXIT: "99",
        STANDIN_MASTERLOG: `${startdLeft}12/07/26 10:01:00 The STARTD (pid 4343) died due to signal 11 (Segmentation fault)\n${planned}`,
      })
      expect(r.code).toBe(1)
      expect(r.out).toContain(
        "glidein: the startd failed: the STARTD (pid 4343) died due to signal 11 (Segmentation fault)",
      )
      expect(r.out).toContain(`glidein: last lines of ${r.glideinDir}/log/MasterLog:`)
      const exited = startGlidein({
        ...contract(tarballs.password as string),
        STANDIN_EXIT: "99",
        STANDIN_MASTERLOG: "The STARTD (pid 4343) exited with status 44\n",
      })
      expect(exited.code).toBe(1)
      expect(exited.out).toContain("the startd failed: the STARTD (pid 4343) exited with status 44")
    })

    test("never claimed, with authentication errors in the logs: exit 3 and the lines that say why", () => {
      const r = startGlidein({
        ...contract(tarballs.password as string),
        STANDIN_STARTLOG: [
          "12/07/26 10:00:00 slot1: Changing state: Owner -> Unclaimed",
          '12/07/26 10:00:01 SECMAN: FAILED: Received "DENIED" from server for user glidein@pool using method IDTOKENS.',
          '12/07/26 10:00:01 ERROR: SECMAN:2010:Received "DENIED" from server for user glidein@pool using method IDTOKENS.',
          "12/07/26 10:00:02 No resources have been claimed for 1200 seconds",
          "",
        ].join("\n"),
      })
      expect(r.code).toBe(3)
      expect(r.out).toContain("glidein: never claimed, and the logs say why:\n")
      expect(r.out).toContain("ERROR: SECMAN:2010:Received")
    })

    test("never claimed without errors: no job wanted it, and that is no failure", () => {
      const r = startGlidein({
        ...contract(tarballs.password as string),
        STANDIN_STARTLOG: "12/07/26 10:00:00 slot1: Changing state: Owner -> Unclaimed\n",
      })
      expect(r.code).toBe(0)
      expect(r.out).toContain(
        "glidein: never claimed: no job matched it (the logs show no authentication or connection error)",
      )
    })

    test("claimed once: earlier errors do not count", () => {
      const r = startGlidein({
        ...contract(tarballs.password as string),
        STANDIN_STARTLOG:
          "ERROR: SECMAN:2007:Failed to end classad message.\nslot1_1: Changing state: Unclaimed -> Claimed\n",
      })
      expect(r.code).toBe(0)
      expect(r.out).not.toContain("never claimed")
    })
  })

  test("caps DISK at the free space of the glidein's directory", () => {
    const r = startGlidein({ ...contract(tarballs.password as string), DISK: "999999999999999" })
    const disk = Number(r.master?.env._condor_DISK)
    expect(disk).toBeLessThan(999999999999999)
    expect(r.out).toContain(
      `glidein: DISK is 999999999999999 KB but ${r.glideinDir} has ${disk} KB free`,
    )
  })

  test("names the glidein after the batch job and advertises its id", () => {
    const slurm = startGlidein({ ...contract(tarballs.password as string), SLURM_JOB_ID: "4242" })
    expect(slurm.master?.env._condor_STARTD_NAME).toMatch(/^glidein_4242_\d+_[0-9a-f]{8}$/)
    expect(slurm.master?.env._condor_GLIDEIN_BatchJobId).toBe('"4242"')
    const pbs = startGlidein({ ...contract(tarballs.password as string), PBS_JOBID: "77.pbs/x y" })
    expect(pbs.master?.env._condor_GLIDEIN_BatchJobId).toBe('"77.pbs_x_y"')
  })

  test("advertises the client that submitted it, its version and the tarball's manifest digest", () => {
    const tarball = tarballs.password as string
    const r = startGlidein({
      ...contract(tarball),
      GLIDEIN_CLIENT: "alice@login1/gpu",
      GLIDEIN_PARTITION: "gpu",
    })
    const env = r.master?.env ?? {}
    expect(env._condor_GLIDEIN_Client).toBe('"alice@login1/gpu"')
    expect(env._condor_GLIDEIN_Partition).toBe('"gpu"')
    expect(env._condor_GLIDEIN_Version).toBe(`"${VERSION}"`)
    const manifest = tarMember(tarball, "SHA256SUMS")
    const digest = createHash("sha256").update(manifest).digest("hex")
    expect(env._condor_GLIDEIN_TarballDigest).toBe(`"manifest-sha256:${digest}"`)
    expect(env._condor_GLIDEIN_TarballVersion).toBe('"test"')
    // the same build with other credentials is the same tarball to the pool
    const token = startGlidein(contract(tarballs.token as string)).master?.env ?? {}
    expect(token._condor_GLIDEIN_TarballDigest).toBe(env._condor_GLIDEIN_TarballDigest)
    expect(token._condor_GLIDEIN_Client).toBeUndefined()
    expect(token._condor_GLIDEIN_Partition).toBeUndefined()
  })

  test("a client name cannot put quotes, lines or $(macros) into the configuration", () => {
    const r = startGlidein({
      ...contract(tarballs.password as string),
      GLIDEIN_CLIENT: 'x" $(SEC_PASSWORD_FILE)\nSTART = True\\',
    })
    expect(r.code).toBe(0)
    expect(r.master?.env._condor_GLIDEIN_Client).toBe('"x_ __SEC_PASSWORD_FILE__START = True_"')
  })

  test("advertises the sha256 of a tarball file that has no manifest", () => {
    const unpacked = tempDir("glidein-unpacked-")
    run(["tar", "-xzf", tarballs.password as string, "-C", unpacked])
    rmSync(path.join(unpacked, "SHA256SUMS"))
    const tarball = path.join(tempDir(), "no-manifest.tar.gz")
    run(["tar", "-czf", tarball, "-C", unpacked, "."])
    const env = startGlidein(contract(tarball)).master?.env ?? {}
    const digest = createHash("sha256").update(readFileSync(tarball)).digest("hex")
    expect(env._condor_GLIDEIN_TarballDigest).toBe(`"sha256:${digest}"`)
    expect(env._condor_GLIDEIN_TarballVersion).toBeUndefined()
  })

  test("a site's attributes add to STARTD_ATTRS, pyglidein's _condor_STARTD_ATTRS included", () => {
    const r = startGlidein({
      ...contract(tarballs.password as string),
      _condor_STARTD_ATTRS: "$(STARTD_ATTRS), OLD_ATTR",
      OLD_ATTR: "unrelated",
      GLIDEIN_STARTD_ATTRS: 'HAS_FOO = True;Project="ice cube";bad name=1;;*=2',
      GLIDEIN_CVMFS_REPOS: "nowhere.example.org",
    })
    expect(r.code).toBe(0)
    const env = r.master?.env ?? {}
    expect(env._condor_STARTD_ATTRS).toBeUndefined()
    expect(env._condor_GLIDEIN_EXTRA_ATTRS).toBe(
      "OLD_ATTR HAS_FOO Project HAS_CVMFS_nowhere_example_org",
    )
    expect([env._condor_HAS_FOO, env._condor_Project]).toEqual([" True", '"ice cube"'])
    expect(env._condor_HAS_CVMFS_nowhere_example_org).toBe("False")
    expect(r.out).toContain(
      'glidein: GLIDEIN_STARTD_ATTRS: ignoring "bad name=1": expected NAME=VALUE',
    )
    expect(r.out).toContain('glidein: GLIDEIN_STARTD_ATTRS: ignoring "*=2": expected NAME=VALUE')
    expect(r.out).toContain("glidein: CVMFS nowhere.example.org: False")
  })

  test("CLUSTER may list collectors: each glidein picks one at random", () => {
    const list = "a.example.org:9618,b.example.org:9618,c.example.org"
    const picked = new Set<string>()
    for (let i = 0; i < 6; i++) {
      const r = startGlidein({ ...contract(tarballs.password as string), CLUSTER: list })
      expect(r.code).toBe(0)
      const one = r.master?.env._condor_GLIDEIN_CLUSTER as string
      expect(list.split(",")).toContain(one)
      expect(r.master?.env._condor_CONDOR_HOST).toBe(one.split(":")[0] as string)
      expect(r.out).toContain(`glidein: collector ${one}, picked at random from 3`)
      picked.add(one)
    }
    expect(picked.size).toBeGreaterThan(1)
  })

  test("GLIDEIN_OWNERS restricts START to those owners' jobs", () => {
    const r = startGlidein({
      ...contract(tarballs.password as string),
      GLIDEIN_OWNERS: "alice bob,carol",
    })
    expect(r.master?.env._condor_GLIDEIN_START_OWNERS).toBe(
      'stringListMember(TARGET.Owner, "alice,bob,carol")',
    )
    expect(
      startGlidein(contract(tarballs.password as string)).master?.env._condor_GLIDEIN_START_OWNERS,
    ).toBeUndefined()
    expectRefused(
      startGlidein({ ...contract(tarballs.password as string), GLIDEIN_OWNERS: 'x")||true||("' }),
      "GLIDEIN_OWNERS may only hold user names",
    )
  })

  describe("IDTOKEN expiry", () => {
    const jwt = (claims: object) =>
      `${Buffer.from('{"alg":"HS256","kid":"POOL"}').toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.c2ln\n`
    const withToken = async (name: string, claims: object, password = false) =>
      makeTarball(
        name,
        {
          token: new TextEncoder().encode(jwt(claims)),
          ...(password ? { password: PASSWORD } : {}),
        },
        standInInstall(path.join(tempDir(), "condor"), { "sbin/condor_master": MASTER }),
      )
    const now = Math.floor(Date.now() / 1000)

    test("an expired token is refused before HTCondor starts, unless a password is there too", async () => {
      const expired = await withToken("expired.tar.gz", { sub: "glidein@pool", exp: now - 60 })
      const r = startGlidein(contract(expired))
      expect(r.code).toBe(2)
      expect(r.out).toMatch(/glidein: the IDTOKEN in glidein\.token expired at \d{4}-\d\d-\d\dT/)
      expect(r.err).toContain("every IDTOKEN in")
      const both = await withToken("expired-both.tar.gz", { sub: "g", exp: now - 60 }, true)
      expect(startGlidein(contract(both)).code).toBe(0)
    })

    test("a token that expires before the glidein's end is said, and one without exp is fine", async () => {
      const soon = await withToken("soon.tar.gz", { sub: "glidein@pool", exp: now + 600 })
      const r = startGlidein(contract(soon))
      expect(r.code).toBe(0)
      expect(r.out).toContain("before the glidein's end: it leaves the pool then")
      const forever = await withToken("forever.tar.gz", { sub: "glidein@pool" })
      const f = startGlidein(contract(forever))
      expect(f.code).toBe(0)
      expect(f.out).not.toContain("IDTOKEN in")
    })
  })

  test("GLIDEIN_KEEP keeps the whole directory", () => {
    const r = startGlidein({ ...contract(tarballs.password as string), GLIDEIN_KEEP: "1" })
    expect(existsSync(path.join(r.glideinDir as string, "glideinExec/sbin/condor_master"))).toBe(
      true,
    )
  })

  test("on SIGTERM from the batch system, asks condor_master for a fast shutdown", async () => {
    const vars = {
      STANDIN_STAY: "1",
      PATH: trackedSleep(),
      ...contract(tarballs.password as string),
    }
    const r = await startGlideinAsync(vars, async (proc) => proc.kill("SIGTERM"))
    expect(readFileSync(path.join(r.record, "signal"), "utf8")).toBe("SIGQUIT")
    expect(r.out).toContain("glidein: got SIGTERM: asking HTCondor for a fast shutdown")
    expect(r.code).toBe(0)
    expect(await sleepsLeft(r.record)).toEqual([])
  })

  for (const shell of shells) {
    test.skipIf(!shell.present)(
      `under ${shell.name}: when condor_master ends first, the watchdog leaves no sleep behind`,
      async () => {
        const vars = { ...contract(tarballs.password as string), PATH: trackedSleep() }
        const r = startGlidein(vars, shell.argv)
        expect(r.code).toBe(0)
        expect(readFileSync(path.join(r.record, "sleeps"), "utf8")).not.toBe("")
        expect(await sleepsLeft(r.record)).toEqual([])
      },
    )

    test.skipIf(!shell.present)(
      `under ${shell.name}: after WALLTIME the watchdog asks condor_master for a fast shutdown and leaves no sleep behind`,
      async () => {
        const vars = {
          ...contract(tarballs.password as string),
          PATH: trackedSleep(),
          STANDIN_STAY: "1",
          STANDIN_WALLTIME_OVER: "1",
        }
        const r = startGlidein(vars, shell.argv)
        expect(readFileSync(path.join(r.record, "signal"), "utf8")).toBe("SIGQUIT")
        expect(r.code).toBe(0)
        // The long sleep that ended; the 60 s grace before SIGKILL may not have started (or
        // recorded itself) when the master's exit stops the watchdog, but must not outlive it.
        expect(readFileSync(path.join(r.record, "sleeps"), "utf8")).not.toBe("")
        expect(await sleepsLeft(r.record)).toEqual([])
      },
    )
  }
})

/** glidein_start.sh uploads with curl; a machine without it cannot run these. */
const NO_CURL = Bun.which("curl") === null
if (NO_CURL) console.warn("glidein_start.sh log upload tests skipped: curl is not installed")

describe.skipIf(NO_CURL)("glidein_start.sh with log upload", () => {
  const SECRET = "not-a-real-secret/key"

  test("uploads HTCondor's logs when it ends, named for the site, node and glidein; payload jobs never see the form", async () => {
    const s3 = fakeS3(SECRET)
    try {
      const form = logUploadForm(s3.bucket, "Test_Site_", new Date(), 3600)
      const r = await startGlideinAsync({
        ...contract(tarballs.password as string),
        ...logUploadEnv(form),
      })
      expect(r.code).toBe(0)
      expect(s3.refusals).toEqual([])
      expect(s3.uploads).toHaveLength(1)
      const { key, bytes } = s3.uploads[0]!
      expect(key).toMatch(/^Test_Site_[A-Za-z0-9._-]+_glidein_\d+_[0-9a-f]{8}\.tar\.gz$/)
      expect(tarMemberOf(bytes, "log/MasterLog").toString()).toContain("condor_master starting")
      const env = (r.master as Record).env
      expect(env._condor_GLIDEIN_LogsURL).toBe(`"${form.url}${key}"`)
      expect(Object.keys(env).filter((k) => k.startsWith("LOG_UPLOAD"))).toEqual([])
      expect(r.out).toContain(`glidein: HTCondor logs uploaded to ${form.url}${key}\n`)
      // Nothing of the upload is left beside the logs.
      const left = readdirSync(r.glideinDir as string)
      expect(left.filter((n) => /logs\.tar\.gz|upload\./.test(n))).toEqual([])
    } finally {
      s3.server.stop(true)
    }
  })

  for (const shell of shells) {
    test.skipIf(!shell.present)(
      `under ${shell.name}: uploads now and then while the glidein runs, then once more at the end, leaving no sleep behind`,
      async () => {
        const s3 = fakeS3(SECRET)
        try {
          const form = logUploadForm(s3.bucket, "Test_Site_", new Date(), 3600)
          const r = await startGlideinAsync(
            {
              ...contract(tarballs.password as string),
              ...logUploadEnv(form),
              LOG_UPLOAD_INTERVAL: "1",
              STANDIN_STAY: "1",
              PATH: trackedSleep(),
            },
            async (proc) => {
              const deadline = Date.now() + 20_000
              while (s3.uploads.length < 2 && Date.now() < deadline) await Bun.sleep(50)
              proc.kill("SIGTERM")
            },
            shell.argv,
          )
          expect(r.code).toBe(0)
          expect(s3.refusals).toEqual([])
          expect(s3.uploads.length).toBeGreaterThanOrEqual(3)
          expect(new Set(s3.uploads.map((u) => u.key)).size).toBe(1)
          expect(r.out.match(/HTCondor logs uploaded/g)).toHaveLength(1)
          // the address files HTCondor keeps in log/ while it runs are not uploaded
          for (const upload of s3.uploads) {
            const file = path.join(tempDir(), "logs.tar.gz")
            writeFileSync(file, upload.bytes)
            const members = run(["tar", "tzf", file]).split("\n")
            expect(members).toContain("log/MasterLog")
            expect(members.filter((m) => m.startsWith("log/."))).toEqual([])
          }
          expect(await sleepsLeft(r.record)).toEqual([])
        } finally {
          s3.server.stop(true)
        }
      },
    )
  }

  test("says why S3 refused the logs, and still ends as condor_master did", async () => {
    const s3 = fakeS3("another secret")
    try {
      // Signed with a key the bucket does not know.
      const form = logUploadForm({ ...s3.bucket, secretKey: SECRET }, "Test_Site_", new Date(), 60)
      const r = await startGlideinAsync({
        ...contract(tarballs.password as string),
        ...logUploadEnv(form),
      })
      expect(r.code).toBe(0)
      expect(s3.refusals).toEqual(["signature does not match"])
      expect(r.out).toMatch(
        /glidein: could not upload HTCondor logs to http:\/\/127\.0\.0\.1:\d+\/glidein-logs\/Test_Site_\S+: HTTP 403 AccessDenied: signature does not match\n/,
      )
    } finally {
      s3.server.stop(true)
    }
  })

  test("says when the bucket cannot be reached", async () => {
    const s3 = fakeS3(SECRET)
    const form = logUploadForm(s3.bucket, "Test_Site_", new Date(), 60)
    s3.server.stop(true)
    const r = await startGlideinAsync({
      ...contract(tarballs.password as string),
      ...logUploadEnv(form),
    })
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/glidein: could not upload HTCondor logs to \S+: curl: \(7\)/)
  })

  test("runs without uploading when the form is incomplete or holds odd characters", async () => {
    const s3 = fakeS3(SECRET)
    try {
      const env = logUploadEnv(logUploadForm(s3.bucket, "Test_Site_", new Date(), 60))
      const changes: { [name: string]: string }[] = [
        { LOG_UPLOAD_POLICY: "" },
        { LOG_UPLOAD_PREFIX: "x;reboot" },
      ]
      for (const change of changes) {
        const r = await startGlideinAsync({
          ...contract(tarballs.password as string),
          ...env,
          ...change,
        })
        expect(r.code).toBe(0)
        expect(r.out).toContain(
          "glidein: the LOG_UPLOAD_* settings are incomplete or malformed; HTCondor's logs are not uploaded\n",
        )
        expect((r.master as Record).env._condor_GLIDEIN_LogsURL).toBeUndefined()
      }
      expect(s3.uploads).toEqual([])
    } finally {
      s3.server.stop(true)
    }
  })
})
