/**
 * @module
 * The name a site reports under: the `uuid` of its `monitoring` reports (whose shape is the
 * protocol's, src/protocol/monitoring.ts) and of its allotment requests.
 */
import { hostname } from "node:os"
import { basename } from "node:path"
import { type LoginLookup, loginName, SYSTEM_LOGIN } from "../lib/login-name.ts"

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
