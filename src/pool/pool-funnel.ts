/**
 * From the glideins' slots to the funnel the status page shows: each startd folded into one
 * glidein (its partitionable slot's free cores and its dynamic slots' claimed ones), then
 * counted per site, per partition and per tarball. Pure.
 */
import type { GlideinSlot } from "./condor-status-parse.ts"

/** One glidein (one startd) as the pool sees it. */
export interface Glidein {
  /** The startd's name, `glidein_4242_…@node`. */
  name: string
  site: string
  partition: string
  client: string
  batchJobId?: string
  version: string
  /** GLIDEIN_TarballDigest, or `unknown`. */
  tarball: string
  tarballVersion: string
  cores: number
  claimedCores: number
  /** Whether any of its slots is claimed. */
  claimed: boolean
  /** Jobs its startd has started. */
  jobStarts: number
  /** Seconds since its startd started, by the collector's clock (0 when unknown). */
  ageS: number
}

/** What is not advertised is counted under this name. */
export const UNKNOWN = "unknown"

/** Folds the slots into glideins, one per startd, in the order first seen. */
export function glideinsOf(slots: readonly GlideinSlot[]): Glidein[] {
  const byName = new Map<string, Glidein>()
  for (const slot of slots) {
    let g = byName.get(slot.glidein)
    if (!g) {
      g = {
        name: slot.glidein,
        site: slot.site ?? UNKNOWN,
        partition: slot.partition ?? UNKNOWN,
        client: slot.client ?? UNKNOWN,
        version: slot.version ?? UNKNOWN,
        tarball: slot.tarballDigest ?? UNKNOWN,
        tarballVersion: slot.tarballVersion ?? UNKNOWN,
        cores: 0,
        claimedCores: 0,
        claimed: false,
        jobStarts: 0,
        ageS: 0,
      }
      if (slot.batchJobId !== undefined) g.batchJobId = slot.batchJobId
      byName.set(slot.glidein, g)
    }
    g.cores += slot.cpus
    // a partitionable slot is never claimed itself: its Cpus are the cores left unclaimed
    if (slot.state === "Claimed") {
      g.claimedCores += slot.cpus
      g.claimed = true
    }
    g.jobStarts = Math.max(g.jobStarts, slot.jobStarts ?? 0)
    if (slot.collectorTime !== undefined && slot.daemonStart !== undefined) {
      g.ageS = Math.max(g.ageS, slot.collectorTime - slot.daemonStart)
    }
  }
  return [...byName.values()]
}

/** The funnel's numbers for one group of glideins. */
export interface FunnelCounts {
  /** Glideins that joined the pool (startds in the collector). */
  joined: number
  /** Of those, glideins with at least one claimed slot. */
  claimed: number
  /** Joined glideins that have started no job yet. */
  noJobYet: number
  cores: number
  claimedCores: number
  unclaimedCores: number
  /** Jobs started on them, by their startds' own count. */
  jobsStarted: number
}

/** One row of the funnel: a site's glideins from one partition and one tarball. */
export interface FunnelRow extends FunnelCounts {
  site: string
  partition: string
  tarball: string
  tarballVersion: string
}

/** The funnel per site, partition and tarball, and the pool's total. */
export interface PoolFunnel {
  rows: FunnelRow[]
  total: FunnelCounts
}

function zero(): FunnelCounts {
  return {
    joined: 0,
    claimed: 0,
    noJobYet: 0,
    cores: 0,
    claimedCores: 0,
    unclaimedCores: 0,
    jobsStarted: 0,
  }
}

function add(counts: FunnelCounts, g: Glidein): void {
  counts.joined++
  if (g.claimed) counts.claimed++
  if (g.jobStarts === 0) counts.noJobYet++
  counts.cores += g.cores
  counts.claimedCores += g.claimedCores
  counts.unclaimedCores += g.cores - g.claimedCores
  counts.jobsStarted += g.jobStarts
}

/** Counts the glideins per site, partition and tarball (rows sorted by those), and in total. */
export function poolFunnel(glideins: readonly Glidein[]): PoolFunnel {
  const rows = new Map<string, FunnelRow>()
  const total = zero()
  for (const g of glideins) {
    const key = JSON.stringify([g.site, g.partition, g.tarball])
    let row = rows.get(key)
    if (!row) {
      row = {
        site: g.site,
        partition: g.partition,
        tarball: g.tarball,
        tarballVersion: g.tarballVersion,
        ...zero(),
      }
      rows.set(key, row)
    }
    add(row, g)
    add(total, g)
  }
  const sorted = [...rows.values()].sort(
    (a, b) =>
      a.site.localeCompare(b.site) ||
      a.partition.localeCompare(b.partition) ||
      a.tarball.localeCompare(b.tarball),
  )
  return { rows: sorted, total }
}
