/**
 * Grid Engine: Univa (`uge`, pyglidein's `SubmitUGE`) and Son of / Sun Grid Engine (`sge`),
 * one template (`templates/sge.sh`). Memory is per slot: `-l h_rss=<M ÷ cores>M`, truncated,
 * as pyglidein wrote it; Grid Engine grants memory per slot, so the planner does not add cores
 * for memory here. Cores beyond one come from a parallel environment, `-pe <pe> CPUS`, whose
 * name is the `pe` setting (default `multicore` for UGE as in pyglidein, `mpi` for SGE, where
 * a site usually names its own single-host PE). UGE also asks for scratch space,
 * `-l tmpdir_size=<max(disk MB ÷ cores, 1000)>M` (pyglidein's UGE sites defined that
 * complex; plain SGE has no such complex, so `sge` leaves it out). GPUs: `-l gpu=N`, or
 * `gpu_submit`. Arrays are `-t 1-N`; output files are `glidein-$JOB_ID[.$TASK_ID].out`.
 *
 * Counting reads `qstat`'s table itself rather than trusting `-s p`: a job whose output path
 * is unwritable sits in `Eqw` forever, and `qstat -s p` would count it as pending (so would
 * held `hqw` jobs), which would stop new glideins for good. Pending array jobs are one line
 * with a task range (`1-5:1`), counted as their number of tasks.
 */
import template from "../../templates/sge.sh" with { type: "text" }
import {
  type BatchDialect,
  directiveWord,
  extraText,
  gpuDirective,
  JOB_NAME,
  renderBatchJob,
  walltimeHms,
} from "./job-script.ts"
import type { Scheduler, SchedulerName } from "./types.ts"

function dialect(name: "sge" | "uge"): BatchDialect {
  return {
    template,
    templateName: "templates/sge.sh",
    defaultFilename: `glidein.${name}`,
    directives(job, shape, files) {
      const r = job.resources
      const lines = [`#$ -N ${JOB_NAME}`, "#$ -S /bin/sh", `#$ -l h_rss=${memoryPerSlot(r)}M`]
      if (name === "uge") {
        const perSlot = Math.max(Math.floor(r.diskKb / 1024 / r.cpus), 1000)
        lines.push(`#$ -l tmpdir_size=${perSlot}M`)
      }
      const gpus = gpuDirective(job, "#$", "-l gpu=%d")
      if (gpus) lines.push(gpus)
      if (r.cpus > 1) {
        const pe = extraText(job, "pe") ?? (name === "uge" ? "multicore" : "mpi")
        lines.push(`#$ -pe ${directiveWord(pe, { section: job.partition, key: "pe" })} ${r.cpus}`)
      }
      lines.push(`#$ -l h_rt=${walltimeHms(r.walltimeS)}`)
      if (job.site.queue !== undefined)
        lines.push(
          `#$ -q ${directiveWord(job.site.queue, { section: job.partition, key: "queue" })}`,
        )
      const account = extraText(job, "account")
      if (account !== undefined)
        lines.push(`#$ -A ${directiveWord(account, { section: job.partition, key: "account" })}`)
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

/** Tasks in a `ja-task-ID` field: `7`, `1-5:1`, `2-10:2`, or a comma list of those. */
export function countTasks(field: string): number {
  let total = 0
  for (const part of field.split(",")) {
    const m = /^(\d+)(?:-(\d+)(?::(\d+))?)?$/.exec(part)
    if (!m) return 1
    const first = Number(m[1])
    const last = m[2] === undefined ? first : Number(m[2])
    const step = m[3] === undefined ? 1 : Math.max(Number(m[3]), 1)
    total += last >= first ? Math.floor((last - first) / step) + 1 : 0
  }
  return total
}

/** Glideins in `state` in `qstat` output (the default job table). */
function parseQstat(stdout: string, state: "running" | "idle"): number {
  let total = 0
  for (const line of stdout.split("\n")) {
    const cols = line.trim().split(/\s+/)
    // job-ID prior name user state date time [queue] [slots [ja-task-ID]]
    if (cols.length < 8 || !/^\d+$/.test(cols[0]!) || cols[2] !== JOB_NAME) continue
    const s = cols[4]!
    if (s.includes("E") || s.includes("h")) continue
    const running = /[rt]/.test(s) && !s.includes("w")
    const pending = s.includes("q") && s.includes("w")
    if (state === "running" ? !running : !pending) continue
    const rest = cols.slice(7)
    // The queue column (queue@host) is present only once a job has been scheduled.
    const afterQueue = rest[0]?.includes("@") ? rest.slice(1) : rest
    const tasks = afterQueue[1]
    total += tasks === undefined ? 1 : countTasks(tasks)
  }
  return total
}

function gridEngine(name: "sge" | "uge"): Scheduler {
  const d = dialect(name)
  return {
    name: name satisfies SchedulerName,
    render: (job) => renderBatchJob(job, d),
    countArgv: (_state, user) => ["qstat", ...(user ? ["-u", user] : [])],
    parseCount: parseQstat,
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
export const uge: Scheduler = gridEngine("uge")

/** Son of / Sun Grid Engine. */
export const sge: Scheduler = gridEngine("sge")
