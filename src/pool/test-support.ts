/**
 * Test support for the pool watcher's runs: the condor_q stand-in serving as condor_status or
 * condor_history. Nothing here is part of the glidein binary.
 */
import { chmodSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { tempDir } from "../test-support.ts"

/** Prints a file or fails in a chosen way (see its header), recording its argv. */
const FAKE = resolve(import.meta.dir, "../demand/testdata/fake-condor-q.sh")

/** A program named `name` that runs the stand-in in `mode` over `file`; its argv.log is in `dir`. */
export function fakeCondorTool(
  name: string,
  mode: string,
  file: string,
): { program: string; dir: string } {
  const dir = tempDir(`glidein-${name}-`)
  const program = join(dir, name)
  writeFileSync(program, `#!/bin/sh\nexec "${FAKE}" ${mode} "${dir}" "${file}" -- "$@"\n`)
  chmodSync(program, 0o755)
  return { program, dir }
}
