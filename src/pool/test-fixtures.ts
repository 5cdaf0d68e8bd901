/** Test support: glideins of a scripted pool, as condor_status shows their slots. */
import type { GlideinSlot } from "./condor-status-parse.ts"

/**
 * A glidein of `client` as one partitionable slot with `free` cores (2000 MB each, no GPUs)
 * and `claimed` one-core dynamic slots; its startd has started `jobStarts` jobs.
 */
export function glideinSlots(
  name: string,
  client: string,
  free: number,
  claimed = 0,
  jobStarts = 0,
  extra: Partial<GlideinSlot> = {},
): GlideinSlot[] {
  const base = { glidein: name, client, jobStarts, site: client }
  const slots: GlideinSlot[] = [
    {
      ...base,
      name: `slot1@${name}`,
      slotType: "Partitionable",
      state: "Unclaimed",
      cpus: free,
      memoryMb: free * 2000,
      gpus: 0,
      ...extra,
    },
  ]
  for (let i = 1; i <= claimed; i++) {
    slots.push({
      ...base,
      name: `slot1_${i}@${name}`,
      slotType: "Dynamic",
      state: "Claimed",
      cpus: 1,
    })
  }
  return slots
}
