/**
 * A streaming parser for `condor_status -af:tV` over the glidein columns (STARTD_COLUMNS):
 * one slot a line, values tab-separated in ClassAd form (strings quoted, `undefined` bare).
 * It is bounded like the condor_q parser: a line longer than MAX_LINE, with the wrong number
 * of fields or a value of the wrong type is counted, never guessed at, and past MAX_SLOTS the
 * answer is marked cut short, since a partial pool would undercount every site.
 */

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

/** What one condor_status run amounted to. */
export interface GlideinAds {
  slots: GlideinSlot[]
  /** Non-empty lines that did not parse. */
  badLines: number
  /** The first line that did not parse (1-based), set exactly when `badLines` > 0. */
  firstBad?: { line: number; reason: string; text: string }
  /** More than MAX_SLOTS slots: the rest were not read. */
  cutShort?: true
}

/** Longer lines are not condor_status output for these columns. */
export const MAX_LINE = 16 << 10
/** A string value longer than this is not one of the glidein's. */
const MAX_STRING = 1024
/** More slots than any pool of glideins has: beyond it the answer is not trusted. */
export const MAX_SLOTS = 1_000_000
/** The shown text of a bad line is cut to this. */
const SHOWN = 200

type Value = string | number | undefined

/** Reads one `%V` value: a quoted string, a number or `undefined`; an Error when not one. */
function readValue(text: string): Value | Error {
  if (text === "undefined") return undefined
  if (text.startsWith('"')) {
    if (text.length < 2 || !text.endsWith('"') || text.length > MAX_STRING + 2) {
      return new Error("expected a quoted string")
    }
    let out = ""
    for (let i = 1; i < text.length - 1; i++) {
      const c = text[i] as string
      if (c === '"') return new Error("expected a quoted string")
      if (c !== "\\") {
        out += c
        continue
      }
      const next = text[++i]
      if (next === undefined || i === text.length - 1) return new Error("expected a quoted string")
      out += next === "n" ? "\n" : next === "t" ? "\t" : next === "r" ? "\r" : next
    }
    return out
  }
  if (/^-?\d{1,15}(\.\d+)?([eE][+-]?\d{1,3})?$/.test(text)) return Number(text)
  return new Error("expected a string, a number or undefined")
}

type Column = (typeof STARTD_COLUMNS)[number]

/** The slot a line's values describe, or the reason it is not one. */
function slotOf(values: Value[]): GlideinSlot | string {
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

/** The slot one line describes, or why it does not. */
function lineSlot(line: string): GlideinSlot | string {
  if (line.length > MAX_LINE) return `longer than ${MAX_LINE} characters`
  const fields = line.split("\t")
  if (fields.length !== STARTD_COLUMNS.length) {
    return `expected ${STARTD_COLUMNS.length} tab-separated values, got ${fields.length}`
  }
  const values: Value[] = []
  for (const [i, field] of fields.entries()) {
    const value = readValue(field)
    if (value instanceof Error) return `${STARTD_COLUMNS[i]}: ${value.message}`
    values.push(value)
  }
  return slotOf(values)
}

/** Parses condor_status output pushed in chunks; `finish()` gives the slots. */
export class GlideinAdParser {
  private readonly slots: GlideinSlot[] = []
  private readonly decoder = new TextDecoder()
  private carry = ""
  private lineNumber = 0
  private badLines = 0
  private firstBad: GlideinAds["firstBad"]
  private cutShort = false

  /** `maxSlots`: more than this many slots mark the answer cut short. */
  constructor(private readonly maxSlots = MAX_SLOTS) {}

  /** Parses every complete line in `chunk`, keeping the incomplete tail. */
  push(chunk: Uint8Array): void {
    const text = this.carry + this.decoder.decode(chunk, { stream: true })
    const lines = text.split("\n")
    this.carry = lines.pop() ?? ""
    for (const line of lines) this.line(line)
    // a line that never ends is counted once, as what it starts with
    if (this.carry.length > MAX_LINE) {
      this.line(this.carry)
      this.carry = ""
      this.skipping = true
    }
  }

  /** Set while the rest of an over-long line is still arriving. */
  private skipping = false

  /** The slots; a last line without its newline is counted as bad (the output was cut). */
  finish(): GlideinAds {
    const tail = this.carry + this.decoder.decode()
    if (!this.skipping && tail.trim() !== "") {
      this.bad(tail, "line ends without a newline (output cut short)")
    }
    this.carry = ""
    const result: GlideinAds = { slots: this.slots, badLines: this.badLines }
    if (this.firstBad) result.firstBad = this.firstBad
    if (this.cutShort) result.cutShort = true
    return result
  }

  private line(line: string): void {
    if (this.skipping) {
      this.skipping = false
      return
    }
    this.lineNumber++
    if (line.trim() === "") return
    const slot = lineSlot(line)
    if (typeof slot === "string") this.bad(line, slot)
    else if (this.slots.length >= this.maxSlots) this.cutShort = true
    else this.slots.push(slot)
  }

  private bad(text: string, reason: string): void {
    this.badLines++
    this.firstBad ??= { line: this.lineNumber, reason, text: text.slice(0, SHOWN) }
  }
}

/** Parses a whole condor_status answer at once. */
export function parseGlideinAds(text: string): GlideinAds {
  const parser = new GlideinAdParser()
  parser.push(new TextEncoder().encode(text))
  return parser.finish()
}
