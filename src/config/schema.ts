/**
 * The zod schemas of every section and key a site config may hold: the keys pyglidein
 * documents or reads (`configuration_index.md`, `secrets_index.md`, its client code) plus
 * the keys glidein adds. Typed views keep pyglidein's key names so the mapping is obvious.
 */
import { z } from "zod/mini"
import type { SchedulerName } from "../schedulers/types.ts"

// `submit` runs from cron within a 30 ms budget. zod/mini, not classic zod: the same checks
// and messages, and classic zod is the larger module to load. Measured on the compiled binary
// (one interleaved run, medians): a submit run whose zod users are all on zod/mini is 3.6 ms
// faster than one on classic zod; while any module of the run still loads classic zod, this
// file's choice alone is worth only ~0.2 ms. Building these schemas costs ~3.5 ms either way,
// mostly zod's code running for the first time; one instance per distinct rule, shared by
// every key that follows it.

/** Free text. A bare number or boolean (`site = 2021`) is kept exactly as written. */
const text = z.string({ error: "expected text" })
const optionalText = z.optional(text)

/** True when `schema` (under optional/default wrappers, or as one option of a union) takes
 *  text, for the loader. */
export function isTextSchema(schema: z.ZodMiniType): boolean {
  let def = schema.def as { type: string; innerType?: z.ZodMiniType; options?: z.ZodMiniType[] }
  while (def.innerType) def = def.innerType.def as typeof def
  if (def.type === "union") return def.options!.some(isTextSchema)
  return def.type === "string"
}

/** Text, or `False`/`None` for none, read as `none`: `undefined` where leaving the key out
 *  asks for nothing too, `false` where it means a default. The loader would otherwise keep
 *  False as the text "False", where pyglidein tested such keys for truth
 *  (`node_property = cluster_config.get("node_property", False); if node_property:`). */
function optionalTextOr<None extends false | undefined>(none: None) {
  return z.optional(
    z.union([
      text,
      z.pipe(
        z.nullable(z.literal(false)),
        z.transform((): None => none),
      ),
    ]),
  )
}
const optionalTextOrFalse = optionalTextOr(false)
const optionalTextOrUnset = optionalTextOr(undefined)

/** Python booleans; 0 and 1 too, since pyglidein only tested truthiness. */
const flag = z.pipe(
  z.union([z.boolean(), z.literal(0), z.literal(1)], { error: "expected True or False" }),
  z.transform((v: boolean | 0 | 1) => v === true || v === 1),
)
const flagFalse = z._default(flag, false)
const flagTrue = z._default(flag, true)

const whole = z
  .int({ error: "expected a whole number" })
  .check(z.gte(0, { error: "expected a whole number ≥ 0" }))
const optionalWhole = z.optional(whole)
const optionalCount = z.optional(
  z
    .int({ error: "expected a whole number" })
    .check(z.gte(1, { error: "expected a whole number ≥ 1" })),
)

const mb = z
  .number({ error: "expected a number (MB)" })
  .check(z.gte(0, { error: "expected a number ≥ 0 (MB)" }))
const optionalMb = z.optional(mb)
const optionalPositiveMb = z.optional(
  z
    .number({ error: "expected a number (MB)" })
    .check(z.gt(0, { error: "expected a number > 0 (MB)" })),
)
const optionalFactor = z.optional(
  z
    .number({ error: "expected a number (a factor)" })
    .check(z.gt(0, { error: "expected a number > 0 (a factor)" })),
)

/** The schedulers glidein submits to (matched case-insensitively, as in real configs). */
const SCHEDULER_NAMES = [
  "htcondor",
  "slurm",
  "pbs",
  "uge",
  "sge",
  "lsf",
] as const satisfies readonly SchedulerName[]

const scheduler = z.pipe(
  z.pipe(
    z.string({ error: `expected one of ${SCHEDULER_NAMES.join(", ")}` }),
    z.transform((s: string) => s.toLowerCase()),
  ),
  z.enum(SCHEDULER_NAMES, { error: `expected one of ${SCHEDULER_NAMES.join(", ")}` }),
)

/** Demand columns `prioritize_jobs` may name; `-` in front sorts ascending. pyglidein's own
 *  default says "gpu", which matches no column, so the singular forms are accepted too. */
const PRIORITY_COLUMNS = ["cpus", "gpus", "memory", "disk", "count", "cpu", "gpu"] as const

const priority = z.array(z.string(), { error: 'expected a list like ["memory", "disk"]' }).check(
  z.refine(
    (cols: string[]) =>
      cols.every((c) => (PRIORITY_COLUMNS as readonly string[]).includes(c.replace(/^-/, ""))),
    {
      error: `expected a list of ${PRIORITY_COLUMNS.slice(0, 4)
        .map((c) => `"${c}"`)
        .join(", ")}`,
    },
  ),
)

/** [Mode] */
export const modeSchema = z.object({
  /** pyglidein: batch output kept in ./out instead of /dev/null. Unused (output is always
   *  kept); the loader warns when it is True. */
  debug: flagFalse,
  /** Plan and render, but run no submit command. */
  dryrun: flagFalse,
})
export type ModeSettings = z.infer<typeof modeSchema>

/** [Glidein] */
export const glideinSchema = z.object({
  /** JSON-RPC URL of `glidein serve` (or a pyglidein server). No default: see below. */
  address: z.optional(
    text.check(
      z.refine((a: string) => /^https?:\/\/[^\s/]+/.test(a), {
        error: "expected an http:// or https:// URL",
      }),
    ),
  ),
  /** Read demand from ~/glidein_state (pushed over ssh) instead of asking the server. */
  ssh_state: flagFalse,
  /** Seconds between rounds; below 1 means run once (cron). */
  delay: z.optional(z.number({ error: "expected a number of seconds" })),
  /** Site name given to glideins (SITE, GLIDEIN_Site). */
  site: optionalText,
  /** Client id reported to the server; default user@host. */
  uuid: optionalText,
  /** Directory holding the tarball. */
  loc: optionalText,
  /** Glidein tarball, relative to `loc` when that is set. */
  tarball: optionalText,
  /** Site-provided glidein start script instead of the built-in one. */
  glidein_script: optionalText,
  /** ResourceName of the glideins. */
  resourcename: optionalText,
  /** Central manager the glideins join (CLUSTER). */
  cluster: optionalText,
})
export type GlideinSettings = z.infer<typeof glideinSchema>

/** [Glidein] of a config that must say where demand comes from: there is no default
 *  server (pyglidein's pointed every site at IceCube's). */
export const glideinWithDemandSchema = glideinSchema.check(
  z.superRefine((g, ctx) => {
    if (g.address === undefined && !g.ssh_state)
      ctx.addIssue({
        code: "custom",
        path: ["address"],
        message:
          "missing: set address = http://HOST:PORT/jsonrpc (your glidein serve) or ssh_state = True",
      })
  }),
)

/** Keys of [Cluster] and of every partition section (which inherits all [Cluster] keys). */
export const partitionSchema = z
  .object({
    /** Batch system: htcondor, slurm, pbs, uge, sge or lsf (any case). */
    scheduler,
    /** Submit command run through /bin/sh with the submit file appended; default per scheduler. */
    submit_command: optionalText,
    /** Shell command printing the number of running glideins; default per scheduler. */
    running_cmd: optionalText,
    /** Shell command printing the number of idle glideins; default per scheduler. */
    idle_cmd: optionalText,
    /** pyglidein: shell command listing queue times for idle-time metrics (False or None:
     *  its default). Unused (the report leaves idle times out); the loader warns. */
    mma_cmd: optionalTextOrUnset,
    /** Most glideins queued or running at once. */
    max_total_jobs: z._default(whole, 1000),
    /** Most glideins idle at once. */
    max_idle_jobs: z._default(whole, 1000),
    /** Most glideins submitted per round. */
    limit_per_submit: z._default(whole, 50),
    /** Glideins this config submitted that are still queued after this many hours are
     *  removed (queued ones only, never running ones); unset: never. */
    max_queued_hours: z.optional(
      z
        .number({ error: "expected a number (hours)" })
        .check(z.gt(0, { error: "expected a number > 0 (hours)" })),
    ),
    /** Batch wall-time limit in hours. */
    walltime_hrs: z._default(
      z
        .number({ error: "expected a number (hours)" })
        .check(z.gt(0, { error: "expected a number > 0 (hours)" })),
      20,
    ),
    /** Demand columns sorted first, biggest first (`-` for smallest first). */
    prioritize_jobs: z._default(priority, ["gpu", "memory"]),
    /** User whose jobs the default counting commands look at. */
    user: optionalText,
    /** OS of the worker nodes (e.g. RHEL7); demand for another OS is skipped. */
    os: optionalText,
    /** pyglidein: whether worker nodes have CVMFS. Unused; the loader warns. */
    cvmfs: z.optional(flag),
    /** Take only demand without GPUs. */
    cpu_only: flagFalse,
    /** Take only demand with GPUs. */
    gpu_only: flagFalse,
    /** Request whole nodes of the size below instead of the demand's size. */
    whole_node: flagFalse,
    whole_node_cpus: optionalCount,
    whole_node_gpus: optionalWhole,
    /** MB */
    whole_node_memory: optionalPositiveMb,
    /** MB */
    whole_node_disk: optionalMb,
    max_cpus_per_job: z._default(whole, 12),
    max_gpus_per_job: z._default(whole, 8),
    /** MB */
    max_memory_per_job: z._default(mb, 24000),
    /** MB */
    max_disk_per_job: z._default(mb, 100000),
    min_cpus_per_job: optionalWhole,
    min_gpus_per_job: optionalWhole,
    /** MB */
    min_memory_per_job: optionalMb,
    /** MB */
    min_disk_per_job: optionalMb,
    /** MB per core; more memory is requested as more cores. Unset: pyglidein's 2000, or
     *  unlimited for whole nodes. */
    mem_per_core: optionalPositiveMb,
    /** Submit `count` identical glideins as one array job. */
    group_jobs: flagFalse,
    /** Slurm partition (`--partition`). */
    partition: optionalText,
    /** Queue (`-q`) for PBS, SGE/UGE and LSF. */
    queue: optionalText,
    /** Account/allocation charged (`-A`, `--account`, `-P`). */
    account: optionalText,
    /** SGE/UGE parallel environment for multi-core glideins. */
    pe: optionalText,
    /** PBS node property appended to `nodes=1:ppn=N`; False or None for none. */
    node_property: optionalTextOrUnset,
    /** PBS memory request forms: only pmem, pmem+vmem, only vmem, only mem. */
    pmem_only: flagFalse,
    pvmem: flagFalse,
    vmem_only: flagFalse,
    mem_only: flagFalse,
    /** PBS: add `:gpus=N` to the nodes line. */
    set_gpu_req: flagTrue,
    /** pyglidein: remove leftover job directories under `dir_cleanup` after a round. Unused
     *  (each job removes its own directory); the loader warns. */
    cleanup: flagFalse,
    dir_cleanup: optionalText,
    /** Section names of the partitions, each inheriting every [Cluster] key. */
    partitions: z.optional(z.array(z.string())),
  })
  .check(
    z.superRefine((p, ctx) => {
      if (p.cpu_only && p.gpu_only)
        ctx.addIssue({
          code: "custom",
          path: ["gpu_only"],
          message: "cpu_only and gpu_only are both True, so no demand can ever match",
        })
      if (p.whole_node) {
        const missing = (
          ["whole_node_cpus", "whole_node_memory", "whole_node_disk"] as const
        ).filter((k) => p[k] === undefined)
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
    }),
  )
export type PartitionSettings = z.infer<typeof partitionSchema>

/** [SubmitFile] */
export const submitFileSchema = z.object({
  /** Name of the submit file written in the working directory. */
  filename: optionalText,
  /** HTCondor: name of the environment wrapper script. */
  env_wrapper_name: optionalText,
  /** Program the job runs after setting up the environment; default glidein_start.sh. */
  executable: optionalText,
  /** Scratch directory of the job (may use the batch system's $VARS). */
  local_dir: optionalText,
  /** HTCondor: user log of the glidein jobs. */
  log: optionalText,
  /** Extra lines after the scheduler's own header lines. */
  custom_header: optionalText,
  /** Extra lines before the glidein is started. */
  custom_middle: optionalText,
  /** Extra lines at the end of the job. */
  custom_end: optionalText,
  /** HTCondor: extra lines before `queue`. */
  custom_footer: optionalText,
  /** HTCondor: extra requirements (documented by pyglidein, never used by it). */
  requirements: optionalText,
  /** GPU request option, `%d` replaced by the GPU count (default per scheduler, e.g. Slurm's
   *  `--gres=gpu:%d`); False or None for no GPU option. */
  gpu_submit: optionalTextOrFalse,
  /** LSF: reference host of the wall-time limit (`-W H:00/HOST`). */
  ref_host: optionalText,
  /** LSF: factor from MB to LSF's memory unit. */
  mem_scale: optionalFactor,
  /** Factor on the memory safety margin. */
  mem_safety_scale: optionalFactor,
  /** pyglidein: wrap payload jobs in IceCube's CVMFS setup. Passed to a site's own
   *  `glidein_script` as CVMFS_JOB_WRAPPER=1; otherwise unused, and the loader warns. */
  cvmfs_job_wrapper: flagFalse,
  /** Site template file replacing the built-in job template (glidein only). */
  submit_template: optionalText,
})
export type SubmitFileSettings = z.infer<typeof submitFileSchema>

/** [StartdLogging]: each glidein uploads its HTCondor logs to S3 (keys in the secrets file). */
export const startdLoggingSchema = z
  .object({
    send_startd_logs: flagFalse,
    /** S3 endpoint host. */
    url: optionalText,
    /** S3 bucket. */
    bucket: optionalText,
    /** The bucket's region, which S3 signatures name (new in glidein); default us-east-1,
     *  which MinIO and most other S3 services take. */
    region: optionalText,
  })
  .check(
    z.superRefine((s, ctx) => {
      if (!s.send_startd_logs) return
      const missing = (["url", "bucket"] as const).filter((k) => s[k] === undefined)
      if (missing.length > 0)
        ctx.addIssue({
          code: "custom",
          path: ["send_startd_logs"],
          message: `send_startd_logs = True also needs ${missing.join(" and ")}`,
        })
    }),
  )
export type StartdLoggingSettings = z.infer<typeof startdLoggingSchema>

/** [StartdChecks] */
export const startdChecksSchema = z.object({
  /** pyglidein: run its startd health checks (cvmfs, GPU). Passed to a site's own
   *  `glidein_script` as DISABLE_STARTD_CHECKS=1 when False; otherwise unused, and the loader
   *  warns. */
  enable_startd_checks: flagTrue,
})
export type StartdChecksSettings = z.infer<typeof startdChecksSchema>

/** [CustomEnv]: every key becomes an environment variable of the glidein. */
export const customEnvSchema = z.record(
  z
    .string()
    .check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "expected an environment variable name" })),
  text,
)

/** The secrets file (`--secrets`): [StartdLogging] S3 keys (pyglidein's), and [Glidein] token,
 *  the bearer token for a server started with `serve --tokens` (new in glidein). */
export const secretsSchema = z.object({
  StartdLogging: z._default(z.object({ access_key: optionalText, secret_key: optionalText }), {}),
  Glidein: z._default(z.object({ token: optionalText }), {}),
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
