/**
 * @module
 * Helpers shared by tests across folders: temporary directories and child processes that
 * are cleaned up after each test. Test-only; nothing in the product imports it.
 */
import { mkdtempSync, rmSync } from "node:fs"
import os from "node:os"
import path from "node:path"

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

const MAIN = path.join(import.meta.dir, "main.ts")

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
