/**
 * Demand the pool already covers (issue 15, item 6): idle jobs that fit in the free cores,
 * memory and GPUs of glideins that have joined and are not fully claimed will be matched by
 * the negotiator within a cycle; asking the sites for new glideins for them wastes an
 * allocation. Pure: the demand table and the glideins' slots in, the table left and what was
 * taken out.
 *
 * Only room the negotiator is still likely to fill counts: a slot unclaimed for longer than
 * STALE_UNCLAIMED_S (several negotiation cycles) has been passed over by the jobs waiting —
 * their requirements do not match it — and covers nothing; so do the slots of a site the pool
 * flags (the caller leaves them out), or its idle cores would hide the demand from every site
 * that works.
 */
import type { DemandRow } from "../protocol/demand.ts"
import type { GlideinSlot } from "./condor-status-parse.ts"

/** An unclaimed slot older than this (seconds) has been passed over by the jobs waiting. */
export const STALE_UNCLAIMED_S = 300

/** Identical free room on `count` glideins. */
interface Rooms {
  cpus: number
  memoryMb: number
  gpus: number
  count: number
}

/** Whether a slot's free room may still be filled by the jobs waiting now. */
function fresh(slot: GlideinSlot): boolean {
  if (slot.state !== "Unclaimed" || slot.cpus <= 0) return false
  if (slot.collectorTime === undefined || slot.enteredState === undefined) return true
  return slot.collectorTime - slot.enteredState <= STALE_UNCLAIMED_S
}

/**
 * The rows with the jobs that fit into unclaimed glidein slots taken out, and how many.
 * Glideins of one site are alike: free room is grouped by shape, so the work grows with the
 * rows and the distinct shapes, not with the slots.
 */
export function coveredDemand(
  rows: readonly DemandRow[],
  slots: readonly GlideinSlot[],
): { rows: DemandRow[]; covered: number } {
  const byShape = new Map<string, Rooms>()
  for (const slot of slots) {
    if (!fresh(slot)) continue
    const room = { cpus: slot.cpus, memoryMb: slot.memoryMb ?? 0, gpus: slot.gpus ?? 0 }
    addRooms(byShape, room, 1)
  }
  if (byShape.size === 0) return { rows: [...rows], covered: 0 }
  // The hardest jobs first (GPUs, then cores, then memory): a room taken by a small job is
  // one a large job that only fits there could not use.
  const order = rows
    .map((row, i) => ({ row, i }))
    .sort(
      (a, b) => b.row.gpus - a.row.gpus || b.row.cpus - a.row.cpus || b.row.memory - a.row.memory,
    )
  const left = rows.map((r) => r.count)
  let covered = 0
  let groups = [...byShape.values()]
  for (const { row, i } of order) {
    if (left[i]! <= 0) continue
    const next = new Map<string, Rooms>()
    for (const rooms of groups) {
      // Whole jobs only; a job without a memory request fits any memory left.
      const perRoom = Math.min(
        row.cpus > 0 ? Math.floor(rooms.cpus / row.cpus) : left[i]!,
        row.memory > 0 ? Math.floor(rooms.memoryMb / row.memory) : left[i]!,
        row.gpus > 0 ? Math.floor(rooms.gpus / row.gpus) : left[i]!,
      )
      if (perRoom <= 0 || left[i]! <= 0) {
        addRooms(next, rooms, rooms.count)
        continue
      }
      // Full rooms first: `full` rooms take perRoom jobs each, one takes the rest.
      const full = Math.min(rooms.count, Math.floor(left[i]! / perRoom))
      const rest = full < rooms.count ? left[i]! - full * perRoom : 0
      const taken = full * perRoom + rest
      left[i]! -= taken
      covered += taken
      addRooms(next, less(rooms, row, perRoom), full)
      if (rest > 0) addRooms(next, less(rooms, row, rest), 1)
      addRooms(next, rooms, rooms.count - full - (rest > 0 ? 1 : 0))
    }
    groups = [...next.values()]
  }
  return { rows: rows.map((row, i) => ({ ...row, count: left[i]! })), covered }
}

function less(rooms: Rooms, row: DemandRow, jobs: number): Omit<Rooms, "count"> {
  return {
    cpus: rooms.cpus - jobs * row.cpus,
    memoryMb: rooms.memoryMb - jobs * row.memory,
    gpus: rooms.gpus - jobs * row.gpus,
  }
}

function addRooms(to: Map<string, Rooms>, room: Omit<Rooms, "count">, count: number): void {
  if (count <= 0 || room.cpus <= 0) return
  const key = `${room.cpus}/${room.memoryMb}/${room.gpus}`
  const had = to.get(key)
  if (had) had.count += count
  else to.set(key, { cpus: room.cpus, memoryMb: room.memoryMb, gpus: room.gpus, count })
}
