/**
 * One cron-style `glidein submit` run of the compiled binary: demand from a local JSON-RPC
 * server (answered in this process), two count commands (`echo 0`), five submissions with a
 * no-op submit command (`true`), the journal and the monitoring report — against references
 * measured in the same run: `/bin/true` spawned 5 times, and `glidein --version`.
 *
 *   bun bench/submit-run.ts [--binary dist/glidein-linux-x64] [--runs 30] [--smoke]
 *
 * Target (DESIGN.md): ≤ 30 ms per run (pyglidein: ~100 ms).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    binary: { type: "string", default: `dist/glidein-linux-${process.arch}` },
    runs: { type: "string", default: "30" },
    smoke: { type: "boolean" },
  },
})
const binary = values.binary ?? ""
const runs = values.smoke ? 3 : Number(values.runs)
if (!existsSync(binary)) {
  console.error(
    `bench/submit-run: ${binary} not found; build it first with: bun compile.ts --single`,
  )
  process.exit(2)
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
writeFileSync(join(dir, "glidein.tar.gz"), "")
writeFileSync(
  config,
  `[Glidein]
address = http://127.0.0.1:${server.port}/jsonrpc
site = Bench
[Cluster]
scheduler = slurm
submit_command = true
running_cmd = echo 0
idle_cmd = echo 0
mem_per_core = 4000
`,
)
const env = { HOME: dir, PATH: "/usr/bin:/bin", GLIDEIN_STATE_DIR: join(dir, "state") }

/** Wall time in ms of running each argv in turn once; throws unless all exit 0. */
async function once(argvs: string[][]): Promise<number> {
  const started = Bun.nanoseconds()
  for (const argv of argvs) {
    const child = Bun.spawn(argv, { env, stdout: "ignore", stderr: "pipe" })
    const [code, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()])
    if (code !== 0) throw new Error(`${argv.join(" ")} exited with ${code}: ${stderr}`)
  }
  return (Bun.nanoseconds() - started) / 1e6
}

/** Median of `runs` measurements after two warm-up runs. */
async function median(argvs: string[][]): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < runs + 2; i++) {
    const t = await once(argvs)
    if (i >= 2) times.push(t)
  }
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)] ?? Number.NaN
}

try {
  const submit = [binary, "submit", "--config", config]
  const trueFive = Array.from({ length: 5 }, () => ["/bin/true"])
  const reference = await median(trueFive)
  const version = await median([[binary, "--version"]])
  const reportsBefore = reports
  const run = await median([submit])
  const journal = readFileSync(
    join(
      env.GLIDEIN_STATE_DIR,
      (await Array.fromAsync(new Bun.Glob("*/journal.jsonl").scan(env.GLIDEIN_STATE_DIR)))[0]!,
    ),
    "utf8",
  )
  const submitted = journal.trim().split("\n").length
  if (submitted !== 5 * (runs + 2) || reports - reportsBefore !== runs + 2) {
    throw new Error(
      `expected 5 submissions and 1 report per run, got ${submitted} and ${reports - reportsBefore}`,
    )
  }
  const target = 30
  console.log(
    `runs: ${runs} (median wall time; each run: get_state, 2 counts, 5 submissions, journal, report)`,
  )
  console.log(`/bin/true × 5            ${reference.toFixed(2)} ms  (reference: the spawns alone)`)
  console.log(`glidein --version        ${version.toFixed(2)} ms  (reference: start-up alone)`)
  console.log(
    `glidein submit           ${run.toFixed(2)} ms  (${(run / reference).toFixed(1)}× /bin/true × 5, ${(run / version).toFixed(1)}× --version; target ≤ ${target} ms: ${run <= target ? "met" : "MISSED"})`,
  )
} finally {
  server.stop(true)
  rmSync(dir, { recursive: true, force: true })
}
