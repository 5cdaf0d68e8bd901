/**
 * @module
 * The report a run sends to the server after submitting: pyglidein's `monitoring` params,
 * `{uuid, timestamp, metrics: {glideins_running: {partition: n}, glideins_idle, glideins_launched}}`.
 * pyglidein's idle-time metrics are left out: they needed a queue-time query per scheduler
 * (and the htcondor Python bindings), and a made-up zero would read as a measurement.
 */
import { hostname } from "node:os"
import { basename } from "node:path"
import { type LoginLookup, loginName, SYSTEM_LOGIN } from "./login-name.ts"

/** One partition's numbers for the report; `running` and `idle` are unknown when its glideins
 *  could not be counted (then reported as `count_failed`, never as 0). */
export interface PartitionReport {
  partition: string
  running?: number
  idle?: number
  launched: number
}

/** The `monitoring` params. */
export interface MonitoringParams {
  uuid: string
  /** Unix seconds. */
  timestamp: number
  metrics: {
    glideins_running: Record<string, number>
    glideins_idle: Record<string, number>
    glideins_launched: Record<string, number>
    /** Partitions whose glideins could not be counted; servers before it ignore it. */
    count_failed?: Record<string, number>
  }
}

/** Builds the report of one round. */
export function monitoringParams(
  uuid: string,
  now: Date,
  partitions: PartitionReport[],
): MonitoringParams {
  const metrics: MonitoringParams["metrics"] = {
    glideins_running: {},
    glideins_idle: {},
    glideins_launched: {},
  }
  for (const p of partitions) {
    if (p.running === undefined || p.idle === undefined) {
      metrics.count_failed = { ...metrics.count_failed, [p.partition]: 1 }
    } else {
      metrics.glideins_running[p.partition] = p.running
      metrics.glideins_idle[p.partition] = p.idle
    }
    metrics.glideins_launched[p.partition] = p.launched
  }
  return { uuid, timestamp: Math.floor(now.getTime() / 1000), metrics }
}

/**
 * The default client id: pyglidein's `user@host` (its `--uuid` default, with the user Python's
 * `getpass.getuser()` gave: `$LOGNAME`, `$USER`, then the login name of this process's uid, or
 * `uid<N>`), then `/` and the config's name (`lido3_gpu` for `lido3_gpu.config`). pyglidein's
 * id alone made two configs of one account (a CPU and a GPU one) report under one name and
 * overwrite each other on the server; a site that wants its old id sets `uuid` or `--uuid`.
 */
export function defaultUuid(
  configFile: string,
  env: Record<string, string | undefined> = process.env,
  lookup: LoginLookup = SYSTEM_LOGIN,
): string {
  const user = env.LOGNAME || env.USER || loginName(lookup) || `uid${lookup.uid}`
  const name = basename(configFile).replace(/\.(ini|conf|config|cfg)$/i, "") || "config"
  return `${user}@${hostname()}/${name}`
}
