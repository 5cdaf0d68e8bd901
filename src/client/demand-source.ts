/**
 * @module
 * Where a run's demand comes from — the server's `get_state`, or a state file (`--state-file`,
 * or `~/glidein_state` with `ssh_state = True`) — and reading it through the one validator.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import type { GlideinSettings } from "../config/schema.ts"
import type { DemandRow } from "../demand/demand-row.ts"
import { GlideinError, UsageError } from "../errors.ts"
import { parseDemand } from "./demand.ts"
import { callJsonRpc, type RpcOptions } from "./json-rpc.ts"
import { homeDir } from "./state-dir.ts"

/** A server URL, or a file holding a `get_state` result. */
export type DemandSource = { kind: "server"; url: string } | { kind: "file"; path: string }

/** Environment variable that overrides the config's server address (like `--server`). */
export const SERVER_ENV = "GLIDEIN_SERVER"

/** Largest state file read. */
const MAX_STATE_FILE = 16 * 1024 * 1024

/**
 * Picks the source: `--state-file`, else `--server` / $GLIDEIN_SERVER, else `ssh_state`'s
 * `~/glidein_state`, else the config's `address`.
 */
export function demandSource(
  options: { stateFile?: string; server?: string },
  glidein: GlideinSettings,
  env: Record<string, string | undefined>,
): DemandSource {
  if (options.stateFile !== undefined) return { kind: "file", path: options.stateFile }
  const override = options.server ?? env[SERVER_ENV]
  if (override) return { kind: "server", url: serverUrl(override) }
  if (glidein.ssh_state) return { kind: "file", path: join(homeDir(env), "glidein_state") }
  if (glidein.address !== undefined) return { kind: "server", url: glidein.address }
  throw new UsageError("no demand source: the config has no address and ssh_state is not set")
}

/** Accepts `http://host:port` as well as the full `…/jsonrpc` URL. */
export function serverUrl(text: string): string {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new UsageError(`server address "${text}" is not a URL (expected http://HOST:PORT)`)
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`server address "${text}" must start with http:// or https://`)
  }
  if (url.pathname === "/" || url.pathname === "") url.pathname = "/jsonrpc"
  return url.toString()
}

/** How the source is named in messages. */
export function describeSource(source: DemandSource): string {
  return source.kind === "server" ? `server ${source.url}` : `state file ${source.path}`
}

/** Reads and validates demand; any failure is one line and exit 1. */
export async function fetchDemand(
  source: DemandSource,
  rpc: Partial<RpcOptions> = {},
): Promise<DemandRow[]> {
  if (source.kind === "server") {
    const result = await callJsonRpc(source.url, "get_state", {}, rpc)
    return parseDemand(result, `server ${source.url}: get_state`)
  }
  let text: string
  try {
    const bytes = readFileSync(source.path)
    if (bytes.byteLength > MAX_STATE_FILE) {
      throw new GlideinError(`state file ${source.path} is larger than ${MAX_STATE_FILE} bytes`)
    }
    text = bytes.toString("utf8")
  } catch (error) {
    if (error instanceof GlideinError) throw error
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message
    throw new GlideinError(`cannot read state file ${source.path} (${code})`)
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new GlideinError(`state file ${source.path} is not JSON`)
  }
  return parseDemand(value, `state file ${source.path}`)
}
