/**
 * One cron-style `glidein submit` run of the compiled binary: demand from a local JSON-RPC
 * server (answered in this process), two count commands (`echo 0`), five submissions with a
 * no-op submit command (`true`), the journal and the monitoring report — against references
 * measured in the same run: `/bin/true` spawned 5 times, and `glidein --version`.
 *
 *   bun bench/submit-run.ts [--binary dist/glidein-linux-x64] [--runs 30] [--smoke]
 *                           [--compare OTHER-BINARY]
 *
 * `--compare` measures another build (say, of the previous commit) in the same rounds, for a
 * before/after that one machine's load cannot skew.
 *
 * Each round runs the three in turn, so a machine whose load drifts (2 shared cores here)
 * slows all three alike and the ratios stay meaningful. CPU time (user + system of the
 * process and the commands it waited for) is printed beside wall time: it counts what the
 * run costs, not how long it waited for a busy core.
 *
 * Target (DESIGN.md): ≤ 30 ms per run (pyglidein: ~100 ms).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { standInTarball } from "../src/tarball/test-support.ts"
import { median } from "./lib/stats.ts"

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    binary: { type: "string", default: `dist/glidein-linux-${process.arch}` },
    runs: { type: "string", default: "30" },
    smoke: { type: "boolean" },
    compare: { type: "string" },
  },
})
const binary = values.binary ?? ""
const other = values.compare
const runs = values.smoke ? 3 : Number(values.runs)
for (const file of [binary, other]) {
  if (file !== undefined && !existsSync(file)) {
    console.error(
      `bench/submit-run: ${file} not found; build it first with: bun compile.ts --single`,
    )
    process.exit(2)
  }
}

// Five shapes, so five submissions of one glidein each.
const demand = [1, 2, 3, 4, 5].map((cpus) => ({
  cpus,
  memory: 2000 * cpus,
  disk: 10000,
  gpus: 0,
  os: null,
  count: 1,
}))
let reports = 0
const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(req) {
    const body = (await req.json()) as { method: string; id: number }
    if (body.method === "monitoring") reports++
    const result = body.method === "get_state" ? demand : "ok"
    return Response.json({ jsonrpc: "2.0", result, id: body.id })
  },
})

const dir = mkdtempSync(join(tmpdir(), "glidein-bench-submit-"))
const config = join(dir, "site.ini")
// A real glidein tarball: a run checks it (once per change of the file) before submitting.
await standInTarball(join(dir, "glidein.tar.gz"))
writeFileSync(
  config,
  `[Glidein]
address = http://127.0.0.1:${server.port}/jsonrpc
site = Bench
cluster = pool.example.org
[Cluster]
scheduler = slurm
submit_command = true
running_cmd = echo 0
idle_cmd = echo 0
mem_per_core = 4000
`,
)
const env = { HOME: dir, PATH: "/usr/bin:/bin", GLIDEIN_STATE_DIR: join(dir, "state") }

interface Sample {
  wallMs: number
  cpuMs: number
}

/** Runs each argv in turn once; wall and CPU time of them all. Throws unless all exit 0. */
async function once(argvs: string[][]): Promise<Sample> {
  const started = Bun.nanoseconds()
  let cpuMs = 0
  for (const argv of argvs) {
    const child = Bun.spawn(argv, { env, stdout: "ignore", stderr: "pipe" })
    const [code, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()])
    if (code !== 0) throw new Error(`${argv.join(" ")} exited with ${code}: ${stderr}`)
    cpuMs += Number(child.resourceUsage()?.cpuTime.total ?? Number.NaN) / 1000
  }
  return { wallMs: (Bun.nanoseconds() - started) / 1e6, cpuMs }
}

const cases: Record<string, string[][]> = {
  reference: Array.from({ length: 5 }, () => ["/bin/true"]),
  version: [[binary, "--version"]],
  submit: [[binary, "submit", "--config", config]],
}
if (other !== undefined) {
  cases.otherVersion = [[other, "--version"]]
  cases.otherSubmit = [[other, "submit", "--config", config]]
}
const samples: Record<string, Sample[]> = Object.fromEntries(
  Object.keys(cases).map((name) => [name, []]),
)
const submitsPerRound = other === undefined ? 1 : 2

try {
  const reportsBefore = reports
  // Two warm-up rounds (page cache, the server's first requests), then `runs` measured ones.
  for (let round = 0; round < runs + 2; round++) {
    for (const [name, argvs] of Object.entries(cases)) {
      const sample = await once(argvs)
      if (round >= 2) samples[name]!.push(sample)
    }
  }
  const journal = readFileSync(
    join(
      env.GLIDEIN_STATE_DIR,
      (await Array.fromAsync(new Bun.Glob("*/journal.jsonl").scan(env.GLIDEIN_STATE_DIR)))[0]!,
    ),
    "utf8",
  )
  const submitted = journal.trim().split("\n").length
  const rounds = (runs + 2) * submitsPerRound
  if (submitted !== 5 * rounds || reports - reportsBefore !== rounds) {
    throw new Error(
      `expected 5 submissions and 1 report per run, got ${submitted} and ${reports - reportsBefore}`,
    )
  }
  const wall = (name: string) => median(samples[name]!.map((s) => s.wallMs))
  const cpu = (name: string) => median(samples[name]!.map((s) => s.cpuMs))
  const row = (label: string, name: string, note: string) =>
    `${label.padEnd(24)} ${wall(name).toFixed(2).padStart(6)} ms  cpu ${cpu(name).toFixed(2).padStart(6)} ms  ${note}`
  const target = 30
  const run = wall("submit")
  console.log(
    `runs: ${runs}, interleaved (medians; each submit run: get_state, 2 counts, 5 submissions, journal, report)`,
  )
  console.log(row("/bin/true × 5", "reference", "(reference: the spawns alone)"))
  console.log(row("glidein --version", "version", "(reference: start-up alone)"))
  console.log(
    row(
      "glidein submit",
      "submit",
      `(${(run / wall("reference")).toFixed(1)}× /bin/true × 5, ${(run / wall("version")).toFixed(1)}× --version; target ≤ ${target} ms: ${run <= target ? "met" : "MISSED"})`,
    ),
  )
  if (other !== undefined) {
    const ratio = (name: string) =>
      `${(wall(name) / wall(`other${name[0]!.toUpperCase()}${name.slice(1)}`)).toFixed(2)}×`
    console.log(
      row(`${other} --version`, "otherVersion", `(the build above takes ${ratio("version")} this)`),
    )
    console.log(
      row(`${other} submit`, "otherSubmit", `(the build above takes ${ratio("submit")} this)`),
    )
  }
} finally {
  server.stop(true)
  rmSync(dir, { recursive: true, force: true })
}
