import { expect, test } from "bun:test"
import { configJson, describeConfig, formatWarning } from "./describe.ts"
import { parseSiteConfig } from "./site-config.ts"

const TEXT = `[Glidein]
address = http://pool.example.org:11001/jsonrpc
delay = -1

[Cluster]
scheduler = slurm
max_total_jobs = 40
running_cmd = squeue -h -u $USER -n glidein | wc -l
partitions = cpu, gpu

[cpu]
cpu_only = True

[gpu]
gpu_only = True
whole_node = True
whole_node_cpus = 8
whole_node_memory = 64000
whole_node_disk = 100000
limit_per_submit = 0

[SubmitFile]
custom_header = #SBATCH -A abc
  --line two is a continuation--

[StardChecks]
enable_startd_checks = False
`

test("describeConfig() shows each partition's effective settings with where they come from", () => {
  const text = describeConfig(parseSiteConfig(TEXT, "site.ini"))
  const lines = text.split("\n")
  expect(lines[0]).toBe(
    "site.ini: usable; slurm, 2 partitions; demand from http://pool.example.org:11001/jsonrpc",
  )
  expect(text).toContain(
    "\n[Glidein]\n  address    line 2   http://pool.example.org:11001/jsonrpc\n",
  )
  expect(text).toContain("  delay      line 3   -1 (run once)\n")
  // Settings glidein does not use are shown only where the file sets them.
  expect(text).not.toContain("debug")
  expect(text).toContain("\npartition cpu (1 of 2; [cpu] over [Cluster])\n")
  expect(text).toContain("  max_total_jobs      [Cluster] line 7  40\n")
  expect(text).toContain("  cpu_only            line 12           True\n")
  expect(text).toContain(
    "  idle_cmd            default           (the scheduler's built-in command)\n",
  )
  // A whole-node partition's limits are its node size: the max_*_per_job defaults are hidden.
  const gpu = text.slice(text.indexOf("partition gpu"))
  expect(gpu).not.toContain("max_cpus_per_job")
  expect(gpu).toContain("limit_per_submit   line 20           0 (this partition submits nothing)")
  // Continuation lines are indented under their value.
  expect(text).toContain(
    "  custom_header  line 23  #SBATCH -A abc\n                          --line two is a continuation--\n",
  )
  expect(text).toEndWith(
    "\n1 warning:\n  site.ini:26: [StardChecks] unknown section, did you mean [StartdChecks]? Its keys are ignored (pyglidein ignored them too)\n",
  )
})

test("describeConfig() aligns the source and value columns of every block", () => {
  const text = describeConfig(parseSiteConfig(TEXT, "site.ini"))
  const row = /^ {2}\S+ +(default|line \d+|\[\w+\] line \d+) +\S/
  const blocks = text.split("\n\n").slice(1, -1)
  expect(blocks.length).toBe(5)
  for (const block of blocks) {
    const rows = block
      .split("\n")
      .slice(1)
      .map((l) => row.exec(l))
      .filter((m) => m !== null)
    expect(rows.length).toBeGreaterThan(0)
    expect(new Set(rows.map((m) => m.index + m[0].indexOf(m[1]!))).size).toBe(1)
    expect(new Set(rows.map((m) => m[0].length)).size).toBe(1)
  }
})

test("describeConfig() says when demand comes from the command line", () => {
  const config = parseSiteConfig("[Cluster]\nscheduler = pbs\n", "site.ini", {
    demandFromCommandLine: true,
  })
  const text = describeConfig(config)
  expect(text).toStartWith(
    "site.ini: usable; pbs, 1 partition; demand from the command line (--server or --state-file)\n",
  )
  expect(text).toContain("  address    default  (none: given on the command line)\n")
})

test("configJson() is pyglidein's Config dict plus the warnings", () => {
  const config = parseSiteConfig(TEXT, "site.ini")
  const json = configJson(config)
  expect(Object.keys(json)).toEqual([
    "Mode",
    "Glidein",
    "Cluster",
    "SubmitFile",
    "StartdLogging",
    "cpu",
    "gpu",
    "StardChecks",
    "warnings",
  ])
  expect(json.Cluster).toMatchObject({ partitions: ["cpu", "gpu"], max_total_jobs: 40 })
  expect(json.gpu).toMatchObject({ partitions: ["cpu", "gpu"], max_total_jobs: 40, gpu_only: true })
  expect(json.StardChecks).toEqual({ enable_startd_checks: false })
  expect(json.warnings).toEqual(config.warnings.map(formatWarning))
  expect(JSON.parse(JSON.stringify(json))).toEqual(json)
})
