/**
 * Demand the pool already covers (issue 15, item 6): idle jobs that fit in the free cores,
 * memory and GPUs of glideins that have joined and are not fully claimed will be matched by
 * the negotiator within a cycle; asking the sites for new glideins for them wastes an
 * allocation. Pure: the demand table and the glideins' slots in, the table left and what was
 * taken out.
 */
import type { DemandRow } from "../protocol/demand.ts"
import type { GlideinSlot } from "./condor-status-parse.ts"

/** Free room on one glidein: what its unclaimed slots still offer. */
interface Room {
  cpus: number
  memoryMb: number
  gpus: number
}

/** The rows with the jobs that fit into unclaimed glidein slots taken out, and how many. */
export function coveredDemand(
  rows: readonly DemandRow[],
  slots: readonly GlideinSlot[],
): { rows: DemandRow[]; covered: number } {
  const rooms: Room[] = []
  for (const slot of slots) {
    if (slot.state !== "Unclaimed" || slot.cpus <= 0) continue
    rooms.push({ cpus: slot.cpus, memoryMb: slot.memoryMb ?? 0, gpus: slot.gpus ?? 0 })
  }
  if (rooms.length === 0) return { rows: [...rows], covered: 0 }
  // The hardest jobs first (GPUs, then cores, then memory): a room taken by a small job is
  // one a large job that only fits there could not use.
  const order = rows
    .map((row, i) => ({ row, i }))
    .sort(
      (a, b) => b.row.gpus - a.row.gpus || b.row.cpus - a.row.cpus || b.row.memory - a.row.memory,
    )
  const left = rows.map((r) => r.count)
  let covered = 0
  for (const { row, i } of order) {
    for (const room of rooms) {
      if (left[i]! <= 0) break
      // Whole jobs only; a job without a memory request fits any memory left.
      const byCpu = row.cpus > 0 ? Math.floor(room.cpus / row.cpus) : left[i]!
      const byMem = row.memory > 0 ? Math.floor(room.memoryMb / row.memory) : left[i]!
      const byGpu = row.gpus > 0 ? Math.floor(room.gpus / row.gpus) : left[i]!
      const n = Math.min(left[i]!, byCpu, byMem, byGpu)
      if (n <= 0) continue
      room.cpus -= n * row.cpus
      room.memoryMb -= n * row.memory
      room.gpus -= n * row.gpus
      left[i]! -= n
      covered += n
    }
  }
  return { rows: rows.map((row, i) => ({ ...row, count: left[i]! })), covered }
}
