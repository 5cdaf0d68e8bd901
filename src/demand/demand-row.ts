/** One row of the demand table: identical idle jobs grouped, in pyglidein's wire units. */
export interface DemandRow {
  /** RequestCpus (1 when undefined). */
  cpus: number
  /** RequestMemory in MB (2000 when undefined). */
  memory: number
  /** RequestDisk in KiB / 1000, rounded up — pyglidein's unit (10000 when undefined). */
  disk: number
  /** RequestGpus (0 when undefined). */
  gpus: number
  /** Normalized OS requirement (`"sl6"`, `"centos7"`, `"el8"`), or null for any OS. */
  os: string | null
  /** How many idle jobs ask for exactly this. */
  count: number
}

/** What pyglidein assumed for an attribute that condor_q prints as `undefined`. */
export const DEMAND_DEFAULTS = { cpus: 1, memory: 2000, disk: 10000, gpus: 0 } as const

/**
 * Largest resource value published. Every value on the wire is a whole number in
 * [0, MAX_RESOURCE]; a job asking for more is reported as a line that does not parse
 * rather than sent to sites as a number their schedulers cannot take.
 */
export const MAX_RESOURCE = 2_147_483_647

/** Sorts rows for display and for a stable wire order: most jobs first, then by shape. */
export function compareRows(a: DemandRow, b: DemandRow): number {
  return (
    b.count - a.count ||
    a.cpus - b.cpus ||
    a.memory - b.memory ||
    a.disk - b.disk ||
    a.gpus - b.gpus ||
    (a.os ?? "").localeCompare(b.os ?? "")
  )
}
