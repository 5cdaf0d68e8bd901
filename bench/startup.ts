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

/** Median wall time in ms of `runs` spawns of argv, after two warm-up runs. */
function median(argv: string[]): number {
  const times: number[] = []
  for (let i = 0; i < runs + 2; i++) {
    const started = Bun.nanoseconds()
    const result = Bun.spawnSync(argv, { env: {}, stdout: "ignore", stderr: "ignore" })
    const elapsed = (Bun.nanoseconds() - started) / 1e6
    if (!result.success) throw new Error(`${argv.join(" ")} exited with ${result.exitCode}`)
    if (i >= 2) times.push(elapsed)
  }
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)] ?? Number.NaN
}

const reference = median(["/bin/true"])
const version = median([binary, "--version"])
const help = median([binary, "--help"])
const target = 15
console.log(`runs per command: ${runs} (median wall time, env -i)`)
console.log(`/bin/true                ${reference.toFixed(2)} ms  (reference)`)
console.log(
  `glidein --version        ${version.toFixed(2)} ms  (${(version / reference).toFixed(1)}× reference; target ≤ ${target} ms: ${version <= target ? "met" : "MISSED"})`,
)
console.log(
  `glidein --help           ${help.toFixed(2)} ms  (${(help / reference).toFixed(1)}× reference)`,
)
