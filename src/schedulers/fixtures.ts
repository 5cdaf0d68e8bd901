/**
 * Test fixtures shared by the scheduler tests (imported by tests only).
 */
import { prepareSubmissions } from "../client/prepare-submissions.ts"
import { siteSetup } from "../client/site-setup.ts"
import { sizeGlidein } from "../client/size-glidein.ts"
import { type ConfigWarning, loadSiteConfig } from "../config/index.ts"
import type { JobSpec, RenderedJob, SchedulerName } from "./types.ts"

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
    site: { groupJobs: false, extra: {}, ...site },
    paths: {
      submitDir: "/home/user/glidein",
      startScript: "/home/user/glidein/glidein_start.sh",
      tarball: "/shared/glidein.tar.gz",
    },
    ...patch,
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
