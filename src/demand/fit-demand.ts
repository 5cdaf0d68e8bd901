/**
 * Keeps the published demand table within what every client accepts, and useful, whatever
 * the queue holds. One mistyped job (`RequestCpus = 200000`) would make every client skip its
 * row, and 100,001 distinct shapes (any pool user can queue them) would make every client
 * refuse the whole table. So, before a table is published:
 *
 * - shapes over DEMAND_LIMITS (no site could run them) are set aside and counted;
 * - near-identical values merge: in each resource, values within 5 % of the smallest of their
 *   group become the largest of the group (as IceCube's successor server bins resources
 *   within 5 %). Merging rounds up only, so a merged row never asks less than any job in it,
 *   and never more than 5 % over; 0 never merges with anything (no GPU for a CPU job);
 * - when the table would still have more rows than DEMAND_LIMITS.rows, the tolerance doubles
 *   until it fits, up to MAX_MERGE_PERCENT; if it cannot (too many distinct OS names, or
 *   values spread on purpose), the rows with fewest jobs are set aside and counted. The
 *   tolerance never grows past that bound: a queue made to look different (one user's 100,001
 *   jobs each with its own OS name) must not merge everybody else's jobs into its largest.
 * - at most MAX_OS_NAMES operating systems are published, those with the most jobs; the jobs
 *   of the others are set aside and counted.
 */
import { DEMAND_LIMITS, type DemandRow } from "../protocol/demand.ts"
import { ShapeTable } from "./shape-table.ts"

/** Jobs left out of the published table, and why the largest group of them was. */
export interface SetAside {
  jobs: number
  shapes: number
  /** Why the shape with the most jobs was set aside: `cpus 200000 > 100000`. */
  first: string
}

/** How near-identical shapes were merged. */
export interface Merged {
  /** Distinct shapes before merging. */
  shapes: number
  /** The tolerance used: no merged value is more than this many percent above a job's. */
  withinPercent: number
}

/** A table fit to publish. */
export interface FittedDemand {
  /** Most jobs first; every value within DEMAND_LIMITS, at most DEMAND_LIMITS.rows rows. */
  rows: DemandRow[]
  /** Jobs in `rows`. */
  jobs: number
  /** Absent when no job was set aside. */
  setAside?: SetAside
  /** Absent when no two shapes merged. */
  merged?: Merged
}

/** The tolerance near-identical values always merge within. */
export const MERGE_PERCENT = 5
/** The most a merged value may be above a job's: a glidein a fifth larger than its job is
 *  still one a site runs, and one user's spread of shapes cannot inflate everyone's more. */
export const MAX_MERGE_PERCENT = 20
/** Operating systems published at most (a pool has a handful; 1,000 is far past any). */
export const MAX_OS_NAMES = 1000

const RESOURCES = ["cpus", "memory", "disk", "gpus"] as const

/**
 * Fits `rows` (distinct shapes, most jobs first, as the parser makes them) for publishing.
 * @example
 * fitDemand([{ cpus: 1, memory: 2000, disk: 10, gpus: 0, os: null, count: 3 },
 *            { cpus: 1, memory: 2048, disk: 10, gpus: 0, os: null, count: 1 }]).rows
 * // [{ cpus: 1, memory: 2048, disk: 10, gpus: 0, os: null, count: 4 }]
 */
export function fitDemand(rows: DemandRow[], maxRows: number = DEMAND_LIMITS.rows): FittedDemand {
  const runnable: DemandRow[] = []
  let setAside: SetAside | undefined
  let largestSetAside = 0
  const setAsideRow = (row: DemandRow, why: string) => {
    setAside ??= { jobs: 0, shapes: 0, first: why }
    setAside.jobs += row.count
    setAside.shapes++
    if (row.count > largestSetAside) {
      largestSetAside = row.count
      setAside.first = why
    }
  }
  const inBounds: DemandRow[] = []
  for (const row of rows) {
    const over = overBound(row)
    if (over === undefined) inBounds.push(row)
    else setAsideRow(row, over)
  }
  const kept = commonOs(inBounds)
  for (const row of inBounds) {
    if (kept.has(row.os)) runnable.push(row)
    else setAsideRow(row, `more than ${MAX_OS_NAMES} operating systems; os ${row.os} has few jobs`)
  }
  const columns = new Columns(runnable)
  let percent = MERGE_PERCENT
  let merge = columns.mergeWithin(percent)
  while (merge.table.shapes > maxRows && !merge.collapsed && percent * 2 <= MAX_MERGE_PERCENT) {
    percent *= 2
    merge = columns.mergeWithin(percent)
  }
  let published = merge.table.rows((id) => columns.osNames[id] ?? null)
  const merged = published.length < runnable.length
  if (published.length > maxRows) {
    for (let i = maxRows; i < published.length; i++) {
      setAsideRow(published[i]!, `more than ${maxRows} shapes after merging within ${percent} %`)
    }
    published = published.slice(0, maxRows)
  }
  let jobs = 0
  for (let i = 0; i < published.length; i++) {
    const row = published[i]!
    jobs += row.count
    // 10^8 idle jobs of one shape is already more than any site will ever run.
    if (row.count > DEMAND_LIMITS.count) published[i] = { ...row, count: DEMAND_LIMITS.count }
  }
  const fitted: FittedDemand = { rows: published, jobs }
  if (setAside !== undefined) fitted.setAside = setAside
  if (merged) fitted.merged = { shapes: runnable.length, withinPercent: percent }
  return fitted
}

/** The MAX_OS_NAMES operating systems with the most jobs (all of them when there are fewer). */
function commonOs(rows: DemandRow[]): Set<string | null> {
  const jobs = new Map<string | null, number>()
  for (const row of rows) jobs.set(row.os, (jobs.get(row.os) ?? 0) + row.count)
  if (jobs.size <= MAX_OS_NAMES) return new Set(jobs.keys())
  const ranked = [...jobs].sort((a, b) => b[1] - a[1])
  return new Set(ranked.slice(0, MAX_OS_NAMES).map(([os]) => os))
}

/** `cpus 200000 > 100000` for the first resource of `row` over its bound, else undefined. */
function overBound(row: DemandRow): string | undefined {
  for (const key of RESOURCES) {
    const max = DEMAND_LIMITS[key]
    const value = row[key]
    // 16 digits and more are not read exactly: said as 1.0e+20, not 99999999999999980000.
    if (value > max) return `${key} ${value < 1e15 ? value : value.toExponential(1)} > ${max}`
  }
  return undefined
}

/**
 * Distinct shapes by column, for merging 600,000 of them in a fraction of a second: each
 * resource's distinct values sorted once, and each shape's index into them.
 */
class Columns {
  readonly osNames: (string | null)[] = []
  private readonly os: Int32Array
  private readonly counts: Float64Array
  /** Per resource: its distinct values, ascending. */
  private readonly values: Float64Array[]
  /** Per resource: for each shape, the index of its value in `values`. */
  private readonly index: Int32Array[]

  constructor(rows: DemandRow[]) {
    const n = rows.length
    const osIds = new Map<string | null, number>()
    this.os = new Int32Array(n)
    this.counts = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      const row = rows[i]!
      let os = osIds.get(row.os)
      if (os === undefined) {
        os = this.osNames.length
        this.osNames.push(row.os)
        osIds.set(row.os, os)
      }
      this.os[i] = os
      this.counts[i] = row.count
    }
    this.values = []
    this.index = []
    for (const key of RESOURCES) {
      const column = new Float64Array(n)
      for (let i = 0; i < n; i++) column[i] = rows[i]![key]
      const sorted = column.slice().sort()
      let k = 0
      for (let i = 0; i < n; i++)
        if (i === 0 || sorted[i] !== sorted[k - 1]) sorted[k++] = sorted[i]!
      const values = sorted.slice(0, k)
      const index = new Int32Array(n)
      for (let i = 0; i < n; i++) index[i] = lowerBound(values, column[i]!)
      this.values.push(values)
      this.index.push(index)
    }
  }

  /**
   * The shapes with each resource's values merged within `percent`, regrouped; `collapsed`
   * when no resource has two non-zero groups left (a wider tolerance changes nothing).
   */
  mergeWithin(percent: number): { table: ShapeTable; collapsed: boolean } {
    let collapsed = true
    const reps = this.values.map((values) => {
      const { rep, groups } = representatives(values, percent)
      if (groups > 1) collapsed = false
      return rep
    })
    const [cpus, memory, disk, gpus] = reps as [
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
    ]
    const [ci, mi, di, gi] = this.index as [Int32Array, Int32Array, Int32Array, Int32Array]
    const table = new ShapeTable()
    for (let i = 0; i < this.counts.length; i++) {
      const id = table.idOf(
        cpus[ci[i]!]!,
        memory[mi[i]!]!,
        disk[di[i]!]!,
        gpus[gi[i]!]!,
        this.os[i]!,
      )
      table.addMany(id, this.counts[i]!)
    }
    return { table, collapsed }
  }
}

/**
 * For ascending distinct `values`, the value each merges into: the largest value within
 * `percent` above the smallest of its group (greedy from the smallest, so every value's
 * representative is within `percent` of it). 0 stays 0. `groups` counts the non-zero groups.
 */
function representatives(
  values: Float64Array,
  percent: number,
): { rep: Float64Array; groups: number } {
  const rep = new Float64Array(values.length)
  let groups = 0
  for (let i = 0; i < values.length; ) {
    const low = values[i]!
    let j = i
    if (low > 0) {
      groups++
      // Whole values below 2^40 times 100: exact.
      while (j + 1 < values.length && values[j + 1]! * 100 <= low * (100 + percent)) j++
    }
    rep.fill(values[j]!, i, j + 1)
    i = j + 1
  }
  return { rep, groups }
}

/** The index of `value` in ascending `values` (which hold it). */
function lowerBound(values: Float64Array, value: number): number {
  let lo = 0
  let hi = values.length - 1
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (values[mid]! < value) lo = mid + 1
    else hi = mid
  }
  return lo
}
