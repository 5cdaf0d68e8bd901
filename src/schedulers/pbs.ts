/**
 * PBS/Torque. Directives as pyglidein's `SubmitPBS` wrote them: `-l nodes=1:ppn=CPUS`
 * (+ `:node_property`, + `:gpus=N` unless `set_gpu_req = False`), `-l walltime=H:MM:SS`, and
 * one memory line chosen by the partition's flags, in pyglidein's order of precedence:
 *
 * | flag | line |
 * |---|---|
 * | `pmem_only` | `-l pmem=Pmb` |
 * | `pvmem` | `-l pmem=Pmb,vmem=Mmb` |
 * | `vmem_only` | `-l vmem=Mmb` |
 * | `mem_only` | `-l mem=Mmb` |
 * | (none) | `-l pmem=Pmb,mem=Mmb` |
 *
 * M is the glidein's memory and P the per-process share pyglidein computed: M ÷ cores,
 * truncated, for CPU glideins (whose cores were added to fit memory-per-core); all of M for
 * GPU glideins, whose memory pyglidein never divided. pyglidein's `mem`/`vmem` were its
 * per-core figure times the cores (or, with `vmem_only`/`mem_only`, the per-core figure
 * alone); here they are M, the glidein's total.
 *
 * pyglidein multiplied PBS demand memory by 1024/1000 inside its partition loop, so a second
 * partition saw 1.024² and so on. That factor is this adapter's sizing rule, which the planner
 * applies once; rendering adds nothing to the memory it is given. Fixed too: arrays are `-t 1-N` (N
 * glideins; pyglidein's `-t 0-N` made N+1), jobs are named `glidein` (`-N`) so that the
 * default count finds them, and output goes to files in the output directory, not /dev/null.
 */
import template from "../../templates/pbs.sh" with { type: "text" }
import {
  type BatchDialect,
  type BatchSettings,
  directiveWord,
  JOB_NAME,
  queueSetting,
  readBatchSettings,
  renderBatchJob,
  settingText,
  walltimeHms,
} from "./job-script.ts"
import { perCoreSizing, type SizingRules } from "./sizing.ts"
import type { GlideinOwner, JobSpec, Scheduler, SettingsSource } from "./types.ts"

/** The memory line's form, by the flag that chose it (`default`: none set). */
type MemoryForm = "pmem_only" | "pvmem" | "vmem_only" | "mem_only" | "default"

/** What a PBS partition sets: `queue`, `account`, `node_property`, `set_gpu_req` and the
 *  memory flags. */
export interface PbsSettings extends BatchSettings {
  /** Appended to `nodes=1:ppn=N`. */
  nodeProperty?: string
  /** `set_gpu_req`: `:gpus=N` on the nodes line. */
  gpuRequest: boolean
  memoryForm: MemoryForm
}

const QUEUE_KEYS = ["queue"] as const

/** The memory flags in pyglidein's order of precedence. */
const MEMORY_FLAGS = ["pmem_only", "pvmem", "vmem_only", "mem_only"] as const

function readSettings(source: SettingsSource): PbsSettings {
  const p = source.partition
  const settings: PbsSettings = {
    ...readBatchSettings(source, QUEUE_KEYS),
    gpuRequest: p.set_gpu_req,
    memoryForm: MEMORY_FLAGS.find((flag) => p[flag]) ?? "default",
  }
  const property = settingText(p.node_property)
  if (property !== undefined)
    settings.nodeProperty = directiveWord(property, {
      section: source.section,
      key: "node_property",
    })
  return settings
}

/** The memory resource line and the total it asks for. */
function memoryRequest(job: JobSpec<PbsSettings>): { line: string; totalMb: number } {
  const { cpus, gpus, memoryMb: m } = job.resources
  const p = gpus > 0 ? m : Math.floor(m / cpus)
  switch (job.settings.memoryForm) {
    case "pmem_only":
      return { line: `pmem=${p}mb`, totalMb: p * cpus }
    case "pvmem":
      return { line: `pmem=${p}mb,vmem=${m}mb`, totalMb: m }
    case "vmem_only":
      return { line: `vmem=${m}mb`, totalMb: m }
    case "mem_only":
      return { line: `mem=${m}mb`, totalMb: m }
    default:
      return { line: `pmem=${p}mb,mem=${m}mb`, totalMb: m }
  }
}

/** pyglidein scaled PBS demand memory by 1024/1000 (Torque's "mb" is MiB); the planner
 *  applies it once, not once more per partition as pyglidein did. */
const sizing: SizingRules = {
  ...perCoreSizing,
  demandMemoryMb: (mb) => (mb * 1024) / 1000,
}

const dialect: BatchDialect<PbsSettings> = {
  template,
  templateName: "templates/pbs.sh",
  defaultFilename: "glidein.pbs",
  directives(job, shape, files) {
    const r = job.resources
    const { queue, account, nodeProperty, gpuRequest } = job.settings
    let nodes = `nodes=1:ppn=${r.cpus}`
    if (nodeProperty !== undefined) nodes += `:${nodeProperty}`
    if (r.gpus > 0 && gpuRequest) nodes += `:gpus=${r.gpus}`
    const lines = [
      `-N ${JOB_NAME}`,
      "-S /bin/sh",
      `-l ${nodes}`,
      `-l ${memoryRequest(job).line}`,
      `-l walltime=${walltimeHms(r.walltimeS)}`,
    ]
    if (queue !== undefined) lines.push(`-q ${queue}`)
    if (account !== undefined) lines.push(`-A ${account}`)
    if (shape.array) lines.push(`-t 1-${shape.tasks}`)
    lines.push(`-o ${files.output}`, `-e ${files.error}`)
    return lines.map((l) => `#PBS ${l}`)
  },
  outputFiles(dir) {
    // PBS does not expand variables in -o/-e; a directory gets one file per job (and array
    // task) under the default name.
    const path = dir.endsWith("/") ? dir : `${dir}/`
    return { output: path, error: path }
  },
  submit: (file) => ({ argv: ["qsub", file], stdin: false }),
  request: (job) => ({ ...job.resources, memoryMb: memoryRequest(job).totalMb }),
}

/** qselect's state letters: held jobs (H) are stuck until someone releases them. */
const STATES = { running: "R", idle: "Q", held: "H" } as const

function qselect(owner: GlideinOwner, options: string[]): string[] {
  // Without -u, qselect lists every user's jobs; it cannot name jobs, so the journal's are
  // found among everyone's (the client keeps only those).
  const user = owner.jobs === undefined ? owner.user : undefined
  return ["qselect", ...(user ? ["-u", user] : []), "-N", JOB_NAME, ...options]
}

/** The job ids qselect printed, separated by white space (one per line in practice):
 *  `548.moab`, array tasks `1098[1].moab`. */
function qselectIds(stdout: string): string[] {
  return stdout.split(/\s+/).filter((id) => /^\d+(\[\d*\])?(\.\S*)?$/.test(id))
}

/** The PBS/Torque adapter. */
export const pbs: Scheduler<PbsSettings> = {
  name: "pbs",
  readSettings,
  queue: (partition) => queueSetting(partition, QUEUE_KEYS)?.value,
  sizing,
  render: (job) => renderBatchJob(job, dialect),
  countArgv(state, filter) {
    return qselect(filter, [
      ...(filter.queue !== undefined ? ["-q", filter.queue] : []),
      "-s",
      STATES[state],
    ])
  },
  parseGlideins: qselectIds,
  // Exiting (E) and completed (C) jobs are on their way out.
  liveArgv: (owner) => qselect(owner, ["-s", "HQRTW"]),
  parseLive(stdout) {
    return [...new Set(qselectIds(stdout).map((id) => /^\d+/.exec(id)![0]))]
  },
  parseJobIds(stdout) {
    const ids: string[] = []
    for (const line of stdout.split("\n")) {
      // Torque prints `123.server.domain`, arrays `123[].server.domain`.
      const m = /^\s*(\d+(?:\[\d*\])?(?:\.[\w.-]+)?)\s*$/.exec(line)
      if (m) ids.push(m[1]!)
    }
    return ids
  },
  cancelArgv: (jobIds) => ["qdel", ...jobIds],
}
