/**
 * @module
 * Where a site reads the pool's demand table from — the server's `get_state`, or a state file
 * (`--state-file`, or `~/glidein_state` with `ssh_state = True`) — and reading it through the
 * one validator. (The server's `DemandSource`, in src/demand, is how it polls condor_q.)
 */
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs"
import { join } from "node:path"
import type { GlideinSettings } from "../../config/schema.ts"
import { errorReason, GlideinError, UsageError } from "../../errors.ts"
import { type Demand, parseDemand } from "../../protocol/demand.ts"
import { callJsonRpc, type RpcOptions } from "../lib/json-rpc.ts"
import { JsonRefused, parseJsonBounded } from "../lib/parse-json-bounded.ts"
import { serverAddress } from "../lib/server-address.ts"
import { displayUrl } from "../lib/server-request.ts"
import { homeDir } from "../site/state-dir.ts"

/**
 * A server URL, or a file holding a `get_state` result (or the server's `/api/state` answer).
 * A file with `maxAgeS` that is older than that is refused: `ssh_state`'s file is pushed by
 * someone else, and when the pushing stops, old demand would be served for ever.
 */
export type DemandOrigin =
  | { kind: "server"; url: string }
  | { kind: "file"; path: string; maxAgeS?: number }

/** Oldest `~/glidein_state` a run uses (`glidein push-state` writes it every minute or so). */
export const MAX_PUSHED_STATE_AGE_S = 3600

/** Environment variable that overrides the config's server address (like `--server`). */
export const SERVER_ENV = "GLIDEIN_SERVER"

/** Largest state file read. */
const MAX_STATE_FILE = 16 * 1024 * 1024

/**
 * Picks the origin: `--state-file`, else `--server` / $GLIDEIN_SERVER, else `ssh_state`'s
 * `~/glidein_state`, else the config's `address`.
 */
export function demandOrigin(
  options: { stateFile?: string; server?: string },
  glidein: GlideinSettings,
  env: Record<string, string | undefined>,
): DemandOrigin {
  if (options.stateFile !== undefined) return { kind: "file", path: options.stateFile }
  const override = options.server ?? env[SERVER_ENV]
  if (override) return { kind: "server", url: serverUrl(override) }
  if (glidein.ssh_state) {
    return {
      kind: "file",
      path: join(homeDir(env), "glidein_state"),
      maxAgeS: MAX_PUSHED_STATE_AGE_S,
    }
  }
  if (glidein.address !== undefined) return { kind: "server", url: withRpcPath(glidein.address) }
  throw new UsageError("no demand source: the config has no address and ssh_state is not set")
}

/** `--server` / $GLIDEIN_SERVER: `host:port` and `http://host:port` mean its `/jsonrpc`. */
export function serverUrl(
  text: string,
  what = "glidein submit: --server (or $GLIDEIN_SERVER)",
): string {
  return rpcPath(serverAddress(text, what))
}

/** A config's `address` (checked by the config's schema): `http://host:port` means its
 *  `/jsonrpc`, as on the command line. */
function withRpcPath(address: string): string {
  try {
    return rpcPath(new URL(address))
  } catch {
    return address
  }
}

/** A server's URL with no path means its JSON-RPC path. */
function rpcPath(url: URL): string {
  if (url.pathname === "/" || url.pathname === "") url.pathname = "/jsonrpc"
  return url.toString()
}

/** How the origin is named in messages. */
export function describeOrigin(origin: DemandOrigin): string {
  return origin.kind === "server" ? `server ${displayUrl(origin.url)}` : `state file ${origin.path}`
}

/** Reads and validates demand (rows no site could run are skipped and counted); any failure
 *  is one line and exit 1. */
export async function fetchDemand(
  origin: DemandOrigin,
  rpc: Partial<RpcOptions> = {},
): Promise<Demand> {
  if (origin.kind === "server") {
    const result = await callJsonRpc(origin.url, "get_state", {}, rpc)
    return parseDemand(result, `${describeOrigin(origin)}: get_state`)
  }
  const { text, mtimeMs } = readStateFile(origin.path)
  if (origin.maxAgeS !== undefined) checkAge(origin.path, mtimeMs, origin.maxAgeS)
  let value: unknown
  try {
    value = parseJsonBounded(text)
  } catch (error) {
    if (!(error instanceof JsonRefused)) throw error
    throw new GlideinError(`state file ${origin.path} is ${error.message}`)
  }
  return parseDemand(stateRows(value, origin), describeOrigin(origin))
}

/**
 * The rows of a state file: a `get_state` result (a list of rows, as pyglidein's ssh_helper
 * wrote it), or the server's `GET /api/state` answer, whose `rows` are the same table (and
 * whose `updated` says how old it is).
 */
function stateRows(value: unknown, origin: { path: string; maxAgeS?: number }): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value) || !("rows" in value))
    return value
  const state = value as { rows: unknown; updated?: unknown }
  if (state.rows === null) {
    throw new GlideinError(
      `state file ${origin.path} is the server's /api/state from before its first poll: it holds no demand table yet`,
    )
  }
  if (origin.maxAgeS !== undefined && typeof state.updated === "string") {
    const updated = Date.parse(state.updated)
    if (Number.isFinite(updated)) checkAge(origin.path, updated, origin.maxAgeS, "polled")
  }
  return state.rows
}

/** Refuses demand older than `maxAgeS`: when the pushing stops, it would be used for ever. */
function checkAge(path: string, atMs: number, maxAgeS: number, what = "written"): void {
  const ageS = (Date.now() - atMs) / 1000
  if (ageS <= maxAgeS) return
  const hours = (s: number) =>
    s >= 7200 ? `${Math.floor(s / 3600)} h` : `${Math.floor(s / 60)} min`
  throw new GlideinError(
    `state file ${path} was ${what} ${hours(ageS)} ago (${new Date(atMs).toISOString()}); demand older than ${hours(maxAgeS)} is not used: is glidein push-state still running?`,
  )
}

/**
 * The state file's text. Only a regular file is read, and at most MAX_STATE_FILE bytes of it:
 * `/dev/zero` or a FIFO nobody writes to (opened without blocking) would otherwise keep a cron
 * run reading or waiting for ever.
 */
function readStateFile(path: string): { text: string; mtimeMs: number } {
  let fd: number
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY)
  } catch (error) {
    const code = errorReason(error)
    throw new GlideinError(`cannot read state file ${path} (${code})`)
  }
  try {
    const info = fstatSync(fd)
    if (!info.isFile()) throw new GlideinError(`state file ${path} is not a regular file`)
    if (info.size > MAX_STATE_FILE) throw tooLarge(path)
    // One byte more than it had, to notice a file that grew past the limit since.
    const buffer = Buffer.alloc(Math.min(info.size + 1, MAX_STATE_FILE + 1))
    let length = 0
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null)
      if (n === 0) break
      length += n
      if (length === buffer.length) {
        if (length > MAX_STATE_FILE) throw tooLarge(path)
        break
      }
    }
    return { text: buffer.subarray(0, length).toString("utf8"), mtimeMs: info.mtimeMs }
  } catch (error) {
    if (error instanceof GlideinError) throw error
    const code = errorReason(error)
    throw new GlideinError(`cannot read state file ${path} (${code})`)
  } finally {
    closeSync(fd)
  }
}

function tooLarge(path: string): GlideinError {
  return new GlideinError(`state file ${path} is larger than ${MAX_STATE_FILE} bytes`)
}
