/**
 * The zod schemas of every section and key a site config may hold: the keys pyglidein
 * documents or reads (`configuration_index.md`, `secrets_index.md`, its client code) plus
 * the keys glidein adds. Typed views keep pyglidein's key names so the mapping is obvious.
 */
import { z } from "zod"
import type { SchedulerName } from "../schedulers/types.ts"

const TEXT_SCHEMAS = new WeakSet<z.ZodType>()

/** Free text. A bare number or boolean (`site = 2021`) is kept exactly as written. */
function text() {
  const schema = z.string({ error: "expected text" })
  TEXT_SCHEMAS.add(schema)
  return schema
}

/** True when `schema` (under optional/default wrappers) is free text, for the loader. */
export function isTextSchema(schema: z.ZodType): boolean {
  let inner: z.ZodType = schema
  for (;;) {
    if (TEXT_SCHEMAS.has(inner)) return true
    const def = inner.def as { innerType?: z.ZodType }
    if (!def.innerType) return false
    inner = def.innerType
  }
}

/** Python booleans; 0 and 1 too, since pyglidein only tested truthiness. */
const flag = () =>
  z
    .union([z.boolean(), z.literal(0), z.literal(1)], { error: "expected True or False" })
    .transform((v) => v === true || v === 1)

const whole = (min = 0) =>
  z
    .int({ error: "expected a whole number" })
    .min(min, {
      error: min === 0 ? "expected a whole number ≥ 0" : `expected a whole number ≥ ${min}`,
    })

const amount = (what: string) =>
  z
    .number({ error: `expected a number (${what})` })
    .min(0, { error: `expected a number ≥ 0 (${what})` })

const positive = (what: string) =>
  z
    .number({ error: `expected a number (${what})` })
    .gt(0, { error: `expected a number > 0 (${what})` })

/** The schedulers glidein submits to (matched case-insensitively, as in real configs). */
export const SCHEDULER_NAMES = ["htcondor", "slurm", "pbs", "uge", "sge", "lsf"] as const

const scheduler = z
  .string({ error: `expected one of ${SCHEDULER_NAMES.join(", ")}` })
  .transform((s) => s.toLowerCase())
  .pipe(z.enum(SCHEDULER_NAMES, { error: `expected one of ${SCHEDULER_NAMES.join(", ")}` }))

/** Demand columns `prioritize_jobs` may name; `-` in front sorts ascending. pyglidein's own
 *  default says "gpu", which matches no column, so the singular forms are accepted too. */
export const PRIORITY_COLUMNS = ["cpus", "gpus", "memory", "disk", "count", "cpu", "gpu"] as const

const priority = z
  .array(z.string(), { error: 'expected a list like ["memory", "disk"]' })
  .refine(
    (cols) =>
      cols.every((c) => (PRIORITY_COLUMNS as readonly string[]).includes(c.replace(/^-/, ""))),
    {
      error: `expected a list of ${PRIORITY_COLUMNS.slice(0, 4)
        .map((c) => `"${c}"`)
        .join(", ")}`,
    },
  )

/** [Mode] */
export const modeSchema = z.object({
  /** Verbose logging; batch output kept in ./out instead of /dev/null. */
  debug: flag().default(false),
  /** Plan and render, but run no submit command. */
  dryrun: flag().default(false),
})
export type ModeSettings = z.infer<typeof modeSchema>

/** [Glidein] */
export const glideinSchema = z
  .object({
    /** JSON-RPC URL of `glidein serve` (or a pyglidein server). No default: see below. */
    address: text()
      .refine((a) => /^https?:\/\/[^\s/]+/.test(a), {
        error: "expected an http:// or https:// URL",
      })
      .optional(),
    /** Read demand from ~/glidein_state (pushed over ssh) instead of asking the server. */
    ssh_state: flag().default(false),
    /** Seconds between rounds; below 1 means run once (cron). */
    delay: z.number({ error: "expected a number of seconds" }).optional(),
    /** Site name given to glideins (SITE, GLIDEIN_Site). */
    site: text().optional(),
    /** Client id reported to the server; default user@host. */
    uuid: text().optional(),
    /** Directory holding the tarball. */
    loc: text().optional(),
    /** Glidein tarball, relative to `loc` when that is set. */
    tarball: text().optional(),
    /** Site-provided glidein start script instead of the built-in one. */
    glidein_script: text().optional(),
    /** ResourceName of the glideins. */
    resourcename: text().optional(),
    /** Central manager the glideins join (CLUSTER). */
    cluster: text().optional(),
  })
  .superRefine((g, ctx) => {
    if (g.address === undefined && !g.ssh_state)
      ctx.addIssue({
        code: "custom",
        path: ["address"],
        message:
          "missing: set address = http://HOST:PORT/jsonrpc (your glidein serve) or ssh_state = True",
      })
  })
export type GlideinSettings = z.infer<typeof glideinSchema>

/** Keys of [Cluster] and of every partition section (which inherits all [Cluster] keys). */
export const partitionSchema = z
  .object({
    /** Batch system: htcondor, slurm, pbs, uge, sge or lsf (any case). */
    scheduler,
    /** Submit command run through /bin/sh with the submit file appended; default per scheduler. */
    submit_command: text().optional(),
    /** Shell command printing the number of running glideins; default per scheduler. */
    running_cmd: text().optional(),
    /** Shell command printing the number of idle glideins; default per scheduler. */
    idle_cmd: text().optional(),
    /** Shell command listing queue times for idle-time metrics (pyglidein `mma_cmd`). */
    mma_cmd: text().optional(),
    /** Most glideins queued or running at once. */
    max_total_jobs: whole().default(1000),
    /** Most glideins idle at once. */
    max_idle_jobs: whole().default(1000),
    /** Most glideins submitted per round. */
    limit_per_submit: whole().default(50),
    /** Batch wall-time limit in hours. */
    walltime_hrs: positive("hours").default(20),
    /** Demand columns sorted first, biggest first (`-` for smallest first). */
    prioritize_jobs: priority.default(["gpu", "memory"]),
    /** User whose jobs the default counting commands look at. */
    user: text().optional(),
    /** OS of the worker nodes (e.g. RHEL7); demand for another OS is skipped. */
    os: text().optional(),
    /** Whether worker nodes have CVMFS. */
    cvmfs: flag().optional(),
    /** Take only demand without GPUs. */
    cpu_only: flag().default(false),
    /** Take only demand with GPUs. */
    gpu_only: flag().default(false),
    /** Request whole nodes of the size below instead of the demand's size. */
    whole_node: flag().default(false),
    whole_node_cpus: whole(1).optional(),
    whole_node_gpus: whole().optional(),
    /** MB */
    whole_node_memory: positive("MB").optional(),
    /** MB */
    whole_node_disk: amount("MB").optional(),
    max_cpus_per_job: whole().default(12),
    max_gpus_per_job: whole().default(8),
    /** MB */
    max_memory_per_job: amount("MB").default(24000),
    /** MB */
    max_disk_per_job: amount("MB").default(100000),
    min_cpus_per_job: whole().optional(),
    min_gpus_per_job: whole().optional(),
    /** MB */
    min_memory_per_job: amount("MB").optional(),
    /** MB */
    min_disk_per_job: amount("MB").optional(),
    /** MB per core; more memory is requested as more cores. Unset: pyglidein's 2000, or
     *  unlimited for whole nodes. */
    mem_per_core: positive("MB").optional(),
    /** Cores per node, for schedulers that place cores on nodes (LSF `span[ptile]`). */
    cpus_per_node: whole(1).optional(),
    /** Submit `count` identical glideins as one array job. */
    group_jobs: flag().default(false),
    /** Slurm partition (`--partition`). */
    partition: text().optional(),
    /** Queue (`-q`) for PBS, SGE/UGE and LSF. */
    queue: text().optional(),
    /** Account/allocation charged (`-A`, `--account`, `-P`). */
    account: text().optional(),
    /** SGE/UGE parallel environment for multi-core glideins. */
    pe: text().optional(),
    /** PBS node property appended to `nodes=1:ppn=N`. */
    node_property: text().optional(),
    /** PBS memory request forms: only pmem, pmem+vmem, only vmem, only mem. */
    pmem_only: flag().default(false),
    pvmem: flag().default(false),
    vmem_only: flag().default(false),
    mem_only: flag().default(false),
    /** PBS: add `:gpus=N` to the nodes line. */
    set_gpu_req: flag().default(true),
    /** Remove leftover job directories under `dir_cleanup` after a round. */
    cleanup: flag().default(false),
    dir_cleanup: text().optional(),
    /** Section names of the partitions, each inheriting every [Cluster] key. */
    partitions: z.array(z.string()).optional(),
  })
  .superRefine((p, ctx) => {
    if (p.cpu_only && p.gpu_only)
      ctx.addIssue({
        code: "custom",
        path: ["gpu_only"],
        message: "cpu_only and gpu_only are both True, so no demand can ever match",
      })
    if (p.whole_node) {
      const missing = (["whole_node_cpus", "whole_node_memory", "whole_node_disk"] as const).filter(
        (k) => p[k] === undefined,
      )
      if (missing.length > 0)
        ctx.addIssue({
          code: "custom",
          path: ["whole_node"],
          message: `whole_node = True also needs ${missing.join(", ")}`,
        })
    }
    for (const r of ["cpus", "gpus", "memory", "disk"] as const) {
      const min = p[`min_${r}_per_job`]
      const max = p[`max_${r}_per_job`]
      if (min !== undefined && min > max)
        ctx.addIssue({
          code: "custom",
          path: [`min_${r}_per_job`],
          message: `is ${min}, above max_${r}_per_job = ${max}, so no demand can ever match`,
        })
    }
    if (p.cleanup && p.dir_cleanup === undefined)
      ctx.addIssue({
        code: "custom",
        path: ["cleanup"],
        message: "cleanup = True also needs dir_cleanup",
      })
  })
export type PartitionSettings = z.infer<typeof partitionSchema> & { scheduler: SchedulerName }

/** [SubmitFile] */
export const submitFileSchema = z.object({
  /** Name of the submit file written in the working directory. */
  filename: text().optional(),
  /** HTCondor: name of the environment wrapper script. */
  env_wrapper_name: text().optional(),
  /** Program the job runs after setting up the environment; default glidein_start.sh. */
  executable: text().optional(),
  /** Scratch directory of the job (may use the batch system's $VARS). */
  local_dir: text().optional(),
  /** HTCondor: user log of the glidein jobs. */
  log: text().optional(),
  /** Extra lines after the scheduler's own header lines. */
  custom_header: text().optional(),
  /** Extra lines before the glidein is started. */
  custom_middle: text().optional(),
  /** Extra lines at the end of the job. */
  custom_end: text().optional(),
  /** HTCondor: extra lines before `queue`. */
  custom_footer: text().optional(),
  /** HTCondor: extra requirements (documented by pyglidein, never used by it). */
  requirements: text().optional(),
  /** Slurm: GPU request line, `%d` replaced by the GPU count (default `--gres=gpu:%d`). */
  gpu_submit: text().optional(),
  /** LSF: reference host of the wall-time limit (`-W H:00/HOST`). */
  ref_host: text().optional(),
  /** LSF: factor from MB to LSF's memory unit. */
  mem_scale: positive("factor").optional(),
  /** Factor on the memory safety margin. */
  mem_safety_scale: positive("factor").optional(),
  /** Start the glidein through the CVMFS job wrapper. */
  cvmfs_job_wrapper: flag().default(false),
  /** Site template file replacing the built-in job template (glidein only). */
  submit_template: text().optional(),
})
export type SubmitFileSettings = z.infer<typeof submitFileSchema>

/** [StartdLogging]: shipping startd logs to S3 (keys in the secrets file). */
export const startdLoggingSchema = z
  .object({
    send_startd_logs: flag().default(false),
    /** S3 endpoint host. */
    url: text().optional(),
    /** S3 bucket. */
    bucket: text().optional(),
  })
  .superRefine((s, ctx) => {
    if (!s.send_startd_logs) return
    const missing = (["url", "bucket"] as const).filter((k) => s[k] === undefined)
    if (missing.length > 0)
      ctx.addIssue({
        code: "custom",
        path: ["send_startd_logs"],
        message: `send_startd_logs = True also needs ${missing.join(" and ")}`,
      })
  })
export type StartdLoggingSettings = z.infer<typeof startdLoggingSchema>

/** [StartdChecks] */
export const startdChecksSchema = z.object({
  /** Run the startd health checks (cvmfs, GPU) inside the glidein. */
  enable_startd_checks: flag().default(true),
})
export type StartdChecksSettings = z.infer<typeof startdChecksSchema>

/** [CustomEnv]: every key becomes an environment variable of the glidein. */
export const customEnvSchema = z.record(
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "expected an environment variable name" }),
  text(),
)

/** The secrets file (`--secrets`): [StartdLogging] S3 keys. */
export const secretsSchema = z.object({
  StartdLogging: z
    .object({ access_key: text().optional(), secret_key: text().optional() })
    .default({}),
})
export type Secrets = z.infer<typeof secretsSchema>

/** Every known section and its schema; partition sections use `partitionSchema`. */
export const SECTION_SCHEMAS = {
  Mode: modeSchema,
  Glidein: glideinSchema,
  Cluster: partitionSchema,
  SubmitFile: submitFileSchema,
  CustomEnv: customEnvSchema,
  StartdLogging: startdLoggingSchema,
  StartdChecks: startdChecksSchema,
} as const
