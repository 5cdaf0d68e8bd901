/**
 * condor_q parse + aggregate: 1M jobs with short (~60 B) and long (~350 B) Requirements,
 * against `cat FILE > /dev/null` on the same file in the same run.
 *
 *   bun bench/condor-q-parse.ts [--jobs 1000000] [--runs 3] [--smoke]
 *
 * Each measurement runs in a fresh process (so its peak RSS is its own):
 *   parse      the file read in 1 MiB blocks into the streaming parser (the parse's cost)
 *   via pipe   `glidein serve`'s real path: condor_q (here `cat FILE`) spawned, its stdout
 *              parsed as it streams
 * Targets (DESIGN.md): ≤ 0.15 s short / ≤ 0.4 s long, ≤ 80 MB RSS, exact counts.
 * pyglidein on this machine: 1.24 s / 365 MB (short); long: 306,692 of 1M jobs counted.
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  writeSync,
} from "node:fs"
import { join, resolve } from "node:path"
import { parseArgs } from "node:util"
import { CondorQParser, runCondorQ, simulatedCondorQ } from "../src/demand/index.ts"

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    jobs: { type: "string", default: "1000000" },
    runs: { type: "string", default: "3" },
    smoke: { type: "boolean" },
    child: { type: "string" },
    mode: { type: "string" },
  },
})

interface Measured {
  /** First parse in a fresh process (JIT not warmed up). */
  cold: number
  /** Best later parse in the same process. */
  warm: number
  /** Peak RSS of the process through its first parse. */
  maxRssMB: number
  jobs: number
  badLines: number
}

// In a child: parse the file three times; the first run is cold (a fresh process, as the
// first poll of `serve`), the best of the others warm (every later poll).
if (values.child) {
  const file = values.child
  const once = async () => {
    const started = Bun.nanoseconds()
    let result: { jobs: number; badLines: number }
    if (values.mode === "pipe") {
      result = await runCondorQ({ program: "cat", argv: [file], timeoutMs: 600_000 })
    } else {
      const parser = new CondorQParser()
      const fd = openSync(file, "r")
      const block = Buffer.allocUnsafe(1 << 20)
      for (;;) {
        const n = readSync(fd, block, 0, block.length, null)
        if (n === 0) break
        parser.push(block.subarray(0, n))
      }
      closeSync(fd)
      result = parser.finish()
    }
    return { seconds: (Bun.nanoseconds() - started) / 1e9, ...result }
  }
  // VmHWM is this process's own peak (getrusage's maxrss survives exec, so it could report
  // the parent's); read after the first run, it is the peak of one poll.
  const peakMB = () => {
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))?.[1]
    return hwm ? Number(hwm) / 1024 : process.resourceUsage().maxRSS / 1024
  }
  const cold = await once()
  const maxRssMB = peakMB()
  const warm = Math.min((await once()).seconds, (await once()).seconds)
  const measured: Measured = {
    cold: cold.seconds,
    warm,
    maxRssMB,
    jobs: cold.jobs,
    badLines: cold.badLines,
  }
  console.log(JSON.stringify(measured))
  process.exit(0)
}

const jobs = values.smoke ? 20_000 : Number(values.jobs)
const runs = values.smoke ? 1 : Number(values.runs)
const dir = resolve(import.meta.dir, "..", ".bench")
mkdirSync(dir, { recursive: true })

function input(long: boolean): string {
  const file = join(dir, `condor-q-${jobs}-${long ? "long" : "short"}.txt`)
  if (!existsSync(file)) {
    const fd = openSync(`${file}.tmp`, "w")
    for (const chunk of simulatedCondorQ({ jobs, long, seed: 1 })) writeSync(fd, chunk)
    closeSync(fd)
    renameSync(`${file}.tmp`, file)
  }
  return file
}

function catSeconds(file: string): number {
  const started = Bun.nanoseconds()
  const result = Bun.spawnSync(["cat", file], { stdout: "ignore", stderr: "inherit" })
  if (!result.success) throw new Error(`cat ${file} failed`)
  return (Bun.nanoseconds() - started) / 1e9
}

function measure(file: string, mode: "parse" | "pipe"): Measured {
  const out = Bun.spawnSync([process.execPath, import.meta.path, "--child", file, "--mode", mode], {
    stderr: "inherit",
  })
  if (!out.success) throw new Error(`child for ${file} (${mode}) failed`)
  return JSON.parse(out.stdout.toString()) as Measured
}

/** Best of `runs` (the machine is shared: the minimum is the least disturbed run). */
function best<T>(f: () => T, key: (t: T) => number): T {
  let found: T | undefined
  for (let i = 0; i < runs; i++) {
    const t = f()
    if (found === undefined || key(t) < key(found)) found = t
  }
  return found as T
}

/** Seconds for 1M jobs; scaled to --jobs. */
const TARGETS = { short: 0.15, long: 0.4 }
const RSS_TARGET_MB = 80
console.log(`condor_q parse + aggregate, ${jobs.toLocaleString("en-US")} jobs, best of ${runs}`)
for (const long of [false, true]) {
  const kind = long ? "long" : "short"
  const file = input(long)
  const mb = statSync(file).size / 1e6
  const cat = best(
    () => catSeconds(file),
    (s) => s,
  )
  const parse = best(
    () => measure(file, "parse"),
    (m) => m.warm,
  )
  const pipe = best(
    () => measure(file, "pipe"),
    (m) => m.warm,
  )
  const exact = parse.jobs === jobs && pipe.jobs === jobs && parse.badLines === 0
  const target = TARGETS[kind] * (jobs / 1_000_000)
  const verdict = (seconds: number, rss: number) =>
    values.smoke
      ? ""
      : `  target ≤ ${target} s, ≤ ${RSS_TARGET_MB} MB: ${seconds <= target && rss <= RSS_TARGET_MB ? "met" : "MISSED"}`
  const row = (name: string, m: Measured, note: string) =>
    `  ${name.padEnd(10)} warm ${m.warm.toFixed(3)} s (${(m.warm / cat).toFixed(1)}× cat, ${(mb / m.warm).toFixed(0)} MB/s)  cold ${m.cold.toFixed(3)} s  peak RSS ${m.maxRssMB.toFixed(0)} MB${note}`
  console.log(`\n${kind} Requirements: ${mb.toFixed(1)} MB`)
  console.log(`  cat > /dev/null  ${cat.toFixed(3)} s  (reference)`)
  console.log(row("parse", parse, verdict(parse.warm, parse.maxRssMB)))
  console.log(row("via pipe", pipe, "  (condor_q = cat FILE, serve's real path)"))
  console.log(
    `  jobs counted     ${parse.jobs.toLocaleString("en-US")} of ${jobs.toLocaleString("en-US")} ${exact ? "(exact)" : "(WRONG)"}`,
  )
  if (!exact) process.exitCode = 1
}
