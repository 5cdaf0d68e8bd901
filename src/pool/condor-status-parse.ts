/**
 * A streaming parser for `condor_status -af:tV` over the glidein columns (STARTD_COLUMNS):
 * one slot a line, read by af-lines.ts (bounded like the condor_q parser: a bad line is
 * counted, never guessed at), and past MAX_SLOTS the answer is marked cut short, since a
 * partial pool would undercount every site.
 */

import { type AfAnswer, AfLineParser, type AfValue } from "./af-lines.ts"

export { MAX_LINE } from "./af-lines.ts"

/** What condor_status is asked for, in order (`-af:tV` prints one column each). */
export const STARTD_COLUMNS = [
  "Name",
  "SlotType",
  "State",
  "Activity",
  "Cpus",
  "Memory",
  "GPUs",
  "GLIDEIN_Site",
  "GLIDEIN_ResourceName",
  "GLIDEIN_Partition",
  "GLIDEIN_Client",
  "GLIDEIN_BatchJobId",
  "GLIDEIN_Version",
  "GLIDEIN_TarballDigest",
  "GLIDEIN_TarballVersion",
  "DaemonStartTime",
  "EnteredCurrentState",
  "MyCurrentTime",
  "JobStarts",
  "TotalTimeUnclaimedIdle",
] as const

/** One slot of a glidein's startd, as the collector has it. */
export interface GlideinSlot {
  /** The slot's name, `slot1_1@glidein_4242_…@node`. */
  name: string
  /** The startd it belongs to: the name after the slot's `slotN@`. */
  glidein: string
  /** `Partitionable`, `Dynamic` or `Static`. */
  slotType: string
  /** `Unclaimed`, `Claimed`, … */
  state: string
  activity?: string
  /** Cores: a partitionable slot's are those not yet carved into dynamic ones. */
  cpus: number
  memoryMb?: number
  gpus?: number
  site?: string
  resourceName?: string
  partition?: string
  client?: string
  batchJobId?: string
  version?: string
  tarballDigest?: string
  tarballVersion?: string
  /** Epoch seconds the startd started. */
  daemonStart?: number
  /** Epoch seconds the slot entered its state. */
  enteredState?: number
  /** The collector's clock when it answered (epoch seconds). */
  collectorTime?: number
  /** Jobs the startd has started since it started. */
  jobStarts?: number
  /** Seconds the slot spent unclaimed and idle. */
  unclaimedIdleS?: number
}

/** What one condor_status run amounted to (cutShort: more than MAX_SLOTS slots). */
export interface GlideinAds extends Omit<AfAnswer<GlideinSlot>, "items"> {
  slots: GlideinSlot[]
}

/** More slots than any pool of glideins has: beyond it the answer is not trusted. */
export const MAX_SLOTS = 1_000_000

type Column = (typeof STARTD_COLUMNS)[number]

/** The slot a line's values describe, or the reason it is not one. */
function slotOf(values: AfValue[]): GlideinSlot | string {
  const get = (c: Column) => values[STARTD_COLUMNS.indexOf(c)]
  const text = (c: Column): string | undefined | Error => {
    const v = get(c)
    return v === undefined || typeof v === "string" ? v : new Error(`${c}: expected a string`)
  }
  const number = (c: Column): number | undefined | Error => {
    const v = get(c)
    if (v !== undefined && typeof v !== "number") return new Error(`${c}: expected a number`)
    return v === undefined || v >= 0 ? v : new Error(`${c}: expected a number of at least 0`)
  }
  const name = text("Name")
  const state = text("State")
  const cpus = number("Cpus")
  if (typeof name !== "string" || !name.includes("@")) return "Name: expected slot@startd"
  if (typeof state !== "string") return "State: expected a string"
  if (cpus instanceof Error) return cpus.message
  if (cpus === undefined) return "Cpus: expected a number"
  const slot: GlideinSlot = {
    name,
    glidein: name.slice(name.indexOf("@") + 1),
    slotType: "Static",
    state,
    cpus,
  }
  const strings = [
    ["SlotType", "slotType"],
    ["Activity", "activity"],
    ["GLIDEIN_Site", "site"],
    ["GLIDEIN_ResourceName", "resourceName"],
    ["GLIDEIN_Partition", "partition"],
    ["GLIDEIN_Client", "client"],
    ["GLIDEIN_BatchJobId", "batchJobId"],
    ["GLIDEIN_Version", "version"],
    ["GLIDEIN_TarballDigest", "tarballDigest"],
    ["GLIDEIN_TarballVersion", "tarballVersion"],
  ] as const
  for (const [column, key] of strings) {
    const v = text(column)
    if (v instanceof Error) return v.message
    if (v !== undefined) slot[key] = v
  }
  const numbers = [
    ["Memory", "memoryMb"],
    ["GPUs", "gpus"],
    ["DaemonStartTime", "daemonStart"],
    ["EnteredCurrentState", "enteredState"],
    ["MyCurrentTime", "collectorTime"],
    ["JobStarts", "jobStarts"],
    ["TotalTimeUnclaimedIdle", "unclaimedIdleS"],
  ] as const
  for (const [column, key] of numbers) {
    const v = number(column)
    if (v instanceof Error) return v.message
    if (v !== undefined) slot[key] = v
  }
  return slot
}

/** Parses condor_status output pushed in chunks; `finish()` gives the slots. */
export class GlideinAdParser {
  private readonly lines: AfLineParser<GlideinSlot>

  /** `maxSlots`: more than this many slots mark the answer cut short. */
  constructor(maxSlots = MAX_SLOTS) {
    this.lines = new AfLineParser(STARTD_COLUMNS, slotOf, maxSlots)
  }

  /** Parses every complete line in `chunk`, keeping the incomplete tail. */
  push(chunk: Uint8Array): void {
    this.lines.push(chunk)
  }

  /** The slots; a last line without its newline is counted as bad (the output was cut). */
  finish(): GlideinAds {
    const { items, ...rest } = this.lines.finish()
    return { slots: items, ...rest }
  }
}

/** Parses a whole condor_status answer at once. */
export function parseGlideinAds(text: string): GlideinAds {
  const parser = new GlideinAdParser()
  parser.push(new TextEncoder().encode(text))
  return parser.finish()
}
