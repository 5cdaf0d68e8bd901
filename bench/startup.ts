/**
 * Start-up time of the compiled binary: `glidein --version` under `env -i`, as cron runs it,
 * against spawning `/bin/true` the same way in the same run (the cost of a process at all).
 *
 *   bun bench/startup.ts [--binary dist/glidein-linux-x64] [--runs 50] [--smoke]
 *
 * Target (DESIGN.md): ≤ 15 ms for `--version`.
 */
import { existsSync } from "node:fs"
import { parseArgs } from "node:util"
import { median } from "./lib/stats.ts"

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    binary: { type: "string", default: `dist/glidein-linux-${process.arch}` },
    runs: { type: "string", default: "50" },
    smoke: { type: "boolean" },
  },
})
const binary = values.binary ?? ""
const runs = values.smoke ? 5 : Number(values.runs)
if (!existsSync(binary)) {
  console.error(`bench/startup: ${binary} not found; build it first with: bun compile.ts --single`)
  process.exit(2)
}

/** Wall time in ms of one spawn of argv; throws unless it exits 0. */
function once(argv: string[]): number {
  const started = Bun.nanoseconds()
  const result = Bun.spawnSync(argv, { env: {}, stdout: "ignore", stderr: "ignore" })
  const elapsed = (Bun.nanoseconds() - started) / 1e6
  if (!result.success) throw new Error(`${argv.join(" ")} exited with ${result.exitCode}`)
  return elapsed
}

// Round by round, so load that drifts on the shared machine slows all three alike; two
// warm-up rounds first.
const argvs = { reference: ["/bin/true"], version: [binary, "--version"], help: [binary, "--help"] }
const times: Record<keyof typeof argvs, number[]> = { reference: [], version: [], help: [] }
for (let round = 0; round < runs + 2; round++) {
  for (const name of Object.keys(argvs) as (keyof typeof argvs)[]) {
    const elapsed = once(argvs[name])
    if (round >= 2) times[name].push(elapsed)
  }
}
const reference = median(times.reference)
const version = median(times.version)
const help = median(times.help)
const target = 15
console.log(`runs per command: ${runs} (median wall time, env -i, interleaved)`)
console.log(`/bin/true                ${reference.toFixed(2)} ms  (reference)`)
console.log(
  `glidein --version        ${version.toFixed(2)} ms  (${(version / reference).toFixed(1)}× reference; target ≤ ${target} ms: ${version <= target ? "met" : "MISSED"})`,
)
console.log(
  `glidein --help           ${help.toFixed(2)} ms  (${(help / reference).toFixed(1)}× reference)`,
)
