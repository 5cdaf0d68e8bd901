/**
 * @module
 * One planned submission + the site's config → the `JobSpec` a scheduler adapter renders.
 * Pure: paths and the template text are passed in. This is where the glidein environment
 * contract (CPUS, MEMORY, DISK, GPUS, WALLTIME, SITE, ResourceName, CLUSTER, GLIDEIN_CLIENT,
 * [CustomEnv]) is filled in.
 */
import type {
  GlideinSettings,
  PartitionSettings,
  StartdChecksSettings,
  SubmitFileSettings,
} from "../../config/schema.ts"
import { SCHEDULERS } from "../../schedulers/index.ts"
import type { JobSpec } from "../../schedulers/types.ts"
import type { PlannedSubmission } from "./plan-submissions.ts"

/** The config sections a job spec draws on besides its partition's. */
export interface SiteSections {
  glidein: GlideinSettings
  submitFile: SubmitFileSettings
  customEnv: Record<string, string>
  startdChecks: StartdChecksSettings
  /** SITE when neither `[Glidein] site` nor `[CustomEnv] SITE` names one: the submit host. */
  defaultSite?: string
  /** More of the contract for this round's jobs: the log upload form (LOG_UPLOAD_*). */
  roundEnv?: Record<string, string>
  /** The name this site reports under: GLIDEIN_CLIENT, which glideins advertise. */
  client?: string
}

/** The glidein's SITE: `[Glidein] site`, else `[CustomEnv] SITE`, else the default. */
export function glideinSite(site: SiteSections): string | undefined {
  // pyglidein's glidein_start.sh fell back to "WIPAC", IceCube's own site.
  return site.glidein.site ?? site.customEnv.SITE ?? site.defaultSite
}

/** Where the job's files are, and the site's own template if it has one. */
export interface JobFiles {
  submitDir: string
  startScript: string
  tarball: string
  outputDir: string
  template?: { text: string; file: string }
}

/** Seconds the glidein stops before the batch limit, so it can retire cleanly. */
export const WALLTIME_MARGIN_S = 300

/** The glidein's WALLTIME in a batch job limited to `batchWalltimeS`. */
function glideinWalltimeS(batchWalltimeS: number): number {
  return Math.max(0, batchWalltimeS - WALLTIME_MARGIN_S)
}

/**
 * The shortest batch limit (s) whose glidein `glidein_start.sh` starts: it wants WALLTIME −
 * RETIRETIME ≥ 60 s, RETIRETIME being [CustomEnv] RETIRETIME (`retireTimeS`) or by default
 * a quarter of WALLTIME, at most 1200 s and at least 1 s.
 */
export function minBatchWalltimeS(retireTimeS?: number): number {
  if (retireTimeS !== undefined) return retireTimeS + 60 + WALLTIME_MARGIN_S
  let walltime = 1
  while (walltime - Math.max(1, Math.min(1200, Math.floor(walltime / 4))) < 60) walltime++
  return walltime + WALLTIME_MARGIN_S
}

/** The batch queue a partition submits to, as its adapter chooses it; the default counts look
 *  in the same one. */
export function partitionQueue(settings: PartitionSettings): string | undefined {
  return SCHEDULERS[settings.scheduler].queue(settings)
}

/** The job spec for `submission` on a partition configured by `settings`; the adapter's own
 *  settings are read here, so a value it refuses stops the run before anything is submitted. */
export function buildJobSpec(
  submission: PlannedSubmission,
  settings: PartitionSettings,
  site: SiteSections,
  files: JobFiles,
): JobSpec {
  const r = submission.resources
  const env: Record<string, string> = {
    CPUS: String(r.cpus),
    MEMORY: String(r.memoryMb),
    DISK: String(r.diskKb),
    GPUS: String(r.gpus),
    WALLTIME: String(glideinWalltimeS(r.walltimeS)),
  }
  const siteName = glideinSite(site)
  if (siteName !== undefined) env.SITE = siteName
  if (site.glidein.resourcename !== undefined) env.ResourceName = site.glidein.resourcename
  if (site.glidein.cluster !== undefined) env.CLUSTER = site.glidein.cluster
  if (site.client !== undefined) env.GLIDEIN_CLIENT = site.client
  // The partition it was planned for: the pool's funnel counts each partition apart.
  env.GLIDEIN_PARTITION = submission.partition
  // pyglidein's names for its own start script's knobs; the built-in one reads neither (the
  // config loader says so), a site's own glidein_script may.
  if (site.glidein.glidein_script !== undefined) {
    if (!site.startdChecks.enable_startd_checks) env.DISABLE_STARTD_CHECKS = "1"
    if (site.submitFile.cvmfs_job_wrapper) env.CVMFS_JOB_WRAPPER = "1"
  }
  // The contract's own names win over a [CustomEnv] key of the same name.
  for (const [name, value] of Object.entries(site.customEnv)) {
    if (!(name in env)) env[name] = value
  }
  const spec: JobSpec = {
    partition: submission.partition,
    count: submission.count,
    resources: r,
    env,
    settings: SCHEDULERS[settings.scheduler].readSettings({
      section: submission.partition,
      partition: settings,
      submitFile: site.submitFile,
    }),
    site: { groupJobs: settings.group_jobs, outputDir: files.outputDir },
    paths: { submitDir: files.submitDir, startScript: files.startScript, tarball: files.tarball },
  }
  if (site.roundEnv) spec.roundEnv = site.roundEnv
  const s = spec.site
  if (site.submitFile.local_dir !== undefined) s.localDir = site.submitFile.local_dir
  if (site.submitFile.custom_header !== undefined) s.customHeader = site.submitFile.custom_header
  if (site.submitFile.custom_middle !== undefined) s.customMiddle = site.submitFile.custom_middle
  if (site.submitFile.custom_end !== undefined) s.customEnd = site.submitFile.custom_end
  if (site.submitFile.filename !== undefined) s.filename = site.submitFile.filename
  if (files.template) {
    s.template = files.template.text
    s.templateFile = files.template.file
  }
  return spec
}
