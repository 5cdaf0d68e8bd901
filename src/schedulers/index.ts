/**
 * @module
 * The batch-scheduler adapters of `glidein submit`: one `Scheduler` per batch system, each
 * reading its own keys of a partition's config into typed settings, sizing glideins by its
 * system's rules, choosing the queue, turning a planned submission (`JobSpec`) into a job
 * script or submit file from the templates in `templates/`, and knowing its system's submit,
 * count and cancel commands and their output. Adapters are pure; the client writes their
 * files and runs their argv.
 *
 * @example
 * ```ts
 * const scheduler = schedulerFor("SLURM")            // names are case-insensitive
 * if (!scheduler) throw new ConfigError(place, "no such scheduler")
 * const settings = scheduler.readSettings({ section, partition, submitFile }) // or ConfigError
 * const job = scheduler.render({ ...spec, settings }) // files, argv, request, runs
 * ```
 */
import { sge, uge } from "./grid-engine.ts"
import { htcondor } from "./htcondor.ts"
import { lsf } from "./lsf.ts"
import { pbs } from "./pbs.ts"
import { slurm } from "./slurm.ts"
import type { Scheduler, SchedulerName } from "./types.ts"

export type {
  AdapterSettings,
  GlideinResources,
  JobSpec,
  RenderedJob,
  Scheduler,
  SchedulerName,
  SettingsSource,
} from "./types.ts"

/** Every adapter, by name. */
export const SCHEDULERS: Readonly<Record<SchedulerName, Scheduler>> = {
  htcondor,
  slurm,
  pbs,
  uge,
  sge,
  lsf,
}

/** The adapter for a config's `scheduler` value (any case), or undefined if there is none. */
export function schedulerFor(name: string): Scheduler | undefined {
  const key = name.trim().toLowerCase()
  return Object.hasOwn(SCHEDULERS, key) ? SCHEDULERS[key as SchedulerName] : undefined
}
