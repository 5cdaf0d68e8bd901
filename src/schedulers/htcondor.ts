/**
 * HTCondor as the site's batch system (glideins into another pool). Two files: the submit
 * description (`templates/htcondor.submit`, or the site's template) and a wrapper script
 * (`templates/htcondor-wrapper.sh`) that starts glidein_start.sh from a clean environment in
 * the job's sandbox. glidein_start.sh and the tarball travel with `transfer_input_files`.
 *
 * The requests are the planned glidein as pyglidein's `SubmitCondor` sized it: the job's own
 * cores, memory × 1.1 × `mem_safety_scale`, disk KB × 1.1 (whole nodes: `whole_node_*`, disk
 * × 1000 as pyglidein had it), `request_gpus` only for GPU glideins — all planner arithmetic;
 * this adapter writes `request_cpus/memory/disk/gpus` from the plan unchanged. The glidein is
 * told those same values. (pyglidein's wrapper read them back from the machine ad; the slot
 * is at least what was requested, so the plan is what the glidein may promise.)
 *
 * Jobs carry `batch_name = glidein` so the default counts (`JobBatchName`) find only them.
 * pyglidein submitted `count` clusters of one job each; with `group_jobs` this is one
 * `queue N`. The wrapper's name includes a hash of its content: HTCondor reads the executable
 * when a job starts, not at submit time, so a later submission with other values must not
 * overwrite the file an earlier one still needs (pyglidein reused `env_wrapper.sh`).
 */
import template from "../../templates/htcondor.submit" with { type: "text" }
import wrapperTemplate from "../../templates/htcondor-wrapper.sh" with { type: "text" }
import { GlideinError } from "../errors.ts"
import {
  commonValues,
  directivePath,
  directiveWord,
  envAssignments,
  JOB_NAME,
  oneLine,
  outputDir,
  renderJobFile,
  settingText,
  startCommand,
  submissionShape,
  submitFileName,
} from "./job-script.ts"
import { quoteLiteral } from "./shell.ts"
import { requestSizing } from "./sizing.ts"
import { renderTemplate } from "./template.ts"
import type { AdapterSettings, GlideinOwner, JobSpec, Scheduler, SettingsSource } from "./types.ts"

/** What an HTCondor partition sets: `queue` (only for site templates: HTCondor has none) and
 *  in [SubmitFile] `executable`, `log`, `requirements`, `custom_footer`, `env_wrapper_name`. */
export interface HtcondorSettings extends AdapterSettings {
  /** The jobs' user log. */
  log?: string
  requirements?: string
  /** Lines before `queue`. */
  customFooter?: string
  /** The wrapper's file name, instead of one named after its content. */
  wrapperName?: string
}

function readSettings(source: SettingsSource): HtcondorSettings {
  const f = source.submitFile
  const line = (key: "log" | "requirements") => {
    const value = settingText(f[key])
    return value === undefined ? undefined : oneLine(value, key)
  }
  const wrapper = settingText(f.env_wrapper_name)
  return {
    queue: source.partition.queue,
    executable: settingText(f.executable),
    log: line("log"),
    requirements: line("requirements"),
    customFooter: settingText(f.custom_footer),
    wrapperName:
      wrapper === undefined
        ? undefined
        : directiveWord(wrapper, { section: "SubmitFile", key: "env_wrapper_name" }),
  }
}

/** A path in a submit-file list: one word, without a comma (the separator). */
function listPath(path: string, what: string): string {
  if (directivePath(path, what).includes(","))
    throw new GlideinError(`the ${what} ${JSON.stringify(path)} cannot be used in a submit file`)
  return path
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1)
}

function render(job: JobSpec<HtcondorSettings>) {
  const shape = submissionShape(job)
  const r = job.resources
  const startScript = listPath(job.paths.startScript, "glidein_start.sh path")
  const tarball = listPath(job.paths.tarball, "tarball path")
  // The tarball arrives in the sandbox, which is the wrapper's working directory.
  const env = envAssignments(job, `"$PWD"/${quoteLiteral(baseName(tarball))}`, true)
  const wrapper = renderTemplate(
    wrapperTemplate,
    { START_COMMAND: startCommand(job, env, baseName(startScript)) },
    "templates/htcondor-wrapper.sh",
  )
  const wrapperName =
    job.settings.wrapperName ??
    `glidein-wrapper-${Bun.hash(wrapper).toString(16).padStart(16, "0").slice(0, 12)}.sh`
  const filename = submitFileName(job, "glidein.submit")
  const outDir = outputDir(job)
  const output = `${outDir}/glidein-$(Cluster).$(Process).out`
  const error = `${outDir}/glidein-$(Cluster).$(Process).err`
  const transfer = `${startScript},${tarball}`
  const directives = [
    "universe = vanilla",
    `batch_name = ${JOB_NAME}`,
    // The default counts tell the partitions of a config apart by it (HTCondor has no queues).
    `+${PARTITION_ATTRIBUTE} = ${classAdString(job.partition)}`,
    `executable = ${wrapperName}`,
    "transfer_executable = True",
    "should_transfer_files = YES",
    "when_to_transfer_output = ON_EXIT",
    `transfer_input_files = ${transfer}`,
    '+TransferOutput = ""',
    `output = ${output}`,
    `error = ${error}`,
    "notification = never",
    "want_graceful_removal = True",
  ]
  // Values of this round, which the wrapper (kept while jobs wait) passes on; envAssignments
  // has checked that they need no quoting.
  const round = Object.entries(job.roundEnv ?? {})
  if (round.length > 0)
    directives.push(`environment = "${round.map(([name, value]) => `${name}=${value}`).join(" ")}"`)
  const { log, requirements, customFooter } = job.settings
  if (log !== undefined) directives.push(`log = ${log}`)
  if (requirements !== undefined) directives.push(`requirements = ${requirements}`)
  const requests = [
    `request_cpus = ${r.cpus}`,
    `request_memory = ${r.memoryMb}`,
    `request_disk = ${r.diskKb}`,
  ]
  if (r.gpus > 0) requests.push(`request_gpus = ${r.gpus}`)
  const end = [job.site.customEnd, customFooter].filter(
    (t): t is string => t !== undefined && t !== "",
  )
  const values = {
    ...commonValues(job, shape, env),
    CUSTOM_END: end.join("\n"),
    DIRECTIVES: directives.join("\n"),
    REQUESTS: requests.join("\n"),
    OUTPUT: output,
    ERROR: error,
    OUTPUT_DIR: outDir,
    WRAPPER: wrapperName,
    TRANSFER_INPUT_FILES: transfer,
  }
  return {
    files: {
      [filename]: renderJobFile(job, values, template, "templates/htcondor.submit"),
      [wrapperName]: wrapper,
    },
    submitFile: filename,
    argv: ["condor_submit", filename],
    request: { ...r },
    jobs: job.count,
    runs: shape.runs,
  }
}

/** JobStatus: 1 idle, 2 running; held (5) and suspended (7) jobs are stuck. */
const STATES = {
  running: "JobStatus == 2",
  idle: "JobStatus == 1",
  held: "(JobStatus == 5 || JobStatus == 7)",
} as const

/** The job attribute naming the config section a glidein was submitted for. */
const PARTITION_ATTRIBUTE = "GlideinPartition"

/** A ClassAd string literal. */
function classAdString(text: string): string {
  return `"${text.replace(/[\\"]/g, "\\$&")}"`
}

/** Glideins of one partition; those submitted before glideins were tagged count for all. */
function inPartition(partition: string): string {
  return `(${PARTITION_ATTRIBUTE} =?= ${classAdString(partition)} || ${PARTITION_ATTRIBUTE} =?= undefined)`
}

/** `ClusterId ProcId` lines of `condor_q -af`. */
function procIds(stdout: string): [string, string][] {
  return stdout.split("\n").flatMap((line) => {
    const m = /^\s*(\d+)\s+(\d+)\s*$/.exec(line)
    return m ? [[m[1]!, m[2]!] as [string, string]] : []
  })
}

function condorQ(owner: GlideinOwner, constraint: string): string[] {
  // Named clusters are found whoever owns them; the ids are the journal's digits.
  const named =
    owner.jobs !== undefined
      ? ` && member(ClusterId, {${owner.jobs.filter((j) => /^\d+$/.test(j)).join(", ")}})`
      : ""
  const who = owner.jobs !== undefined ? ["-allusers"] : owner.user ? [owner.user] : []
  return [
    "condor_q",
    ...who,
    "-constraint",
    `JobBatchName =?= "${JOB_NAME}" && ${constraint}${named}`,
    "-af",
    "ClusterId",
    "ProcId",
  ]
}

/** The HTCondor adapter. */
export const htcondor: Scheduler<HtcondorSettings> = {
  name: "htcondor",
  readSettings,
  // No queues: the default counts tell partitions apart by GlideinPartition.
  queue: (partition) => partition.queue,
  sizing: requestSizing,
  render,
  countArgv: (state, filter) =>
    condorQ(
      filter,
      `${STATES[state]}${filter.partition ? ` && ${inPartition(filter.partition)}` : ""}`,
    ),
  parseGlideins: (stdout) => procIds(stdout).map(([cluster, proc]) => `${cluster}.${proc}`),
  // Removed (3) and completed (4) jobs are on their way out of the queue.
  liveArgv: (owner) => condorQ(owner, "JobStatus != 3 && JobStatus != 4"),
  parseLive(stdout) {
    return [...new Set(procIds(stdout).map(([cluster]) => cluster))]
  },
  parseJobIds(stdout) {
    return [...stdout.matchAll(/submitted to cluster (\d+)/g)].map((m) => m[1]!)
  },
  cancelArgv: (jobIds) => ["condor_rm", ...jobIds],
}
