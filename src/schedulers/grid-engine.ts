/**
 * Grid Engine: Univa (`uge`, pyglidein's `SubmitUGE`) and Son of / Sun Grid Engine (`sge`),
 * one template (`templates/sge.sh`). Memory is per slot: `-l h_rss=<M ÷ cores>M`, truncated,
 * as pyglidein wrote it; Grid Engine grants memory per slot, so its sizing adds no cores for
 * memory. Cores beyond one come from a parallel environment, `-pe <pe> CPUS`, whose
 * name is the `pe` setting (default `multicore` for UGE as in pyglidein, `mpi` for SGE, where
 * a site usually names its own single-host PE). UGE also asks for scratch space,
 * `-l tmpdir_size=<max(disk MB ÷ cores, 1000)>M` (pyglidein's UGE sites defined that
 * complex; plain SGE has no such complex, so `sge` leaves it out). GPUs: `-l gpu=N`, or
 * `gpu_submit`. Arrays are `-t 1-N`; output files are `glidein-$JOB_ID[.$TASK_ID].out`.
 *
 * Counting reads `qstat`'s table itself rather than trusting `-s p`: a job whose output path
 * is unwritable sits in `Eqw` forever, and `qstat -s p` would count it as pending (so would
 * held `hqw` jobs), which would stop new glideins for good; they count as held instead (room
 * under max_total_jobs, never idle). Pending array jobs are one line with a task range
 * (`1-5:1`), counted as their number of tasks. A partition with a queue is counted from
 * `qstat -r`, whose "Hard requested queues" line tells the partitions apart (`qstat -q` lists
 * every pending job whatever it asked for).
 */
import template from "../../templates/sge.sh" with { type: "text" }
import {
  type BatchDialect,
  type BatchSettings,
  directiveWord,
  type GpuSettings,
  gpuDirective,
  JOB_NAME,
  queueSetting,
  readBatchSettings,
  renderBatchJob,
  settingText,
  walltimeHms,
  withGpuSubmit,
} from "./job-script.ts"
import { perSlotSizing } from "./sizing.ts"
import type {
  GlideinFilter,
  GlideinOwner,
  GlideinState,
  Scheduler,
  SchedulerName,
  SettingsSource,
} from "./types.ts"

/** What a Grid Engine partition sets: `queue`, `account`, `pe`, `gpu_submit`. */
export interface GridEngineSettings extends BatchSettings, GpuSettings {
  /** The parallel environment of multi-core glideins. */
  pe: string
}

const QUEUE_KEYS = ["queue"] as const

function readSettings(name: "sge" | "uge", source: SettingsSource): GridEngineSettings {
  // pyglidein's UGE default; SGE sites usually name their own single-host PE.
  const pe = settingText(source.partition.pe) ?? (name === "uge" ? "multicore" : "mpi")
  return withGpuSubmit(
    {
      ...readBatchSettings(source, QUEUE_KEYS),
      pe: directiveWord(pe, { section: source.section, key: "pe" }),
    },
    source,
  )
}

function dialect(name: "sge" | "uge"): BatchDialect<GridEngineSettings> {
  return {
    template,
    templateName: "templates/sge.sh",
    defaultFilename: `glidein.${name}`,
    directives(job, shape, files) {
      const r = job.resources
      const { queue, account, pe, gpuSubmit } = job.settings
      const lines = [`#$ -N ${JOB_NAME}`, "#$ -S /bin/sh", `#$ -l h_rss=${memoryPerSlot(r)}M`]
      if (name === "uge") {
        const perSlot = Math.max(Math.floor(r.diskKb / 1024 / r.cpus), 1000)
        lines.push(`#$ -l tmpdir_size=${perSlot}M`)
      }
      const gpus = gpuDirective(r.gpus, gpuSubmit, "#$", "-l gpu=%d")
      if (gpus) lines.push(gpus)
      if (r.cpus > 1) lines.push(`#$ -pe ${pe} ${r.cpus}`)
      lines.push(`#$ -l h_rt=${walltimeHms(r.walltimeS)}`)
      if (queue !== undefined) lines.push(`#$ -q ${queue}`)
      if (account !== undefined) lines.push(`#$ -A ${account}`)
      if (shape.array) lines.push(`#$ -t 1-${shape.tasks}`)
      lines.push(`#$ -o ${files.output}`, `#$ -e ${files.error}`)
      return lines
    },
    outputFiles(dir, shape) {
      // Grid Engine expands these pseudo variables in -o/-e paths itself.
      const id = shape.array ? "$JOB_ID.$TASK_ID" : "$JOB_ID"
      return { output: `${dir}/glidein-${id}.out`, error: `${dir}/glidein-${id}.err` }
    },
    submit: (file) => ({ argv: ["qsub", file], stdin: false }),
    request: (job) => {
      const r = job.resources
      return { ...r, memoryMb: memoryPerSlot(r) * r.cpus }
    },
  }
}

/** MB per slot, truncated as pyglidein did; at least 1 (`h_rss=0M` when cores outnumber MB). */
function memoryPerSlot(r: { memoryMb: number; cpus: number }): number {
  return Math.max(1, Math.floor(r.memoryMb / r.cpus))
}

/** Task ids in a `ja-task-ID` field: `7`, `1-5:1`, `2-10:2`, or a comma list of those. */
export function taskIds(field: string): string[] {
  const ids: string[] = []
  for (const part of field.split(",")) {
    const m = /^(\d+)(?:-(\d+)(?::(\d+))?)?$/.exec(part)
    if (!m) return [field]
    const first = Number(m[1])
    const last = m[2] === undefined ? first : Number(m[2])
    const step = m[3] === undefined ? 1 : Math.max(Number(m[3]), 1)
    for (let t = first; t <= last; t += step) ids.push(String(t))
  }
  return ids
}

/** A glidein line of the `qstat` job table, with `-r`'s hard queue request when shown. */
interface QstatJob {
  number: string
  state: string
  tasks?: string
  queues: string[]
}

/** The glideins in `qstat` (or `qstat -r`) output. */
function qstatJobs(stdout: string): QstatJob[] {
  const jobs: QstatJob[] = []
  let current: QstatJob | undefined
  for (const line of stdout.split("\n")) {
    const request = /^\s+Hard requested queues:\s*(.*)$/.exec(line)
    if (request) {
      if (current) current.queues = request[1]!.split(",").map((q) => q.trim())
      continue
    }
    const cols = line.trim().split(/\s+/)
    // job-ID prior name user state date time [queue] [slots [ja-task-ID]]
    if (cols.length < 8 || !/^\d+$/.test(cols[0]!)) continue
    current = undefined
    if (cols[2] !== JOB_NAME) continue
    const rest = cols.slice(7)
    // The queue column (queue@host) is present only once a job has been scheduled.
    const afterQueue = rest[0]?.includes("@") ? rest.slice(1) : rest
    current = { number: cols[0]!, state: cols[4]!, queues: [] }
    if (afterQueue[1] !== undefined) current.tasks = afterQueue[1]
    jobs.push(current)
  }
  return jobs
}

/**
 * What a qstat state means for a glidein. Errors (`Eqw`), holds (`hqw`) and suspensions
 * (`s`, `S`, `T`) are stuck: `qstat -s p` would call the first two pending, and a glidein that
 * cannot start would then stop new ones for good. A deletion (`d`) is on its way out.
 */
function classify(state: string): GlideinState | "gone" | "other" {
  if (state.includes("d")) return "gone"
  if (/[EsST]/.test(state)) return "held"
  if (/[rt]/.test(state) && !state.includes("w")) return "running"
  if (state.includes("q") && state.includes("w")) return state.includes("h") ? "held" : "idle"
  return "other"
}

/** Does the job ask for `queue` (`all.q` matches a request for `all.q` or `all.q@host`)? */
function inQueue(job: QstatJob, queue: string): boolean {
  return job.queues.some((q) => q === queue || (!queue.includes("@") && q.startsWith(`${queue}@`)))
}

function parseQstat(stdout: string, state: GlideinState, filter: GlideinFilter): string[] {
  return qstatJobs(stdout).flatMap((job) => {
    if (classify(job.state) !== state) return []
    if (filter.queue !== undefined && !inQueue(job, filter.queue)) return []
    if (job.tasks === undefined) return [job.number]
    return taskIds(job.tasks).map((t) => `${job.number}.${t}`)
  })
}

/** qstat's -u for an owner. qstat cannot name jobs in its table, so the journal's are found
 *  among every user's (`-u *`; the client keeps only those). */
function whose(owner: GlideinOwner): string[] {
  if (owner.jobs !== undefined) return ["-u", "*"]
  return owner.user ? ["-u", owner.user] : []
}

function gridEngine(name: "sge" | "uge"): Scheduler<GridEngineSettings> {
  const d = dialect(name)
  return {
    name: name satisfies SchedulerName,
    readSettings: (source) => readSettings(name, source),
    queue: (partition) => queueSetting(partition, QUEUE_KEYS)?.value,
    sizing: perSlotSizing,
    render: (job) => renderBatchJob(job, d),
    // One table serves every state (the client runs it once). qstat -q would not do for a
    // queue: it lists pending jobs whatever they asked for; -r shows each job's request.
    countArgv: (_state, filter) => [
      "qstat",
      ...whose(filter),
      ...(filter.queue !== undefined ? ["-r"] : []),
    ],
    parseGlideins: parseQstat,
    liveArgv: (owner) => ["qstat", ...whose(owner)],
    parseLive(stdout) {
      const live = qstatJobs(stdout).filter((job) => classify(job.state) !== "gone")
      return [...new Set(live.map((job) => job.number))]
    },
    parseJobIds(stdout) {
      const ids: string[] = []
      // `Your job 123 ("glidein") has been submitted`, arrays `Your job-array 123.1-5:1 (…)`.
      for (const m of stdout.matchAll(/Your job(?:-array)? (\d+)/g)) ids.push(m[1]!)
      return ids
    },
    cancelArgv: (jobIds) => ["qdel", ...jobIds],
  }
}

/** Univa Grid Engine (pyglidein's `uge`). */
export const uge: Scheduler<GridEngineSettings> = gridEngine("uge")

/** Son of / Sun Grid Engine. */
export const sge: Scheduler<GridEngineSettings> = gridEngine("sge")
