/**
 * IBM Spectrum LSF. Directives as pyglidein's `SubmitLSF` wrote them: `-n CPUS`,
 * `-W H:MM` (plus `/ref_host` when set), and `-M` in LSF's memory unit: MB × 1000 ×
 * `mem_scale` (pyglidein assumed LSF_UNIT_FOR_LIMITS = KB and counted 1000 KB to the MB;
 * sites with MB limits set `mem_scale = 0.001`), truncated. The script goes to `bsub` on
 * stdin, which is how LSF reads `#BSUB` lines.
 *
 * Differences from pyglidein: `-M` is the glidein's whole memory, not the per-core figure
 * pyglidein computed (a per-process or per-job limit smaller than what the glidein advertises
 * kills its jobs); a multi-core glidein stays on one host (`-R "span[hosts=1]"`); GPUs are
 * requested with `-gpu "num=N"` (or `gpu_submit`), where pyglidein relied on the queue; the
 * job is named `glidein`, arrays `-J "glidein[1-N]"` (pyglidein's `-J [1-N]` had no name, so
 * nothing could find it); output goes to `glidein-%J_%I.out`, not /dev/null.
 */
import template from "../../templates/lsf.sh" with { type: "text" }
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
  walltimeHm,
  withGpuSubmit,
} from "./job-script.ts"
import { perCoreSizing } from "./sizing.ts"
import type { GlideinOwner, GlideinState, Scheduler, SettingsSource } from "./types.ts"

/** What an LSF partition sets: `queue`, `account`, and in [SubmitFile] `gpu_submit`,
 *  `ref_host` and `mem_scale`. */
export interface LsfSettings extends BatchSettings, GpuSettings {
  /** The host the wall-time limit is normalized to (`-W H:MM/HOST`). */
  refHost?: string
  /** `-M` units per MB: 1000 × `mem_scale` (pyglidein's KB, counted 1000 to the MB). */
  memoryUnitsPerMb: number
}

const QUEUE_KEYS = ["queue"] as const

function readSettings(source: SettingsSource): LsfSettings {
  const settings: LsfSettings = {
    ...withGpuSubmit(readBatchSettings(source, QUEUE_KEYS), source),
    memoryUnitsPerMb: 1000 * (source.submitFile.mem_scale ?? 1),
  }
  const refHost = settingText(source.submitFile.ref_host)
  if (refHost !== undefined)
    settings.refHost = directiveWord(refHost, { section: "SubmitFile", key: "ref_host" })
  return settings
}

const dialect: BatchDialect<LsfSettings> = {
  template,
  templateName: "templates/lsf.sh",
  defaultFilename: "glidein.lsf",
  directives(job, shape, files) {
    const r = job.resources
    const { queue, account, gpuSubmit, refHost, memoryUnitsPerMb } = job.settings
    let walltime = walltimeHm(r.walltimeS)
    if (refHost !== undefined) walltime += `/${refHost}`
    const lines = [
      shape.array ? `#BSUB -J "${JOB_NAME}[1-${shape.tasks}]"` : `#BSUB -J ${JOB_NAME}`,
      `#BSUB -n ${r.cpus}`,
    ]
    if (r.cpus > 1) lines.push('#BSUB -R "span[hosts=1]"')
    lines.push(`#BSUB -M ${Math.trunc(r.memoryMb * memoryUnitsPerMb)}`, `#BSUB -W ${walltime}`)
    const gpus = gpuDirective(r.gpus, gpuSubmit, "#BSUB", '-gpu "num=%d"')
    if (gpus) lines.push(gpus)
    if (queue !== undefined) lines.push(`#BSUB -q ${queue}`)
    if (account !== undefined) lines.push(`#BSUB -P ${account}`)
    lines.push(`#BSUB -o ${files.output}`, `#BSUB -e ${files.error}`)
    return lines
  },
  outputFiles(dir) {
    // %I is the array index, 0 outside arrays.
    return { output: `${dir}/glidein-%J_%I.out`, error: `${dir}/glidein-%J_%I.err` }
  },
  submit: () => ({ argv: ["bsub"], stdin: true }),
  request: (job) => ({ ...job.resources }),
}

function bjobs(owner: GlideinOwner, queue: string | undefined): string[] {
  // Named jobs are listed whoever owns them (-u all), by id alone: how bjobs combines ids with
  // -J or -q is not said anywhere, and the parser keeps only rows named glidein (and the client
  // only the journal's queue) anyway. bjobs says on stderr which ids it forgot.
  if (owner.jobs !== undefined) return ["bjobs", "-w", "-noheader", "-u", "all", ...owner.jobs]
  return [
    "bjobs",
    "-w",
    "-noheader",
    ...(owner.user ? ["-u", owner.user] : []),
    ...(queue !== undefined ? ["-q", queue] : []),
    "-J",
    JOB_NAME,
  ]
}

/** bjobs STAT values: suspended jobs (by the user, an admin or LSF) are stuck. */
const STATES: Record<string, GlideinState | "gone"> = {
  RUN: "running",
  PEND: "idle",
  PSUSP: "held",
  USUSP: "held",
  SSUSP: "held",
  DONE: "gone",
  EXIT: "gone",
  ZOMBI: "gone",
}

/** Glidein lines of `bjobs -w -noheader`: one per job or array element, `1235[2]` for those. */
function bjobsLines(stdout: string) {
  return stdout.split("\n").flatMap((line) => {
    // JOBID USER STAT QUEUE FROM_HOST [EXEC_HOST] JOB_NAME SUBMIT_TIME: EXEC_HOST is blank
    // while pending, so JOB_NAME is found by its form, the last such column before the time.
    const cols = line.trim().split(/\s+/)
    const number = cols[0] ?? ""
    if (!/^\d+$/.test(number)) return []
    const name = cols
      .slice(3)
      .reverse()
      .find((c) => c === JOB_NAME || c.startsWith(`${JOB_NAME}[`))
    if (name === undefined) return []
    const index = /\[(\d+)\]$/.exec(name)?.[1]
    return [
      {
        number,
        id: index === undefined ? number : `${number}[${index}]`,
        state: STATES[cols[2] ?? ""] ?? "other",
      },
    ]
  })
}

/** The LSF adapter. */
export const lsf: Scheduler<LsfSettings> = {
  name: "lsf",
  readSettings,
  queue: (partition) => queueSetting(partition, QUEUE_KEYS)?.value,
  sizing: perCoreSizing,
  render: (job) => renderBatchJob(job, dialect),
  // One listing serves every state (the client runs it once); -q keeps to the partition's queue.
  countArgv: (_state, filter) => bjobs(filter, filter.queue),
  parseGlideins(stdout, state) {
    return bjobsLines(stdout).flatMap((job) => (job.state === state ? [job.id] : []))
  },
  liveArgv: (owner) => bjobs(owner, undefined),
  parseLive(stdout) {
    const live = bjobsLines(stdout).filter((job) => job.state !== "gone")
    return [...new Set(live.map((job) => job.number))]
  },
  noJobs: /^(No (unfinished )?job found|Job <[^>]*> is not found)/m,
  parseJobIds(stdout) {
    return [...stdout.matchAll(/Job <(\d+)> is submitted/g)].map((m) => m[1]!)
  },
  cancelArgv: (jobIds) => ["bkill", ...jobIds],
}
