/**
 * @module
 * What the suite asks the real batch systems, as root, independently of glidein's own
 * adapters: which of the test user's glideins are queued or running, and what each batch job
 * requested. Also each cluster's client environment and site-config lines.
 */
import { check, describeRun, run } from "./harness.ts"

export type ClusterName = "slurm" | "sge"

export interface BatchJob {
  /** Job id (Grid Engine array tasks as `id.task`). */
  id: string
  state: "running" | "pending" | "other"
  /** The scheduler's own state word. */
  raw: string
}

/** What one batch job asked for, as the scheduler recorded it. */
export interface BatchRequest {
  owner: string
  cpus: number
  /** Per job, MB. */
  memoryMb: number
  gpus: number
  timeLimitS: number
}

/** One of the suite's clusters. */
export interface Cluster {
  name: ClusterName
  /** Variables clients need besides PATH and HOME (the site's normal login environment). */
  clientEnv: Record<string, string>
  /** Lines for the site config's [Cluster] section. */
  configLines: string[]
  /** The environment variable holding the batch job id inside a job. */
  jobIdVariable: string
  /** The command glidein runs to count glideins (slowed down in the lock scenario). */
  countCommand: string
  /** The memory (MB) a job for a glidein of `memoryMb` and `cpus` asks this scheduler for. */
  requestedMemory(memoryMb: number, cpus: number): number
  jobs(user: string): Promise<BatchJob[]>
  request(id: string): Promise<BatchRequest>
}

/** The cluster `name`, whose state lives under `e2eDir` (as the setup scripts left it). */
export function cluster(name: ClusterName, e2eDir: string): Cluster {
  return name === "slurm" ? slurm(e2eDir) : sge()
}

function slurm(e2eDir: string): Cluster {
  const clientEnv = { SLURM_CONF: `${e2eDir}/slurm/slurm.conf` }
  const env = { ...(process.env as Record<string, string>), ...clientEnv }
  return {
    name: "slurm",
    clientEnv,
    configLines: ["scheduler = slurm", "partition = e2e"],
    jobIdVariable: "SLURM_JOB_ID",
    countCommand: "squeue",
    requestedMemory: (memoryMb) => memoryMb,
    async jobs(user) {
      const r = await run(
        ["squeue", "--noheader", "--array", "--user", user, "--format", "%i|%T|%j"],
        {
          env,
        },
      )
      check(r.code === 0, "squeue failed", describeRun(r))
      return lines(r.stdout)
        .map((l) => l.split("|"))
        .filter((f) => f[2] === "glidein")
        .map(([id, raw]) => ({
          id: id!,
          raw: raw!,
          state: raw === "RUNNING" ? "running" : raw === "PENDING" ? "pending" : "other",
        }))
    },
    async request(id) {
      const r = await run(["scontrol", "--oneliner", "show", "job", id], { env })
      check(r.code === 0, `scontrol show job ${id} failed`, describeRun(r))
      const f = keyValues(r.stdout)
      const tres = commaPairs(f.ReqTRES ?? f.TRES ?? "")
      const gres = /gpu[:=](\d+)/.exec(f.TresPerNode ?? "")
      return {
        owner: (f.UserId ?? "").replace(/\(.*$/, ""),
        cpus: Number(f.NumCPUs),
        memoryMb: megabytes(tres.mem ?? f.MinMemoryNode ?? ""),
        gpus: gres ? Number(gres[1]) : Number(tres["gres/gpu"] ?? 0),
        timeLimitS: seconds(f.TimeLimit ?? ""),
      }
    },
  }
}

function sge(): Cluster {
  const clientEnv = { SGE_ROOT: "/var/lib/gridengine", SGE_CELL: "default" }
  const env = { ...(process.env as Record<string, string>), ...clientEnv }
  return {
    name: "sge",
    clientEnv,
    configLines: ["scheduler = sge", "pe = smp"],
    jobIdVariable: "JOB_ID",
    countCommand: "qstat",
    // h_rss is per slot, in whole MB.
    requestedMemory: (memoryMb, cpus) => Math.floor(memoryMb / cpus) * cpus,
    async jobs(user) {
      const r = await run(["qstat", "-u", user], { env })
      check(r.code === 0, "qstat failed", describeRun(r))
      // job-ID prior name user state submit/start-date time [queue@host] slots [ja-task-ID]
      return lines(r.stdout)
        .slice(2)
        .map((l) => l.trim().split(/\s+/))
        .filter((f) => f[2] === "glidein")
        .flatMap((f) => {
          const raw = f[4]!
          // `t`: dispatched and starting on the host (the job's processes already run).
          const state = raw === "r" || raw === "t" ? "running" : raw === "qw" ? "pending" : "other"
          // The queue column (queue@host) is there only for jobs that have started.
          const task = (f[7]?.includes("@") ? f[9] : f[8]) ?? ""
          return taskIds(task).map((t) => ({ id: t ? `${f[0]}.${t}` : f[0]!, raw, state }))
        }) as BatchJob[]
    },
    async request(id) {
      const r = await run(["qstat", "-j", id.replace(/\..*$/, "")], { env })
      check(r.code === 0, `qstat -j ${id} failed`, describeRun(r))
      const f: Record<string, string> = {}
      for (const line of lines(r.stdout)) {
        const m = /^([a-z_ ]+?):\s+(.*)$/.exec(line)
        if (m) f[m[1]!] = m[2]!
      }
      const resources = commaPairs(f["hard resource_list"] ?? "")
      const pe = /range:\s*(\d+)/.exec(f["parallel environment"] ?? "")
      const cpus = pe ? Number(pe[1]) : 1
      return {
        owner: f.owner ?? "",
        cpus,
        // h_rss is per slot.
        memoryMb: megabytes(resources.h_rss ?? "") * cpus,
        gpus: Number(resources.gpu ?? 0),
        timeLimitS: seconds(resources.h_rt ?? ""),
      }
    },
  }
}

/** A qstat task column (`3`, `1-5:1`, or none) → the task numbers ("" for a plain job). */
function taskIds(column: string): string[] {
  const range = /^(\d+)-(\d+):(\d+)$/.exec(column)
  if (!range) return [column]
  const ids: string[] = []
  for (let t = Number(range[1]); t <= Number(range[2]); t += Number(range[3])) ids.push(String(t))
  return ids
}

function lines(text: string): string[] {
  return text.split("\n").filter((l) => l.trim() !== "")
}

/** `A=1 B=x y=2` (scontrol --oneliner) → {A: "1", ...}; values have no spaces there. */
function keyValues(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const word of text.trim().split(/\s+/)) {
    const at = word.indexOf("=")
    if (at > 0) out[word.slice(0, at)] = word.slice(at + 1)
  }
  return out
}

/** `cpu=1,mem=1050M,gres/gpu=1` → {cpu: "1", mem: "1050M", "gres/gpu": "1"}. */
function commaPairs(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const part of text.split(",")) {
    const at = part.indexOf("=")
    if (at > 0) out[part.slice(0, at).trim()] = part.slice(at + 1).trim()
  }
  return out
}

/** `1050M`, `2G`, `1050` (MB) → MB; NaN when unreadable. */
function megabytes(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)$/i.exec(text.trim())
  if (!m) return Number.NaN
  const scale: Record<string, number> = { K: 1 / 1024, M: 1, G: 1024, T: 1024 * 1024, "": 1 }
  return Math.round(Number(m[1]) * scale[m[2]!.toUpperCase()]!)
}

/** `00:30:00`, `1-00:00:00`, `30:00`, `1800` → seconds; NaN when unreadable. */
function seconds(text: string): number {
  const m = /^(?:(\d+)-)?(?:(\d+):)?(?:(\d+):)?(\d+)$/.exec(text.trim())
  if (!m) return Number.NaN
  const [, days, a, b, c] = m
  const parts = [a, b, c].filter((p) => p !== undefined).map(Number)
  while (parts.length < 3) parts.unshift(0)
  return Number(days ?? 0) * 86400 + parts[0]! * 3600 + parts[1]! * 60 + parts[2]!
}
