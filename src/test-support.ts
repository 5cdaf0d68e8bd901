/**
 * @module
 * Helpers shared by tests across folders: temporary directories and child processes that
 * are cleaned up after each test, glidein run as a process, and the demand snapshots a
 * server serves. Test-only; nothing in the product imports it.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import type { DemandRow, DemandSnapshot } from "./demand/index.ts"

const made: string[] = []
const children: Bun.Subprocess[] = []

/** A fresh temporary directory, removed by `cleanUp()`. */
export function tempDir(prefix = "glidein-test-"): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix))
  made.push(dir)
  return dir
}

/** Remembers a child process so `cleanUp()` kills it if the test left it running. */
export function track<T extends Bun.Subprocess>(child: T): T {
  children.push(child)
  return child
}

/** Kills tracked children still running and removes every tempDir() (afterEach/afterAll). */
export function cleanUp(): void {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL")
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true })
}

/** The entry point, for tests that run glidein as a process. */
export const MAIN = path.join(import.meta.dir, "main.ts")

/** Runs `bun src/main.ts ...argv` as a separate process; by default with an empty
 *  environment, as cron would. */
export function runGlidein(
  argv: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): { code: number | null; stdout: string; stderr: string } {
  const r = Bun.spawnSync([process.execPath, MAIN, ...argv], {
    env: options.env ?? {},
    ...(options.cwd ? { cwd: options.cwd } : {}),
  })
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() }
}

/** A `glidein serve` started by `startServe()`. */
export interface ServeProcess {
  proc: Bun.Subprocess<"ignore", "ignore", "pipe">
  /** Where it listens, e.g. `http://127.0.0.1:40123`. */
  url: string
  /** Its whole log (stderr), once it has exited. */
  log: () => Promise<string>
}

/**
 * Starts `glidein serve --host 127.0.0.1 --port 0 ...args` (tracked, so `cleanUp()` kills it)
 * and resolves once it says where it listens. Its log is read on, so a full pipe never
 * stalls it.
 */
export async function startServe(args: string[]): Promise<ServeProcess> {
  const proc = track(
    Bun.spawn([process.execPath, MAIN, "serve", "--host", "127.0.0.1", "--port", "0", ...args], {
      stdin: "ignore",
      stdout: "ignore",
      stderr: "pipe",
    }),
  )
  const reader = proc.stderr.getReader()
  const decoder = new TextDecoder()
  let log = ""
  let url: string | undefined
  while (url === undefined) {
    const { done, value } = await reader.read()
    if (done) throw new Error(`serve exited before listening:\n${log}`)
    log += decoder.decode(value, { stream: true })
    url = /listening on (http:\/\/\S+)/.exec(log)?.[1]
  }
  const rest = (async () => {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return log
      log += decoder.decode(value, { stream: true })
    }
  })()
  return { proc, url, log: () => rest }
}

/**
 * The snapshot of a good poll of `rows` at `polledAt` (ms), the next one due five minutes
 * later; `over` replaces any field.
 */
export function demandSnapshot(
  rows: DemandRow[] | null,
  polledAt: number,
  over: Partial<DemandSnapshot> = {},
): DemandSnapshot {
  return {
    rows,
    rowsJson: JSON.stringify(rows),
    jobs: rows?.reduce((n, r) => n + r.count, 0) ?? 0,
    badLines: 0,
    updated: polledAt,
    error: null,
    errorAt: null,
    lastPoll: polledAt,
    nextPoll: polledAt + 300_000,
    source: "condor_q",
    ...over,
  }
}

/**
 * Waits (up to about 2 s) for process `pid` to stop running: gone, or a zombie waiting for
 * init. Kills it if it still runs, so a failing test leaves no orphan; false then.
 */
export async function stoppedRunning(pid: number): Promise<boolean> {
  const running = () => {
    try {
      return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"))
    } catch {
      return false
    }
  }
  for (let i = 0; i < 200 && running(); i++) await Bun.sleep(10)
  if (!running()) return true
  process.kill(pid, "SIGKILL")
  return false
}
