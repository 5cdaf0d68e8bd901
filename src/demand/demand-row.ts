import type { DemandRow } from "../protocol/demand.ts"

export type { DemandRow }

/** What pyglidein assumed for an attribute that condor_q prints as `undefined`. */
export const DEMAND_DEFAULTS = { cpus: 1, memory: 2000, disk: 10000, gpus: 0 } as const

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
