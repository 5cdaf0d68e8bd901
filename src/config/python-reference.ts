/**
 * The Python reference of the config tests (imported by tests only): python3 running
 * testdata/pyglidein_config.py, which reads configs as pyglidein's Config class did.
 */
import path from "node:path"
import type { IniValue } from "./types.ts"

export const hasPython = Bun.which("python3") !== null

/** The reference script; its `typed()` is `ast.literal_eval` as pyglidein applied it. */
export const REFERENCE_SCRIPT = path.join(import.meta.dir, "testdata/pyglidein_config.py")

/** The built-in defaults every config is read over, as pyglidein's client read its own. */
const CLIENT_DEFAULTS = path.join(import.meta.dir, "client-defaults.ini")

/** pyglidein's Config dict for one file, or the exception Python raised reading it. */
type PythonResult = { sections: Record<string, Record<string, IniValue>> } | { error: string }

/** Runs python3 with `args` (and `stdin`) and parses its output as JSON; throws when it fails. */
export function pythonJson(args: string[], stdin?: string): unknown {
  const run = Bun.spawnSync(["python3", ...args], {
    ...(stdin === undefined ? {} : { stdin: new TextEncoder().encode(stdin) }),
  })
  if (run.exitCode !== 0) throw new Error(`python3 failed: ${run.stderr.toString()}`)
  return JSON.parse(run.stdout.toString())
}

/** pyglidein's Config dict of every file (over the client defaults) in one run, by path. */
export function pythonConfigs(files: string[]): Record<string, PythonResult> {
  return pythonJson([REFERENCE_SCRIPT, CLIENT_DEFAULTS, ...files]) as Record<string, PythonResult>
}
