/**
 * @module
 * The contract between the submit client and the batch-scheduler adapters. An adapter reads
 * its own keys of a partition's config into typed settings, sizes glideins by its system's
 * rules, chooses the queue, turns a `JobSpec` (plan + settings) into files and a command, and
 * reads its system's command output, all with no I/O of its own. Every adapter passes the
 * same conformance suite.
 */
import type { PartitionSettings, SubmitFileSettings } from "../config/schema.ts"
import type { SizingRules } from "./sizing.ts"

/** The schedulers we submit to; config values are matched case-insensitively. */
export type SchedulerName = "htcondor" | "slurm" | "pbs" | "uge" | "sge" | "lsf"

/** Resources of one glidein as planned: what the glidein is told it has. */
export interface GlideinResources {
  cpus: number
  /** MB */
  memoryMb: number
  /** KB (pyglidein's unit on the wire and in DISK) */
  diskKb: number
  gpus: number
  /** Batch wall-time limit in seconds; the glidein's WALLTIME is 300 s less. */
  walltimeS: number
}

/** What an adapter reads its settings from, as the config loader typed them. */
export interface SettingsSource {
  /** The partition's config section, named in errors. */
  section: string
  /** The partition's keys, with those it inherits from [Cluster]. */
  partition: PartitionSettings
  submitFile: SubmitFileSettings
}

/** The settings every adapter reads; each adapter's own type adds its keys. */
export interface AdapterSettings {
  /** The batch queue (Slurm: partition) the partition submits to, checked as a directive word
   *  where the adapter writes one. */
  queue?: string
  /** [SubmitFile] `executable`: what the job starts instead of glidein_start.sh. */
  executable?: string
}

/** Everything an adapter needs to render one submission of `count` identical glideins. */
export interface JobSpec<S extends AdapterSettings = AdapterSettings> {
  /** The config section of the partition (for messages; not a batch directive). */
  partition: string
  /** Number of glideins in this submission (one array when `groupJobs` and count > 1;
   *  otherwise the same files are submitted `count` times, see `RenderedJob.runs`). */
  count: number
  /** The planned glidein: margins, memory-per-core scaling and whole nodes already applied. */
  resources: GlideinResources
  /** The glidein environment contract (CPUS, MEMORY, DISK, GPUS, WALLTIME, SITE, ResourceName,
   *  CLUSTER, and every [CustomEnv] key), already validated: names are identifiers, values are
   *  numbers or come from the site's own config. In the job, `$NAME` and `${NAME}` inside a
   *  value expand from the batch job's environment (as pyglidein's did, e.g.
   *  `TMPDIR=/scratch/${LSB_JOBID}`); every other character is literal. The adapter adds
   *  GLIDEIN_TARBALL itself (from `paths.tarball`, or the transferred copy for HTCondor). */
  env: Record<string, string>
  /**
   * More of the contract, signed anew for every round (the log upload form, LOG_UPLOAD_*):
   * literal values of letters, digits and `._~:/%+=-`. A batch script, copied when it is
   * submitted, carries them like `env`. HTCondor reads the wrapper script when the job starts,
   * so they go into the job's `environment` there, and the wrapper, which must not change
   * from round to round, passes them on.
   */
  roundEnv?: Record<string, string>
  /** The adapter's own settings of this partition, from its `readSettings`. */
  settings: S
  /** Site settings every adapter uses, by pyglidein key name where one exists. */
  site: {
    groupJobs: boolean
    /** `local_dir`; may use the batch shell's `$VARS` and a leading `~/`. Unset: the job's
     *  `$TMPDIR` (or /tmp). */
    localDir?: string
    /** Existing directory for the batch output/error files, one pair per glidein. Unset: the
     *  submit directory. Never /dev/null (pyglidein's default): glidein_start.sh leaves its
     *  logs there when a glidein fails. */
    outputDir?: string
    customHeader?: string
    customMiddle?: string
    customEnd?: string
    /** Site-supplied template text (from `submit_template`), replacing the built-in one. */
    template?: string
    /** The file `template` was read from, named in template errors. */
    templateFile?: string
    /** `filename`: the submit file's name in submitDir (default per scheduler). */
    filename?: string
  }
  /** Absolute paths the job script refers to. */
  paths: {
    /** Directory where the rendered files are written and the submit command runs. */
    submitDir: string
    /** glidein_start.sh as written into submitDir. */
    startScript: string
    /** glidein.tar.gz on the cluster's shared filesystem. */
    tarball: string
  }
}

/** What an adapter produces for one JobSpec. Pure data; the client writes and runs it. */
export interface RenderedJob {
  /** File name (relative to submitDir) → content. */
  files: Record<string, string>
  /** The file passed to the submit command. */
  submitFile: string
  /** Default submit argv (used when the config has no `submit_command`), run in submitDir. */
  argv: string[]
  /** Text to feed on stdin (LSF's `bsub < FILE`), if any. */
  stdinFile?: string
  /** What the batch system is asked for per glidein (after the scheduler's margins). */
  request: GlideinResources
  /** Glideins this submission creates in total (= JobSpec.count). */
  jobs: number
  /** How many times the client runs the submit command with these files: 1 for an array
   *  (or a single glidein), `count` when the site does not group jobs (pyglidein's way). */
  runs: number
}

/** What the default counts tell apart: glideins running, waiting to run, and stuck (held,
 *  suspended or in an error state), which count toward `max_total_jobs` but never as idle. */
export type GlideinState = "running" | "idle" | "held"

/** Whose glideins a listing covers: a user's, or the jobs the journal names. */
export interface GlideinOwner {
  /** Login name; PBS lists every user's jobs without one. */
  user?: string
  /**
   * Job numbers (the journal's own) to list whoever the batch system files them under; when
   * set, `user` is not used. The listing may hold more jobs than these (qselect and Grid
   * Engine's qstat cannot name jobs, so they list every user's glideins): the client keeps
   * only the jobs named here.
   */
  jobs?: string[]
}

/** Which glideins a default count covers. */
export interface GlideinFilter extends GlideinOwner {
  /** The partition's batch queue (Slurm: partition); unset, glideins in every queue count. */
  queue?: string
  /** The config section, for HTCondor, which has no queues and tags each glidein with it. */
  partition?: string
}

/**
 * One batch-scheduler adapter, with its settings type `S`. Its members are methods so that
 * every adapter is a `Scheduler` whatever its settings: the client pairs a `JobSpec`'s
 * settings with the adapter that read them.
 */
export interface Scheduler<S extends AdapterSettings = AdapterSettings> {
  name: SchedulerName
  /** This scheduler's keys of a partition, read into its settings (defaults applied); a value
   *  it cannot write into a job is a ConfigError naming the section and key. */
  readSettings(source: SettingsSource): S
  /** The batch queue a partition submits to and is counted in, as configured (unchecked). */
  queue(partition: PartitionSettings): string | undefined
  /** How a glidein is sized for a demand shape on this scheduler. */
  sizing: SizingRules
  render(job: JobSpec<S>): RenderedJob
  /** Default argv that lists this user's glideins (job name `glidein`) in `state`. */
  countArgv(state: GlideinState, filter: GlideinFilter): string[]
  /** The glideins in `state` in the output of `countArgv`, one id per glidein (pending array
   *  tasks one by one, e.g. `123_4`, `123.4`, `123[4]`); headers and other jobs left out. */
  parseGlideins(stdout: string, state: GlideinState, filter: GlideinFilter): string[]
  /** Default argv that lists every live glidein of the owner, in any queue and state. */
  liveArgv(owner: GlideinOwner): string[]
  /** The job numbers (the leading integer of a job id, array tasks folded into their job) of
   *  the glideins in `liveArgv`'s output that are not already on their way out. */
  parseLive(stdout: string): string[]
  /** Output of the listing commands that means "no such jobs" whatever their exit status
   *  (LSF's bjobs says so on stderr and may exit 1; squeue --jobs fails on a job it has
   *  forgotten). The jobs it did list are still on stdout. */
  noJobs?: RegExp
  /** Job ids from the submit command's stdout; empty when none could be found. */
  parseJobIds(stdout: string): string[]
  /** Argv that removes the given jobs. */
  cancelArgv(jobIds: string[]): string[]
}
