/**
 * Slurm. Directives as pyglidein's `SubmitSLURM` wrote them — `--job-name=glidein`,
 * `--nodes=1`, `--ntasks-per-node=CPUS`, `--time=H:MM:SS`, `--partition` from the partition's
 * `partition` key, GPUs through `gpu_submit` (default `--gres=gpu:%d`) — with three fixes:
 * - `--mem` is the glidein's whole memory. pyglidein passed its per-core figure (MEMORY ÷
 *   cores after memory-per-core scaling, e.g. `--mem=1866` for a 9-core, 16800 MB glidein),
 *   and `--mem` is per node, so a scaled glidein got a ninth of the memory it advertised.
 * - `group_jobs` makes a real array (`--array=1-N`); pyglidein raised "more than one job not
 *   supported" instead.
 * - Output goes to files (`glidein-%j.out`, arrays `glidein-%A_%a.out`), never /dev/null.
 * pyglidein's `--export=ALL` is Slurm's default and is left out.
 */
import template from "../../templates/slurm.sh" with { type: "text" }
import {
  type BatchDialect,
  type BatchSettings,
  type GpuSettings,
  gpuDirective,
  JOB_NAME,
  queueSetting,
  readBatchSettings,
  renderBatchJob,
  walltimeHms,
  withGpuSubmit,
} from "./job-script.ts"
import { perCoreSizing } from "./sizing.ts"
import type { GlideinOwner, Scheduler } from "./types.ts"

/** What a Slurm partition sets: `partition` (else `queue`), `account`, `gpu_submit`. */
export interface SlurmSettings extends BatchSettings, GpuSettings {}

/** pyglidein's job script took `partition`; `queue`, every other scheduler's key, will do. */
const QUEUE_KEYS = ["partition", "queue"] as const

const dialect: BatchDialect<SlurmSettings> = {
  template,
  templateName: "templates/slurm.sh",
  defaultFilename: "glidein.slurm",
  directives(job, shape, files) {
    const r = job.resources
    const { queue, account, gpuSubmit } = job.settings
    const lines = [
      `--job-name=${JOB_NAME}`,
      "--nodes=1",
      `--ntasks-per-node=${r.cpus}`,
      `--mem=${r.memoryMb}`,
    ].map((o) => `#SBATCH ${o}`)
    const gpus = gpuDirective(r.gpus, gpuSubmit, "#SBATCH", "--gres=gpu:%d")
    if (gpus) lines.push(gpus)
    if (queue !== undefined) lines.push(`#SBATCH --partition=${queue}`)
    if (account !== undefined) lines.push(`#SBATCH --account=${account}`)
    lines.push(`#SBATCH --time=${walltimeHms(r.walltimeS)}`)
    if (shape.array) lines.push(`#SBATCH --array=1-${shape.tasks}`)
    lines.push(`#SBATCH --output=${files.output}`, `#SBATCH --error=${files.error}`)
    return lines
  },
  outputFiles(dir, shape) {
    const id = shape.array ? "%A_%a" : "%j"
    return { output: `${dir}/glidein-${id}.out`, error: `${dir}/glidein-${id}.err` }
  },
  submit: (file) => ({ argv: ["sbatch", file], stdin: false }),
  request: (job) => ({ ...job.resources }),
}

const STATES = { running: "RUNNING", idle: "PENDING", held: "SUSPENDED" } as const

/** Compact states (squeue %t) of jobs that have ended or are ending. */
const GONE = new Set(["CG", "CD", "CA", "F", "TO", "NF", "PR", "BF", "DL", "OOM", "SO"])

function who(owner: GlideinOwner): string[] {
  if (owner.jobs !== undefined) return [`--jobs=${owner.jobs.join(",")}`]
  return owner.user ? ["--user", owner.user] : ["--me"]
}

/** The Slurm adapter. */
export const slurm: Scheduler<SlurmSettings> = {
  name: "slurm",
  readSettings: (source) => withGpuSubmit(readBatchSettings(source, QUEUE_KEYS), source),
  queue: (partition) => queueSetting(partition, QUEUE_KEYS)?.value,
  sizing: perCoreSizing,
  render: (job) => renderBatchJob(job, dialect),
  countArgv(state, filter) {
    // --array lists pending array tasks one per line instead of one line for the whole array.
    // Held jobs are PENDING to Slurm (and count as idle); SUSPENDED ones are stuck.
    return [
      "squeue",
      "--noheader",
      "--array",
      ...who(filter),
      ...(filter.queue !== undefined ? ["--partition", filter.queue] : []),
      "--name",
      JOB_NAME,
      "--states",
      STATES[state],
      "--format",
      "%i",
    ]
  },
  parseGlideins(stdout) {
    return stdout.split("\n").flatMap((line) => {
      const id = line.trim()
      return /^\d+(_\d+)?$/.test(id) ? [id] : []
    })
  },
  liveArgv: (owner) => [
    "squeue",
    "--noheader",
    ...who(owner),
    "--name",
    JOB_NAME,
    "--format",
    "%i %t",
  ],
  parseLive(stdout) {
    const numbers = new Set<string>()
    for (const line of stdout.split("\n")) {
      // `123 R`, `124_7 PD`, `124_[8-9] PD`; a cancelled job completing (CG) is on its way out.
      const m = /^\s*(\d+)\S*\s+(\S+)\s*$/.exec(line)
      if (m && !GONE.has(m[2]!)) numbers.add(m[1]!)
    }
    return [...numbers]
  },
  // squeue --jobs fails on an id it has forgotten when it asks for that job alone.
  noJobs: /Invalid job id specified/,
  parseJobIds(stdout) {
    const ids: string[] = []
    for (const line of stdout.split("\n")) {
      // `Submitted batch job 123` (`… on cluster C` with --clusters), or `123` / `123;C` with
      // --parsable.
      const m = /^\s*(?:Submitted batch job\s+)?(\d+)(?:;\S*|\s+on cluster\s+\S+)?\s*$/.exec(line)
      if (m) ids.push(m[1]!)
    }
    return ids
  },
  cancelArgv: (jobIds) => ["scancel", ...jobIds],
}
