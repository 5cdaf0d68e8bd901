/**
 * @module
 * What `--dry-run` (and `status --config`) show: the plan as text for people and as one JSON
 * object for scripts. Pure formatting of values computed elsewhere.
 */
import type { DemandRow } from "../../protocol/demand.ts"
import type { DemandShape, Unplaced } from "../site/plan-submissions.ts"
import type { PreparedSubmission } from "../site/prepare-submissions.ts"
import type { PartitionRound } from "./plan-round.ts"
import { describeCommand } from "./submit-prepared.ts"

/** What a report shows of a partition: its names, its counts and limit or why they are
 *  unknown. */
type Shown = Pick<PartitionRound, "outcome" | "error"> & {
  partition: { name: string; scheduler: { name: string } }
}

/** Everything one planned round shows. */
export interface RoundReport {
  source: string
  demand: DemandRow[]
  partitions: Shown[]
  prepared: PreparedSubmission[]
  unplaced: Unplaced[]
  /** Things worth knowing that do not stop the run (a missing tarball in a dry run). */
  notes: string[]
}

/** The `--dry-run --json` object. */
export function reportJson(report: RoundReport) {
  return {
    submissions: report.prepared.map((p) => ({
      partition: p.planned.partition,
      scheduler: p.scheduler.name,
      ...requestJson(p),
      env: { ...p.spec.env, ...p.spec.roundEnv },
      argv: p.argv,
      runs: p.rendered.runs,
      cwd: p.submitDir,
      ...(p.stdinFile ? { stdin: p.stdinFile } : {}),
      files: p.rendered.files,
    })),
    unplaced: report.unplaced.map((u) => ({ shape: u.shape, count: u.count, reason: u.reason })),
    partitions: report.partitions.map(partitionJson),
    notes: report.notes,
  }
}

/** How many glideins a submission makes and what each asks the batch system for, as JSON. */
export function requestJson(p: PreparedSubmission) {
  const r = p.rendered.request
  return {
    count: p.rendered.jobs,
    cpus: r.cpus,
    memory_mb: r.memoryMb,
    disk_kb: r.diskKb,
    gpus: r.gpus,
    walltime_s: r.walltimeS,
  }
}

/** One partition as JSON (`--dry-run --json`, `status --config --json`): its counts and
 *  limit, or why they are unknown. */
export function partitionJson(line: Shown) {
  return {
    partition: line.partition.name,
    scheduler: line.partition.scheduler.name,
    ...(line.outcome
      ? {
          running: line.outcome.running,
          idle: line.outcome.idle,
          limit: line.outcome.limit,
          limit_by: line.outcome.limitBy,
        }
      : {}),
    ...(line.error !== undefined ? { error: line.error } : {}),
  }
}

/** The report as text; `files` adds the rendered files. */
export function reportText(report: RoundReport, options: { files: boolean }): string {
  const jobs = report.demand.reduce((n, row) => n + row.count, 0)
  const out = [
    `Demand from ${report.source}: ${plural(jobs, "idle job")} in ${plural(report.demand.length, "shape")}.`,
  ]
  for (const line of report.partitions) {
    out.push("")
    const { name, scheduler } = line.partition
    if (!line.outcome) {
      out.push(`[${name}] ${scheduler.name}: skipped: ${line.error ?? "no counts"}`)
      continue
    }
    const o = line.outcome
    out.push(
      `[${o.partition}] ${scheduler.name}: ${o.running} running, ${o.idle} idle; limit ${o.limit} (${o.limitBy})`,
    )
    const mine = report.prepared.filter((p) => p.planned.partition === name)
    if (mine.length === 0) out.push("  nothing to submit")
    for (const p of mine) {
      out.push(`  ${plural(p.rendered.jobs, "glidein")} of ${describeResources(p)}`)
      for (const served of p.planned.serves) {
        out.push(`    for ${plural(served.count, "job")} of ${describeShape(served.shape)}`)
      }
      const times = p.rendered.runs > 1 ? ` (${p.rendered.runs} times)` : ""
      out.push(`    $ ${describeCommand(p).slice(1, -1)}${times}`, `      in ${p.submitDir}`)
      if (options.files) {
        for (const [name, text] of Object.entries(p.rendered.files)) {
          out.push(
            `    --- ${name} ---`,
            ...text
              .trimEnd()
              .split("\n")
              .map((l) => `    ${l}`),
          )
        }
        out.push(`    --- glidein_start.sh --- (written next to ${p.rendered.submitFile})`)
      }
    }
  }
  if (report.unplaced.length > 0) {
    out.push("", "Not placed:")
    for (const u of report.unplaced) {
      out.push(`  ${plural(u.count, "job")} of ${describeShape(u.shape)}: ${u.reason}`)
    }
  }
  if (report.notes.length > 0) out.push("", ...report.notes.map((n) => `Note: ${n}`))
  return `${out.join("\n")}\n`
}

function describeResources(p: PreparedSubmission): string {
  const r = p.rendered.request
  const hours = r.walltimeS / 3600
  return `${plural(r.cpus, "cpu")}, ${r.memoryMb} MB, disk ${diskMb(r.diskKb)} MB, ${plural(r.gpus, "gpu")}, ${Number.isInteger(hours) ? hours : hours.toFixed(2)} h`
}

/** `1 cpu, 2000 MB, disk 10000 MB, 0 gpus` (+ `, os el7`). */
export function describeShape(shape: DemandShape): string {
  const os = shape.os !== null ? `, os ${shape.os}` : ""
  return `${plural(shape.cpus, "cpu")}, ${shape.memory} MB, disk ${shape.disk} MB, ${plural(shape.gpus, "gpu")}${os}`
}

/** `1 job`, `3 jobs`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`
}

/**
 * A glidein's disk in MB, as people read it everywhere (the demand table's disk is MB, as
 * pyglidein's server sent it); the glidein itself is told KB (HTCondor's DISK).
 */
export function diskMb(diskKb: number): number {
  return Math.round(diskKb / 1024)
}
