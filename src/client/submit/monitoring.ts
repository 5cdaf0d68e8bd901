/**
 * @module
 * What a site tells the server after a round (`monitoring`, whose shape is the protocol's,
 * src/protocol/monitoring.ts), and the name it reports under: the `uuid` of its reports and of
 * its allotment requests.
 */
import { hostname } from "node:os"
import { basename } from "node:path"
import { monitoringParams, type PartitionReport } from "../../protocol/monitoring.ts"
import { callJsonRpc } from "../lib/json-rpc.ts"
import { type LoginLookup, loginName, SYSTEM_LOGIN } from "../lib/login-name.ts"
import type { PartitionRound } from "./plan-round.ts"
import type { Run } from "./run.ts"

/**
 * Reports the round's counts and launches to `url`, and when the tarball's token expires
 * (from the round's tarball check); a failed report is a warning, since the glideins are
 * submitted and journaled by now.
 */
export async function reportRound(
  run: Run,
  url: string,
  partitions: PartitionRound[],
  launched: Map<string, number>,
  tokenExpires?: number,
): Promise<void> {
  // A partition that could not be counted is reported as such, never as 0 running, 0 idle.
  const reports: PartitionReport[] = partitions.map(({ partition, outcome, error }) => ({
    partition: partition.name,
    ...(outcome && error === undefined ? { running: outcome.running, idle: outcome.idle } : {}),
    launched: launched.get(partition.name) ?? 0,
  }))
  try {
    const params = monitoringParams(run.uuid, run.deps.now(), reports, tokenExpires)
    await callJsonRpc(url, "monitoring", params, run.deps.rpc)
  } catch (error) {
    run.say(`warning: ${(error as Error).message}`)
  }
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
