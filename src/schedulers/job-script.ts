/**
 * What the batch-script adapters (Slurm, PBS, Grid Engine, LSF) share: the reading of the
 * settings they have in common (queue, account, executable, gpu_submit), the placeholders every
 * template gets, the glidein start-up block, and the assembly of a `RenderedJob`. An adapter
 * supplies only its own settings, directives, output-file patterns, submit argv and request
 * arithmetic.
 */
import enterDirTemplate from "../../templates/enter-glidein-dir.sh" with { type: "text" }
import type { PartitionSettings } from "../config/schema.ts"
import { ConfigError, GlideinError } from "../errors.ts"
import { isEnvName, quoteExpanding, quoteLiteral } from "./shell.ts"
import { renderTemplate } from "./template.ts"
import type {
  AdapterSettings,
  GlideinResources,
  JobSpec,
  RenderedJob,
  SettingsSource,
} from "./types.ts"

/** Every glidein carries this job name; the default counting commands look for it. */
export const JOB_NAME = "glidein"

/** How one submission is shaped: one array of `tasks`, or `runs` separate submissions. */
interface Shape {
  /** True when the glideins go out as one array job. */
  array: boolean
  /** Glideins per submit-command run. */
  tasks: number
  /** Submit-command runs. */
  runs: number
}

/**
 * Array or not: an array only when the site groups jobs and there is more than one. Refuses
 * counts and resources no directive can express (the planner hands over whole numbers).
 */
export function submissionShape(job: JobSpec): Shape {
  if (!Number.isInteger(job.count) || job.count < 1)
    throw new GlideinError(`cannot submit ${job.count} glideins to "${job.partition}"`)
  const r = job.resources
  const bad = (
    [
      ["cores", r.cpus, 1],
      ["GPUs", r.gpus, 0],
      ["MB of memory", r.memoryMb, 1],
      ["KB of disk", r.diskKb, 0],
      ["seconds of wall time", r.walltimeS, 1],
    ] as const
  ).find(([, value, min]) => !Number.isSafeInteger(value) || value < min)
  if (bad)
    throw new GlideinError(
      `cannot submit a glidein with ${bad[1]} ${bad[0]} to "${job.partition}" (expected a whole number ≥ ${bad[2]})`,
    )
  const array = job.site.groupJobs && job.count > 1
  return array ? { array, tasks: job.count, runs: 1 } : { array, tasks: 1, runs: job.count }
}

/** `H:MM:SS` (pyglidein wrote whole hours as `14:00:00`). */
export function walltimeHms(seconds: number): string {
  const h = Math.floor(seconds / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  const s = Math.floor(seconds % 60)
  return `${h}:${pad2(m)}:${pad2(s)}`
}

/** `H:MM`, for LSF's `-W`. */
export function walltimeHm(seconds: number): string {
  const minutes = Math.floor(seconds / 60)
  return `${Math.floor(minutes / 60)}:${pad2(minutes % 60)}`
}

function pad2(n: number): string {
  return String(n).padStart(2, "0")
}

/** Where a setting came from, for errors about its value. */
interface Place {
  section: string
  key: string
}

/** Whether `value` can be one word of a directive line: a space, quote or newline would split
 *  the directive or start a new line of the script. */
function isDirectiveWord(value: string): boolean {
  return value !== "" && !/[\s"'\\]/.test(value)
}

/** A config value used as one word of a directive line; ConfigError at `place` otherwise. */
export function directiveWord(value: string, place: Place): string {
  if (!isDirectiveWord(value))
    throw new ConfigError(
      place,
      `${JSON.stringify(value)} cannot be used in a job directive (empty, or has spaces, quotes or backslashes)`,
    )
  return value
}

/** A path used in a directive (output files, submit files): absolute-looking, one word. */
export function directivePath(path: string, what: string): string {
  if (!isDirectiveWord(path))
    throw new GlideinError(`the ${what} ${JSON.stringify(path)} cannot be used in a job directive`)
  return path
}

/** The submit file's name: the site's `filename`, or the adapter's `fallback`. */
export function submitFileName(job: JobSpec, fallback: string): string {
  return directivePath(job.site.filename ?? fallback, "submit file name")
}

/** The directory of the batch output and error files, without trailing slashes. */
export function outputDir(job: JobSpec): string {
  const dir = directivePath(job.site.outputDir ?? job.paths.submitDir, "output directory")
  return dir.replace(/\/+$/, "") || "/"
}

/** The site's template, or else the adapter's built-in `template` (its path `templateName`,
 *  for errors), filled with `values`; ends with a newline. */
export function renderJobFile(
  job: JobSpec,
  values: Record<string, string>,
  template: string,
  templateName: string,
): string {
  const text =
    job.site.template !== undefined
      ? renderTemplate(job.site.template, values, job.site.templateFile ?? "submit_template")
      : renderTemplate(template, values, templateName)
  return text.endsWith("\n") ? text : `${text}\n`
}

/** What a setting holds, or undefined when it is unset, empty or False (pyglidein tested
 *  such keys for truth). */
export function settingText(value: string | false | undefined): string | undefined {
  return value === undefined || value === false || value === "" ? undefined : value
}

/** The keys a partition may name its batch queue with. */
type QueueKey = "partition" | "queue"

/** The first of `keys` the partition sets (Slurm: `partition`, as pyglidein's job script had
 *  it, then `queue`), and which one it was. */
export function queueSetting(
  partition: PartitionSettings,
  keys: readonly QueueKey[],
): { key: QueueKey; value: string } | undefined {
  for (const key of keys) {
    const value = partition[key]
    if (value !== undefined) return { key, value }
  }
  return undefined
}

/** The settings every batch-script adapter reads. */
export interface BatchSettings extends AdapterSettings {
  /** `account`: the allocation charged. */
  account?: string
}

/** The batch-script settings: the queue from the first of `queueKeys` the partition sets,
 *  `account` and [SubmitFile] `executable`; queue and account are one directive word each. */
export function readBatchSettings(
  source: SettingsSource,
  queueKeys: readonly QueueKey[],
): BatchSettings {
  const settings: BatchSettings = {}
  const queue = queueSetting(source.partition, queueKeys)
  if (queue !== undefined)
    settings.queue = directiveWord(queue.value, { section: source.section, key: queue.key })
  const account = settingText(source.partition.account)
  if (account !== undefined)
    settings.account = directiveWord(account, { section: source.section, key: "account" })
  const executable = settingText(source.submitFile.executable)
  if (executable !== undefined) settings.executable = executable
  return settings
}

/** Settings of the adapters that write a GPU option. */
export interface GpuSettings {
  /** [SubmitFile] `gpu_submit`, one line: unset for the adapter's default, false for none. */
  gpuSubmit?: string | false
}

/** `settings` with [SubmitFile] `gpu_submit` read into them. */
export function withGpuSubmit<S extends AdapterSettings>(
  settings: S,
  source: SettingsSource,
): S & GpuSettings {
  const value = source.submitFile.gpu_submit
  if (value === undefined) return settings
  // An empty value asks for no option, as False does.
  const gpuSubmit = value === false || value === "" ? false : oneLine(value.trim(), "gpu_submit")
  return { ...settings, gpuSubmit }
}

/**
 * The GPU option of `gpus` GPUs from `gpu_submit` (pyglidein's knob, e.g. `--gres=gpu:%d` or
 * `--gpus-per-node=%d`) with `%d` replaced by the count; `fallback` when unset, none when
 * False. A value that already starts with the directive prefix is kept as a whole line.
 */
export function gpuDirective(
  gpus: number,
  gpuSubmit: string | false | undefined,
  prefix: string,
  fallback: string,
): string | undefined {
  if (gpus <= 0 || gpuSubmit === false) return undefined
  const option = (gpuSubmit ?? fallback).replaceAll("%d", String(gpus))
  return option.startsWith(prefix) ? option : `${prefix} ${option}`
}

/** A [SubmitFile] value that goes into one line of a job script or submit file. */
export function oneLine(value: string, key: string): string {
  if (value.includes("\n"))
    throw new ConfigError({ section: "SubmitFile", key }, "must be one line, got several")
  return value
}

/**
 * Environment assignments for `env -i`, in the contract's order, `roundEnv` next, then
 * GLIDEIN_TARBALL. With `roundEnvFromJob`, `roundEnv` is taken from the job's own environment
 * (where the HTCondor adapter puts it) instead of being written out.
 */
export function envAssignments(
  job: JobSpec,
  tarballWord: string,
  roundEnvFromJob = false,
): string[] {
  const words: string[] = []
  const checkName = (name: string) => {
    if (!isEnvName(name))
      throw new GlideinError(`${JSON.stringify(name)} is not an environment variable name`)
  }
  for (const [name, value] of Object.entries(job.env)) {
    if (name === "GLIDEIN_TARBALL" || (job.roundEnv && name in job.roundEnv)) continue
    checkName(name)
    words.push(`${name}=${quoteExpanding(value)}`)
  }
  for (const [name, value] of Object.entries(job.roundEnv ?? {})) {
    checkName(name)
    if (!ROUND_VALUE.test(value))
      throw new GlideinError(`${name} holds characters a job environment cannot carry`)
    words.push(
      roundEnvFromJob ? `\${${name}:+"${name}=$${name}"}` : `${name}=${quoteLiteral(value)}`,
    )
  }
  words.push(`GLIDEIN_TARBALL=${tarballWord}`)
  return words
}

/** What a `roundEnv` value may hold: no quotes, spaces or shell syntax, in any batch system. */
const ROUND_VALUE = /^[A-Za-z0-9._~:/%+=-]*$/

/** The command that starts the glidein from a clean environment in the current directory. */
export function startCommand(job: JobSpec, assignments: string[], script: string): string {
  const program = job.settings.executable ?? `/bin/sh ./${script}`
  return `/usr/bin/env -i ${PASSED_THROUGH} ${assignments.join(" ")} ${program}`
}

/**
 * The GPUs the batch system gave this job (CUDA_VISIBLE_DEVICES from Slurm, LSF and Grid
 * Engine setups; ROCR/HIP_VISIBLE_DEVICES for AMD; PBS's PBS_GPUFILE; Grid Engine's
 * SGE_HGR_gpu) pass through the clean environment, so the glidein advertises the GPUs it was
 * given rather than the first ones discovery finds, which on a node without device cgroups may
 * belong to another job; so does the batch job's id, which names the glidein. Absent when
 * unset; a [CustomEnv] value wins.
 */
export const PASSED_THROUGH_VARIABLES = [
  "CUDA_VISIBLE_DEVICES",
  "ROCR_VISIBLE_DEVICES",
  "HIP_VISIBLE_DEVICES",
  "PBS_GPUFILE",
  "SGE_HGR_gpu",
  "SLURM_JOB_ID",
  "PBS_JOBID",
  "LSB_JOBID",
  "JOB_ID",
] as const

const PASSED_THROUGH = PASSED_THROUGH_VARIABLES.map(
  (name) => `\${${name}:+"${name}=$${name}"}`,
).join(" ")

/**
 * Shell lines that make the glidein's own working directory in `local_dir` (or `$TMPDIR`),
 * enter it, and remove it when the job ends, however it ends; when the job fails or
 * `GLIDEIN_KEEP` is set, HTCondor's logs are saved as a tar.gz in `logDir`, where the batch
 * output goes (templates/enter-glidein-dir.sh says why). `LOCAL_DIR` keeps pyglidein's name
 * for custom lines.
 */
export function enterGlideinDir(job: JobSpec, logDir: string): string {
  const base =
    job.site.localDir === undefined || job.site.localDir.trim() === ""
      ? `"\${TMPDIR:-/tmp}"`
      : quoteExpanding(job.site.localDir.trim().replace(/^~(?=\/|$)/, "$HOME"))
  const keep = job.env.GLIDEIN_KEEP
  const values = {
    GLIDEIN_BASE: base,
    GLIDEIN_KEEP: keep === undefined ? '""' : quoteExpanding(keep),
    LOG_DIR: quoteLiteral(logDir),
  }
  return renderTemplate(enterDirTemplate, values, "templates/enter-glidein-dir.sh").trimEnd()
}

/** Placeholders every template (batch or HTCondor) gets. */
export function commonValues(job: JobSpec, shape: Shape, env: string[]): Record<string, string> {
  const r = job.resources
  return {
    JOB_NAME,
    PARTITION: job.partition,
    QUEUE: job.settings.queue ?? "",
    CPUS: String(r.cpus),
    GPUS: String(r.gpus),
    MEMORY_MB: String(r.memoryMb),
    MEMORY_PER_CPU_MB: String(Math.floor(r.memoryMb / r.cpus)),
    DISK_KB: String(r.diskKb),
    DISK_MB: String(Math.floor(r.diskKb / 1024)),
    WALLTIME_S: String(r.walltimeS),
    WALLTIME_HMS: walltimeHms(r.walltimeS),
    WALLTIME_HM: walltimeHm(r.walltimeS),
    COUNT: String(shape.tasks),
    ARRAY_RANGE: shape.array ? `1-${shape.tasks}` : "",
    CUSTOM_HEADER: job.site.customHeader ?? "",
    CUSTOM_MIDDLE: job.site.customMiddle ?? "",
    CUSTOM_END: job.site.customEnd ?? "",
    SUBMIT_DIR: job.paths.submitDir,
    START_SCRIPT: job.paths.startScript,
    TARBALL: job.paths.tarball,
    ENV_VARIABLES: env.join("\n"),
  }
}

/** What a batch-script adapter adds to the shared rendering. */
export interface BatchDialect<S extends AdapterSettings> {
  /** The built-in template and its path, named in errors. */
  template: string
  templateName: string
  defaultFilename: string
  /** The scheduler's directive lines, resources first. */
  directives(job: JobSpec<S>, shape: Shape, output: { output: string; error: string }): string[]
  /** Output and error file paths (with the scheduler's job-id patterns). */
  outputFiles(dir: string, shape: Shape): { output: string; error: string }
  /** Submit argv for `file`, and whether the file goes on stdin instead. */
  submit(file: string): { argv: string[]; stdin: boolean }
  /** What the directives ask for, per glidein. */
  request(job: JobSpec<S>): GlideinResources
}

/** Renders one batch-script submission with `dialect`, or with the site's template. */
export function renderBatchJob<S extends AdapterSettings>(
  job: JobSpec<S>,
  dialect: BatchDialect<S>,
): RenderedJob {
  const shape = submissionShape(job)
  const filename = submitFileName(job, dialect.defaultFilename)
  const outDir = outputDir(job)
  const files = dialect.outputFiles(outDir, shape)
  const env = envAssignments(job, quoteLiteral(job.paths.tarball))
  const values = {
    ...commonValues(job, shape, env),
    DIRECTIVES: dialect.directives(job, shape, files).join("\n"),
    OUTPUT: files.output,
    ERROR: files.error,
    OUTPUT_DIR: outDir,
    ENTER_GLIDEIN_DIR: enterGlideinDir(job, outDir),
    COPY_START_SCRIPT: `cp ${quoteLiteral(job.paths.startScript)} ./glidein_start.sh || exit 1`,
    START_COMMAND: startCommand(job, env, "glidein_start.sh"),
  }
  const script = renderJobFile(job, values, dialect.template, dialect.templateName)
  const { argv, stdin } = dialect.submit(filename)
  return {
    files: { [filename]: script },
    submitFile: filename,
    argv,
    ...(stdin ? { stdinFile: filename } : {}),
    request: dialect.request(job),
    jobs: job.count,
    runs: shape.runs,
  }
}
