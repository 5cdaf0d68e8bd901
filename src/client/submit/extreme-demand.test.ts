/**
 * Demand that passes validation but sits at its edges — every resource at 0, 1 and its bound,
 * a hundred million jobs — planned and rendered for every scheduler, grouped and not. Nothing
 * may throw (one odd row must not stop a run), and every rendered file must carry plain whole
 * numbers: no `NaN`, `Infinity`, `undefined` or exponent notation.
 */
import { afterAll, describe, expect, test } from "bun:test"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseSiteConfig } from "../../config/index.ts"
import { DEMAND_LIMITS, parseDemand, skippedNote } from "../../protocol/demand.ts"
import type { SchedulerName } from "../../schedulers/types.ts"
import { siteSetup } from "../site/site-setup.ts"
import { planRound } from "./plan-round.ts"

const stateRoot = mkdtempSync(join(tmpdir(), "glidein-extreme-"))
afterAll(() => rmSync(stateRoot, { recursive: true, force: true }))

const SCHEDULERS: SchedulerName[] = ["htcondor", "slurm", "pbs", "uge", "sge", "lsf"]

/** Every combination of 0, 1 and the bound for each resource, with the largest count. */
function edgeRows() {
  const edges = (max: number) => [0, 1, max]
  const rows = []
  for (const cpus of edges(DEMAND_LIMITS.cpus))
    for (const memory of edges(DEMAND_LIMITS.memory))
      for (const disk of edges(DEMAND_LIMITS.disk))
        for (const gpus of edges(DEMAND_LIMITS.gpus))
          rows.push({ cpus, memory, disk, gpus, os: null, count: DEMAND_LIMITS.count })
  return rows
}

/** Each resource just over its bound, in a row of its own. */
function overBoundRows() {
  const row = { cpus: 1, memory: 2000, disk: 10000, gpus: 0, os: null, count: 1 }
  return (["cpus", "memory", "disk", "gpus", "count"] as const).map((key) => ({
    ...row,
    [key]: DEMAND_LIMITS[key] + 1,
  }))
}

/** A partition that lets everything through: no per-job maximum below the demand bounds. */
function permissiveSite(scheduler: SchedulerName, groupJobs: boolean) {
  const text = `[Glidein]
address = http://127.0.0.1:9/jsonrpc
site = Edge
[Cluster]
scheduler = ${scheduler}
group_jobs = ${groupJobs ? "True" : "False"}
max_cpus_per_job = 100000000
max_memory_per_job = 100000000000
max_disk_per_job = 100000000000000
max_gpus_per_job = 100000
limit_per_submit = 1000000000
max_total_jobs = 1000000000
max_idle_jobs = 1000000000
`
  const config = parseSiteConfig(text, join(stateRoot, `${scheduler}.ini`))
  return siteSetup(config, { HOME: stateRoot, USER: "edge" }, stateRoot)
}

describe("planRound() with demand at the edges of validation", () => {
  for (const scheduler of SCHEDULERS) {
    for (const groupJobs of [false, true]) {
      test(`planRound() renders only whole numbers for ${scheduler}${groupJobs ? " with group_jobs" : ""}`, () => {
        const setup = permissiveSite(scheduler, groupJobs)
        const counted = setup.partitions.map((partition) => ({
          partition,
          counts: { running: 0, idle: 0 },
        }))
        let placed = 0
        for (const row of edgeRows()) {
          const demand = parseDemand([row], "edge demand").rows
          const { prepared, plan } = planRound(setup, demand, counted)
          placed += prepared.length
          for (const p of prepared) {
            for (const value of Object.values(p.rendered.request))
              expect(Number.isSafeInteger(value)).toBe(true)
            expect(p.rendered.request.cpus).toBeGreaterThanOrEqual(1)
            expect(p.rendered.request.memoryMb).toBeGreaterThanOrEqual(1)
            expect(p.rendered.jobs).toBe(DEMAND_LIMITS.count)
            expect(p.rendered.runs).toBe(groupJobs ? 1 : DEMAND_LIMITS.count)
            for (const text of Object.values(p.rendered.files)) {
              expect(text).not.toMatch(/NaN|Infinity|undefined|\de[+-]\d/)
            }
          }
          for (const u of plan.unplaced) expect(u.reason).not.toBe("")
        }
        // The shapes that need no impossible glidein are placed.
        expect(placed).toBeGreaterThan(0)
      })
    }
  }

  test("planRound() refuses a shape that sizes a glidein of 0 cores or 0 MB and plans the rest", () => {
    const setup = permissiveSite("htcondor", false)
    const counted = setup.partitions.map((partition) => ({
      partition,
      counts: { running: 0, idle: 0 },
    }))
    const row = { cpus: 1, memory: 2000, disk: 10000, gpus: 0, os: null, count: 1 }
    const demand = parseDemand(
      [
        { ...row, cpus: 0 },
        { ...row, memory: 0 },
        { ...row, cpus: 2 },
      ],
      "server",
    ).rows
    const { prepared, plan } = planRound(setup, demand, counted)
    expect(prepared.map((p) => p.planned.resources.cpus)).toEqual([2])
    expect(plan.unplaced.map((u) => u.reason)).toEqual([
      "no partition can run these jobs: [Cluster] a glidein of 0 cores cannot be submitted",
      "no partition can run these jobs: [Cluster] a glidein of 0 MB cannot be submitted",
    ])
  })
})

describe("parseDemand() with rows over the bounds", () => {
  test("parseDemand() skips and counts rows no site could run, and keeps the rest", () => {
    const good = { cpus: 2, memory: 4000, disk: 10000, gpus: 0, os: null, count: 3 }
    const demand = parseDemand([...overBoundRows(), good], "server")
    expect(demand.rows).toEqual([good])
    expect(demand.skipped).toEqual({ rows: 5, first: "cpus 100001 > 100000" })
    expect(skippedNote(demand.skipped!)).toBe(
      "skipped 5 demand rows no site could run: cpus 100001 > 100000, and 4 more",
    )
  })

  test("parseDemand() names each resource over its bound", () => {
    expect(overBoundRows().map((row) => parseDemand([row], "s").skipped?.first)).toEqual([
      "cpus 100001 > 100000",
      "memory 1000000001 > 1000000000",
      "disk 1000000000001 > 1000000000000",
      "gpus 10001 > 10000",
      "count 100000001 > 100000000",
    ])
  })

  test("parseDemand() plans around a job asking 200,000 cpus", () => {
    const setup = permissiveSite("slurm", false)
    const counted = setup.partitions.map((partition) => ({
      partition,
      counts: { running: 0, idle: 0 },
    }))
    const row = { cpus: 1, memory: 2000, disk: 10000, gpus: 0, os: null, count: 2 }
    const demand = parseDemand([{ ...row, cpus: 200_000 }, row], "server")
    expect(skippedNote(demand.skipped!)).toBe(
      "skipped 1 demand row no site could run: cpus 200000 > 100000",
    )
    const { prepared } = planRound(setup, demand.rows, counted)
    expect(prepared.map((p) => p.rendered.jobs)).toEqual([2])
  })
})
