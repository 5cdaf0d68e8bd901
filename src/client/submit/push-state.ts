/**
 * @module
 * `glidein push-state`: demand for sites that cannot reach the server. Some clusters let a
 * login node make no outgoing connection and take ssh only with a second factor; pyglidein's
 * `ssh_helper` pushed the server's state to them instead, and their `glidein submit` reads it
 * with `ssh_state = True`. This runs where the server is reachable: on each round it asks the
 * server for `get_state`, checks the rows as a site would, and writes them to every target
 * over ssh, atomically (a temporary file, then `mv`), so a site never reads half a file.
 *
 * ssh runs with `BatchMode=yes` (it never asks for a password or a code: a cron job cannot
 * answer) and a ControlPath, so one master connection opened by hand with the second factor
 * (`ssh -o ControlMaster=yes -o ControlPersist=24h …`) carries a day of pushes. Targets are
 * checked before anything runs: nothing the command line says reaches a shell unquoted.
 */
import { lstatSync, mkdirSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { errorCode, errorReason, GlideinError, UsageError } from "../../errors.ts"
import { ApiStateSchema } from "../../protocol/api.ts"
import { parseDemand } from "../../protocol/demand.ts"
import { callJsonRpc, type RpcOptions } from "../lib/json-rpc.ts"
import { parseJsonBounded } from "../lib/parse-json-bounded.ts"
import { type CommandRunner, commandTrouble } from "../lib/run-command.ts"
import { displayUrl, requestServer } from "../lib/server-request.ts"
import { plural } from "./plan-report.ts"

/** Where to push: `[user@]host[:path]`; the path is relative to the remote home. */
export interface PushTarget {
  /** What ssh is given as the destination: `user@host` or `host`. */
  destination: string
  path: string
  /** As typed, for messages. */
  text: string
}

/** The file `ssh_state = True` reads, in the remote home. */
export const DEFAULT_STATE_PATH = "glidein_state"

/** Limit for one push (a master connection answers at once; a new login takes a few s). */
const PUSH_TIMEOUT_MS = 60_000

/** Parses `[user@]host[:path]`, or throws a UsageError naming what is wrong. */
export function parseTarget(text: string): PushTarget {
  const m =
    /^(?:([A-Za-z0-9_][A-Za-z0-9_.-]{0,63})@)?([A-Za-z0-9][A-Za-z0-9.-]{0,252})(?::(.*))?$/.exec(
      text,
    )
  if (!m) {
    throw new UsageError(
      `glidein push-state: --to "${text}": expected [USER@]HOST[:PATH] (letters, digits, '.', '-', '_')`,
    )
  }
  const path = m[3] === undefined || m[3] === "" ? DEFAULT_STATE_PATH : m[3]
  // The path goes into the remote shell's command line: a plain relative or absolute path of
  // safe characters, never `..`, so nothing in it is read by the shell.
  if (
    !/^[A-Za-z0-9_./~-]{1,255}$/.test(path) ||
    path.split("/").includes("..") ||
    path.endsWith("/")
  ) {
    throw new UsageError(
      `glidein push-state: --to "${text}": the path "${path}" must be a file name of letters, digits, '.', '_', '-', '/' (no '..')`,
    )
  }
  const destination = m[1] === undefined ? m[2]! : `${m[1]}@${m[2]}`
  return { destination, path, text }
}

/** The ssh argv that writes stdin to `target` atomically. */
export function pushArgv(target: PushTarget, controlDir: string): string[] {
  const tmp = `${target.path}.glidein-push.tmp`
  // A leading ~/ is the remote home; the rest needs no quoting (checked in parseTarget).
  const remote = (p: string) => (p.startsWith("~/") ? `"$HOME"/${p.slice(2)}` : p)
  return [
    "ssh",
    "-o",
    "BatchMode=yes",
    "-o",
    "ControlMaster=auto",
    "-o",
    `ControlPath=${join(controlDir, "%C")}`,
    "-o",
    "ControlPersist=24h",
    "-o",
    "ConnectTimeout=20",
    target.destination,
    `umask 077 && cat > ${remote(tmp)} && mv -f ${remote(tmp)} ${remote(target.path)}`,
  ]
}

/** The world a push talks to. */
export interface PushDeps {
  run: CommandRunner
  env: Record<string, string | undefined>
  stderr: (text: string) => void
  rpc?: Partial<RpcOptions>
  /** Folder for ssh's control sockets and the file fed to ssh (private). */
  workDir: string
  timeoutMs?: number
}

/**
 * What to push: a glidein server's `/api/state` as `{updated, rows}`, so a site can tell a
 * table its server keeps serving after condor_q stopped answering (`updated` is the last good
 * poll) from a fresh one; a pyglidein server's `get_state` rows as they are. The rows are
 * checked as a site would check them, so a site never gets what it would refuse.
 */
async function serverState(
  server: string,
  rpc: Partial<RpcOptions> | undefined,
): Promise<{ payload: unknown; rows: unknown[] }> {
  const base = server.replace(/\/jsonrpc\/?$/, "")
  const reply = await requestServer(`${base}/api/state`, { method: "GET" }, "GET", rpc).catch(
    () => undefined,
  )
  if (reply && reply.status === 200) {
    let value: unknown
    try {
      value = parseJsonBounded(reply.text)
    } catch {
      value = undefined
    }
    const parsed = ApiStateSchema.safeParse(value)
    if (parsed.success && parsed.data.rows !== null && parsed.data.updated !== null) {
      const demand = parseDemand(parsed.data.rows, `server ${displayUrl(base)}/api/state`)
      return { payload: { updated: parsed.data.updated, rows: demand.rows }, rows: demand.rows }
    }
  }
  const result = await callJsonRpc(server, "get_state", {}, rpc)
  const demand = parseDemand(result, `server ${displayUrl(server)}: get_state`)
  return { payload: demand.rows, rows: demand.rows }
}

/**
 * Makes `dir` (its parent must exist) or checks the one there: a real folder of this user that
 * nobody else can enter. ssh's control sockets live in it, and a socket or file planted there by
 * someone else would take the pushes.
 */
function privateFolder(dir: string): void {
  try {
    mkdirSync(dir, { mode: 0o700 })
    return
  } catch (error) {
    if (errorCode(error) !== "EEXIST") {
      throw new GlideinError(`glidein push-state: cannot make ${dir} (${errorReason(error)})`)
    }
  }
  const info = lstatSync(dir)
  const uid = process.getuid?.() ?? info.uid
  const why = info.isSymbolicLink()
    ? "it is a symbolic link"
    : !info.isDirectory()
      ? "it is not a folder"
      : info.uid !== uid
        ? `it belongs to another user (uid ${info.uid})`
        : (info.mode & 0o077) !== 0
          ? `other users can enter it (mode ${(info.mode & 0o777).toString(8)})`
          : undefined
  if (why !== undefined) {
    throw new GlideinError(
      `glidein push-state: cannot use ${dir} for ssh's control sockets (${why}); remove it or set XDG_RUNTIME_DIR`,
    )
  }
}

/** One round: the server's state to every target. Returns the targets that failed. */
export async function pushState(
  server: string,
  targets: PushTarget[],
  deps: PushDeps,
): Promise<string[]> {
  const state = await serverState(server, deps.rpc)
  privateFolder(deps.workDir)
  const file = join(deps.workDir, "state.json")
  // Made anew, never written through whatever is there.
  rmSync(file, { force: true })
  writeFileSync(file, `${JSON.stringify(state.payload)}\n`, { mode: 0o600, flag: "wx" })
  const failed: string[] = []
  const timeoutMs = deps.timeoutMs ?? PUSH_TIMEOUT_MS
  try {
    for (const target of targets) {
      const argv = pushArgv(target, deps.workDir)
      const outcome = await deps
        .run(argv, { timeoutMs, env: deps.env, stdinFile: file })
        .catch((e: Error) => e)
      const trouble = commandTrouble(outcome, timeoutMs)
      if (trouble === undefined) continue
      failed.push(target.text)
      deps.stderr(
        `glidein push-state: ${target.text}: ssh ${trouble}${/Permission denied|Host key|batch mode/i.test(trouble) ? " (open the master connection by hand first: see docs/submit.md, sites without outgoing connections)" : ""}\n`,
      )
    }
  } finally {
    rmSync(file, { force: true })
  }
  if (failed.length === 0) {
    deps.stderr(
      `glidein push-state: pushed ${plural(state.rows.length, "demand row")} to ${plural(targets.length, "site")}\n`,
    )
  }
  return failed
}
