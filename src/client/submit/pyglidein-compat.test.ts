/**
 * Compatibility of whole submit runs with pyglidein 1.1.23 (../shared/golden/pyglidein-client):
 * for every golden config and demand state s1..s6, plan and render a run exactly as
 * `glidein submit --dry-run --assume-empty` does (pyglidein's counts were `echo 0`), and
 * compare the glideins with the ones pyglidein submitted — per partition, their cores,
 * memory, disk, GPUs, wall time, queue and number. The differences are pyglidein's bugs,
 * each named by the test that expects it.
 */
import { afterAll, describe, expect, test } from "bun:test"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { loadSiteConfig } from "../../config/index.ts"
import { parseDemand } from "../../protocol/demand.ts"
import type { Unplaced } from "../site/plan-submissions.ts"
import { siteSetup } from "../site/site-setup.ts"
import { planRound } from "./plan-round.ts"

const GOLDEN = path.resolve(import.meta.dir, "../../..", "../shared/golden/pyglidein-client")
const HAVE_GOLDEN = existsSync(GOLDEN)
if (!HAVE_GOLDEN) console.warn(`client pyglidein-compat: skipped, ${GOLDEN} is absent`)

const stateRoot = mkdtempSync(path.join(tmpdir(), "glidein-compat-"))
afterAll(() => rmSync(stateRoot, { recursive: true, force: true }))

/** One glidein as a batch system sees it. */
interface Glidein {
  partition: string
  queue: string | null
  cpus: number
  memoryMb: number
  diskKb: number
  gpus: number
  walltimeS: number
}

interface Case {
  label: string
  config: string
  state: string
  rc: number
  demand: unknown
  pyglidein: Glidein[]
  /** Partition → glideins launched, from pyglidein's log. */
  launched: Record<string, number>
}

function num(text: string, re: RegExp): number | undefined {
  const m = re.exec(text)
  return m ? Number(m[1]) : undefined
}

/** The queue or partition a rendered job asks for, from its directives. */
function queueOf(text: string): string | null {
  const m = /^#SBATCH --partition=(\S+)/m.exec(text) ?? /^#(?:PBS|BSUB|\$) -q (\S+)/m.exec(text)
  return m ? m[1]! : null
}

/** The glideins one pyglidein submission described (arrays: one per task). */
function pyglideinGlideins(files: string[], partition: string): Glidein[] {
  const all = files.join("\n")
  const walltimeS = num(all, /WALLTIME=(\d+)/)! + 300
  const condor = /^request_cpus=/m.test(all)
  const glidein: Glidein = condor
    ? {
        partition,
        queue: null,
        cpus: num(all, /^request_cpus=(\d+)$/m)!,
        memoryMb: num(all, /^request_memory=(\d+)$/m)!,
        diskKb: num(all, /^request_disk=(\d+)$/m)!,
        gpus: num(all, /^request_gpus=(\d+)$/m) ?? 0,
        walltimeS,
      }
    : {
        partition,
        queue: queueOf(all),
        cpus: num(all, /^CPUS=(\d+)$/m)!,
        memoryMb: num(all, /^MEMORY=(\d+)/m)!,
        diskKb: num(all, /^DISK=(\d+)$/m)!,
        gpus: num(all, /^GPUS=(\d+)$/m) ?? num(all, /^ {2}GPUS=(\d+)$/m)!,
        walltimeS,
      }
  const tasks =
    num(all, /^queue (\d+)$/m) ??
    num(all, /^#(?:PBS|\$) -t \d+-(\d+)$/m) ??
    num(all, /^#BSUB -J .*\[1-(\d+)\]/m) ??
    1
  return Array.from({ length: tasks }, () => glidein)
}

function loadCases(): Case[] {
  const cases: Case[] = []
  for (const config of readdirSync(GOLDEN).sort()) {
    const dir = path.join(GOLDEN, config)
    if (!existsSync(path.join(dir, "config.used"))) continue
    for (const state of readdirSync(dir)
      .filter((s) => /^s\d/.test(s))
      .sort()) {
      const sdir = path.join(dir, state)
      const result = JSON.parse(readFileSync(path.join(sdir, "result.json"), "utf8"))
      const launched: Record<string, number> = {}
      const order: { partition: string; left: number }[] = []
      for (const line of result.launched_lines as string[]) {
        const m = /launched (\d+) glideins on (.+)$/.exec(line)!
        launched[m[2]!] = Number(m[1])
        order.push({ partition: m[2]!, left: Number(m[1]) })
      }
      const pyglidein: Glidein[] = []
      for (const submit of readdirSync(sdir)
        .filter((s) => s.startsWith("submit_"))
        .sort()) {
        const fdir = path.join(sdir, submit, "files")
        const files = readdirSync(fdir).map((f) => readFileSync(path.join(fdir, f), "utf8"))
        // Submissions come in partition order; the log says how many each partition got.
        while (order[0] && order[0].left === 0) order.shift()
        const glideins = pyglideinGlideins(files, order[0]!.partition)
        order[0]!.left -= glideins.length
        pyglidein.push(...glideins)
      }
      cases.push({
        label: `${config}/${state}`,
        config,
        state,
        rc: result.rc,
        demand: result.state,
        pyglidein,
        launched,
      })
    }
  }
  return cases
}

/** What we plan for a case: the glideins, and the demand left unplaced. */
async function ours(c: Case): Promise<{ glideins: Glidein[]; unplaced: Unplaced[] }> {
  const config = await loadSiteConfig(path.join(GOLDEN, c.config, "config.used"))
  const setup = siteSetup(config, { HOME: "/home/user", USER: "user" }, stateRoot)
  const demand = parseDemand(c.demand, c.label).rows
  const counted = setup.partitions.map((partition) => ({
    partition,
    counts: { running: 0, idle: 0 },
  }))
  const { prepared, plan } = planRound(setup, demand, counted)
  const glideins = prepared.flatMap((p) => {
    const r = p.planned.resources
    const text = p.rendered.files[p.rendered.submitFile] ?? ""
    const glidein: Glidein = {
      partition: p.planned.partition,
      queue: p.scheduler.name === "htcondor" ? null : queueOf(text),
      cpus: r.cpus,
      memoryMb: r.memoryMb,
      diskKb: r.diskKb,
      gpus: r.gpus,
      walltimeS: r.walltimeS,
    }
    return Array.from({ length: p.rendered.jobs }, () => glidein)
  })
  return { glideins, unplaced: plan.unplaced }
}

/** A multiset of glideins, comparable with toEqual. */
function tally(glideins: Glidein[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const g of glideins) {
    const key = `[${g.partition}] queue ${g.queue} cpus ${g.cpus} mem ${g.memoryMb} disk ${g.diskKb} gpus ${g.gpus} wall ${g.walltimeS}`
    out[key] = (out[key] ?? 0) + 1
  }
  return out
}

/**
 * pyglidein's bugs, applied to its output to give what a correct run submits:
 * - one GPU job got a glidein in every partition that accepted it (the demand count was not
 *   reduced between partitions): only the first partition's glidein stays;
 * - a core was added whenever memory exceeded mem_per_core, even when the job's own cores
 *   already covered it (lido_quad: 4 cores × 7750 MB hold 17203 MB; pyglidein asked for 5);
 * - a GPU glidein's memory was capped at mem_per_core, below what the job asked
 *   (cluster_pbs_example: a 4000 MB GPU job got a 2700 MB glidein it could never match);
 *   cores are added instead, as for CPU jobs.
 */
const BUGS = {
  gpuInEveryPartition: "one GPU job served in every partition",
  extraCore: "a core added beyond what mem_per_core needs",
  gpuMemoryCap: "GPU glidein memory capped below the job's request",
} as const

function corrected(c: Case, gpuJobs: number): { glideins: Glidein[]; bugs: Set<string> } {
  const bugs = new Set<string>()
  let gpuLeft = gpuJobs
  const glideins: Glidein[] = []
  for (const g of c.pyglidein) {
    if (g.gpus > 0) {
      if (gpuLeft === 0) {
        bugs.add(BUGS.gpuInEveryPartition)
        continue
      }
      gpuLeft--
    }
    if (c.config === "lido_quad.config" && g.cpus === 5 && g.memoryMb === 17203) {
      bugs.add(BUGS.extraCore)
      glideins.push({ ...g, cpus: 4 })
    } else if (c.config === "cluster_pbs_example.config" && g.gpus === 1 && g.memoryMb === 2700) {
      bugs.add(BUGS.gpuMemoryCap)
      glideins.push({ ...g, cpus: 2, memoryMb: 4300 })
    } else {
      glideins.push(g)
    }
  }
  return { glideins, bugs }
}

const cases = HAVE_GOLDEN ? loadCases() : []
const ran = cases.filter((c) => c.rc === 0)

/** What pyglidein should have submitted for case `c`, and which of its bugs that corrects. */
function expected(c: (typeof ran)[number]) {
  const demand = parseDemand(c.demand, c.label).rows
  const gpuJobs = demand.filter((r) => r.gpus > 0).reduce((n, r) => n + r.count, 0)
  return corrected(c, gpuJobs)
}

describe.skipIf(!HAVE_GOLDEN)("pyglidein compatibility of whole runs (golden outputs)", () => {
  /** The bugs the corrections meet over all cases (each bug test also runs on its own). */
  let bugs: Set<string> | undefined
  const seen = (): Set<string> => {
    bugs ??= new Set(ran.flatMap((c) => [...expected(c).bugs]))
    return bugs
  }

  test("the golden outputs cover every config in six demand states", () => {
    expect(new Set(cases.map((c) => c.state)).size).toBe(6)
    expect(cases.length).toBe(27 * 6)
  })

  for (const c of ran) {
    test(`planSubmissions() + render() submit what pyglidein did, bugs aside: ${c.label}`, async () => {
      const want = expected(c)
      const got = await ours(c)
      expect({ case: c.label, glideins: tally(got.glideins) }).toEqual({
        case: c.label,
        glideins: tally(want.glideins),
      })
    })
  }

  test(`pyglidein bug: ${BUGS.gpuInEveryPartition}; ours serves it once`, async () => {
    const bridges = ran.find(
      (c) => c.label === "bridges.config__startdlogs/s3_cpu1_mem4000_disk10000_gpu1_x1",
    )!
    expect(Object.values(bridges.launched)).toEqual([1, 1, 1, 1])
    const got = await ours(bridges)
    expect(got.glideins.map((g) => g.partition)).toEqual(["p100-shared"])
    expect(seen().has(BUGS.gpuInEveryPartition)).toBe(true)
  })

  test(`pyglidein bug: ${BUGS.extraCore}`, () => {
    expect(seen().has(BUGS.extraCore)).toBe(true)
  })

  test(`pyglidein bug: ${BUGS.gpuMemoryCap}`, () => {
    expect(seen().has(BUGS.gpuMemoryCap)).toBe(true)
  })

  test("pyglidein bug: the 8-CPU/64 GB job was placed nowhere, silently; ours says why", async () => {
    for (const c of ran.filter((x) => x.state.startsWith("s4_"))) {
      expect({ case: c.label, submitted: c.pyglidein.length }).toEqual({
        case: c.label,
        submitted: 0,
      })
      const got = await ours(c)
      expect({ case: c.label, reasons: got.unplaced.map((u) => u.reason.split(":")[0]) }).toEqual({
        case: c.label,
        reasons: ["no partition can run these jobs"],
      })
    }
  })

  test("pyglidein bug: send_startd_logs without S3 keys stopped the client before any submission", async () => {
    const crashed = cases.filter((c) => c.rc !== 0)
    expect(new Set(crashed.map((c) => c.config))).toEqual(
      new Set(["bridges.config", "comet.config", "xstream.config"]),
    )
    // The same configs with keys (the __startdlogs variants) are compared above; the
    // crashing ones plan exactly what those do.
    for (const c of crashed.filter((x) => x.state.startsWith("s5_"))) {
      const twin = ran.find((x) => x.label === c.label.replace(".config/", ".config__startdlogs/"))!
      expect(tally((await ours(c)).glideins)).toEqual(tally((await ours(twin)).glideins))
    }
  })
})
