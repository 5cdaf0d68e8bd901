/**
 * Test fixtures shared by the scheduler tests (imported by tests only).
 */
import { prepareSubmissions } from "../client/site/prepare-submissions.ts"
import { siteSetup } from "../client/site/site-setup.ts"
import { sizeGlidein } from "../client/site/size-glidein.ts"
import { type ConfigWarning, loadSiteConfig } from "../config/index.ts"
import { partitionSchema, submitFileSchema } from "../config/schema.ts"
import type {
  AdapterSettings,
  JobSpec,
  RenderedJob,
  Scheduler,
  SchedulerName,
  SettingsSource,
} from "./types.ts"

/** A planned submission of one 2-core glidein with every optional setting off. */
export function jobSpec(
  patch: Partial<JobSpec> = {},
  site: Partial<JobSpec["site"]> = {},
): JobSpec {
  return {
    partition: "Cluster",
    count: 1,
    resources: { cpus: 2, memoryMb: 4200, diskKb: 11264000, gpus: 0, walltimeS: 14 * 3600 },
    env: {
      CPUS: "2",
      GPUS: "0",
      MEMORY: "4200",
      DISK: "11264000",
      WALLTIME: "50100",
      SITE: "Test Site",
      ResourceName: "test-cluster",
      CLUSTER: "pool.example.org",
    },
    settings: {},
    site: { groupJobs: false, ...site },
    paths: {
      submitDir: "/home/user/glidein",
      startScript: "/home/user/glidein/glidein_start.sh",
      tarball: "/shared/glidein.tar.gz",
    },
    ...patch,
  }
}

/** Config keys as a site writes them, of a partition section or [SubmitFile] (by key name). */
export type ConfigKeys = Record<string, string | number | boolean | null>

const SUBMIT_FILE_KEYS = new Set(Object.keys(submitFileSchema.shape))

/** The source an adapter reads `keys` from: each key in its section ([SubmitFile] or the
 *  partition `section`), through the config's schemas, so defaults apply as in a real config. */
export function settingsSource(
  scheduler: SchedulerName,
  keys: ConfigKeys = {},
  section = "Cluster",
): SettingsSource {
  const partition: ConfigKeys = { scheduler }
  const submitFile: ConfigKeys = {}
  for (const [key, value] of Object.entries(keys)) {
    if (SUBMIT_FILE_KEYS.has(key)) submitFile[key] = value
    else partition[key] = value
  }
  return {
    section,
    partition: partitionSchema.parse(partition),
    submitFile: submitFileSchema.parse(submitFile),
  }
}

/** `jobSpec(patch, site)` with the settings `scheduler` reads from `keys`. */
export function adapterJob<S extends AdapterSettings>(
  scheduler: Scheduler<S>,
  keys: ConfigKeys = {},
  patch: Partial<JobSpec> = {},
  site: Partial<JobSpec["site"]> = {},
): JobSpec<S> {
  return {
    ...jobSpec(patch, site),
    settings: scheduler.readSettings(settingsSource(scheduler.name, keys)),
  }
}

/** Resources with `patch` applied to the fixture's. */
export function resources(patch: Partial<JobSpec["resources"]>): JobSpec["resources"] {
  return { ...jobSpec().resources, ...patch }
}

/**
 * Renders one glidein of `partition` the way `glidein submit` would: config loader, partition
 * setup, sizing for a one-core job (with a GPU where the partition takes only GPU jobs), job
 * spec, adapter.
 */
export async function renderFromConfig(
  file: string,
  partition: string,
): Promise<{
  text: string
  rendered: RenderedJob
  warnings: ConfigWarning[]
  scheduler: SchedulerName
}> {
  const config = await loadSiteConfig(file)
  const setup = siteSetup(config, { HOME: "/home/user", USER: "user" })
  const run = setup.partitions.find((p) => p.name === partition)
  if (!run) throw new Error(`${file} has no partition ${partition}`)
  const gpus = run.settings.gpu_only ? 1 : 0
  const sized = sizeGlidein({ cpus: 1, memory: 2000, disk: 10000, gpus }, run.policy)
  const [prepared] = prepareSubmissions(
    [{ partition, count: 1, resources: sized.resources, serves: [] }],
    {
      site: {
        glidein: config.glidein,
        submitFile: config.submitFile,
        customEnv: config.customEnv,
        startdChecks: config.startdChecks,
      },
      partitions: new Map(setup.partitions.map((p) => [p.name, p])),
      submitRoot: "/home/user/.glidein/submit",
      outputDir: "/home/user/.glidein/out",
      tarball: setup.tarball,
      ...(setup.template ? { template: setup.template } : {}),
    },
  )
  const rendered = prepared!.rendered
  return {
    text: rendered.files[rendered.submitFile]!,
    rendered,
    warnings: config.warnings,
    scheduler: run.scheduler.name,
  }
}
