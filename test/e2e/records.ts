/**
 * @module
 * Reads what the stand-in condor_masters recorded (see standin/condor_master): one folder per
 * started master in the results directory, published by an atomic rename once complete.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"

/** One condor_master start, as the glidein ran it. */
export interface MasterRecord {
  dir: string
  args: string[]
  /** The master's own environment. */
  env: Record<string, string>
  /** The glidein's contract environment: what `env -i` in the job script started
   *  glidein_start.sh with — the farthest process above the master that has GLIDEIN_TARBALL
   *  (a process's recorded environment is the one it was started with). */
  contract?: Record<string, string>
  /** The batch job's environment: the nearest process above whose environment names the
   *  job (the job script's shell, before `env -i`). */
  jobEnv?: Record<string, string>
  /** The batch job id, from `jobEnv`. */
  jobId?: string
  /** The GPU inventory the startd would read (condor_gpu_discovery's output), if any. */
  gpuInventory?: string
  pid: number
  /** Unix seconds when the master started. */
  started: number
  user: string
  cwd: string
  /** Daemons found executable beside the master. */
  daemons: string[]
  passwordPath?: string
  /** The bytes of the file the configuration names as the pool password. */
  password?: Buffer
  passwordMode?: string
  tokensPath?: string
  /** Seconds the master meant to stay up. */
  lifetime: number
  /** Why it stopped (TERM, INT, HUP, lifetime), if it has. */
  stopped?: string
  error?: string
}

/** Every complete record in `dir`; `jobIdVariable` names the batch job id variable. */
export function readRecords(dir: string, jobIdVariable: string): MasterRecord[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter((name) => !name.startsWith("."))
    .sort()
    .map((name) => readRecord(join(dir, name), jobIdVariable))
}

function readRecord(dir: string, jobIdVariable: string): MasterRecord {
  const text = (name: string) => {
    const path = join(dir, name)
    return existsSync(path) ? readFileSync(path, "utf8").trim() : undefined
  }
  const env = parseEnviron(readFileSync(join(dir, "env")))
  const ancestors: Record<string, string>[] = []
  for (let n = 0; existsSync(join(dir, "ancestors", `${n}.environ`)); n++) {
    ancestors.push(parseEnviron(readFileSync(join(dir, "ancestors", `${n}.environ`))))
  }
  const chain = [env, ...ancestors]
  const passwordFile = join(dir, "password")
  const record: MasterRecord = {
    dir,
    args: (text("args") ?? "").split("\n").filter((a) => a !== ""),
    env,
    pid: Number(text("pid")),
    started: Number(text("started")),
    user: text("user") ?? "",
    cwd: text("cwd") ?? "",
    daemons: (text("daemons") ?? "").split("\n").filter((d) => d !== ""),
    lifetime: Number(text("lifetime")),
  }
  const contract = chain.findLast((e) => e.GLIDEIN_TARBALL !== undefined)
  if (contract) record.contract = contract
  // The job id also passes through env -i (it names the glidein): look above the contract.
  const jobEnv = chain.find(
    (e) => e[jobIdVariable] !== undefined && e.GLIDEIN_TARBALL === undefined,
  )
  if (jobEnv) {
    record.jobEnv = jobEnv
    record.jobId = jobEnv[jobIdVariable]!
  }
  const optional = {
    passwordPath: text("password.path"),
    passwordMode: text("password.mode"),
    tokensPath: text("tokens.path"),
    gpuInventory: text("gpus.ad"),
    stopped: text("stopped"),
    error: text("error"),
  }
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) Object.assign(record, { [key]: value })
  }
  if (existsSync(passwordFile)) record.password = readFileSync(passwordFile)
  return record
}

/** NUL-separated NAME=value pairs (/proc/PID/environ, `env -0`). */
function parseEnviron(bytes: Buffer): Record<string, string> {
  const env: Record<string, string> = {}
  for (const entry of bytes.toString("utf8").split("\0")) {
    const at = entry.indexOf("=")
    if (at > 0) env[entry.slice(0, at)] = entry.slice(at + 1)
  }
  return env
}

/** True while the recorded master process is still running. */
export function masterAlive(record: MasterRecord): boolean {
  try {
    return readFileSync(`/proc/${record.pid}/cmdline`, "utf8").includes("condor_master")
  } catch {
    return false
  }
}
