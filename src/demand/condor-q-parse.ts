/**
 * A streaming parser for `condor_q -af:, RequestCpus RequestMemory RequestDisk RequestGpus
 * Requirements` output that aggregates jobs into demand rows as the bytes arrive.
 *
 * It holds one partial line and the distinct rows, never the whole output: a million jobs
 * (hundreds of MB) parse in constant memory, and nothing is truncated (pyglidein stopped
 * reading at 100 MiB and published the part as the whole). Lines are checked strictly —
 * each of the four numbers is `undefined`, plain decimal digits or a real (rounded up),
 * separated by `, ` — and a line that is not exactly that is counted, never guessed at. The
 * table is then fit for publishing (`fitDemand`): shapes no site could run are set aside and
 * near-identical ones merged.
 */
import { DEMAND_DEFAULTS, type DemandRow } from "./demand-row.ts"
import { fitDemand, type Merged, type SetAside } from "./fit-demand.ts"
import { osRequirement } from "./os-requirement.ts"
import { ShapeTable } from "./shape-table.ts"
import { fingerprint, TextMemo } from "./text-memo.ts"

/** What one condor_q run amounted to. */
export interface CondorQResult {
  /** Aggregated demand, most jobs first, fit for publishing. */
  rows: DemandRow[]
  /** Jobs counted into `rows`. */
  jobs: number
  /** Jobs left out because no site could run them (absent when none). */
  setAside?: SetAside
  /** How near-identical shapes were merged (absent when none were). */
  merged?: Merged
  /** Something the admin should know about the query (set by `runCondorQ`). */
  note?: string
  /** Non-empty lines that did not parse. */
  badLines: number
  /**
   * The first line that did not parse, for the log (1-based line number, reason, text); set
   * exactly when `badLines` > 0.
   */
  firstBad?: { line: number; reason: string; text: string }
}

/** Longer lines are not condor_q output for these five attributes. */
const MAX_LINE = 1 << 20
const NO_OS = 0
const COLUMNS = ["RequestCpus", "RequestMemory", "RequestDisk", "RequestGpus"] as const
/** Values for `undefined`, per column; RequestDisk's is marked -1 and becomes wire units later. */
const FALLBACK = [DEMAND_DEFAULTS.cpus, DEMAND_DEFAULTS.memory, -1, DEMAND_DEFAULTS.gpus]

// Why a line failed, as negative return codes of readColumns (reason = REASONS[-code - 1]).
const REASONS = [
  "expected a number or undefined",
  "line ends early (expected 5 columns)",
  'expected ", " after the value',
]
const CODES = REASONS.length

const isDigit = (c: number | undefined) => c !== undefined && c >= 48 && c <= 57

/**
 * The end of a real's fraction and exponent (`.0`, `.25e+03`) starting at `q`, just after its
 * whole digits, or -1 when what follows is not one.
 */
function realEnd(buf: Uint8Array, q: number, e: number): number {
  if (buf[q] === 46) {
    if (q + 1 >= e || !isDigit(buf[q + 1])) return -1
    q += 2
    while (q < e && isDigit(buf[q])) q++
  }
  if (q < e && (buf[q] === 101 || buf[q] === 69)) {
    q++
    if (q < e && (buf[q] === 43 || buf[q] === 45)) q++
    if (q >= e || !isDigit(buf[q])) return -1
    while (q < e && isDigit(buf[q])) q++
  }
  return q
}

/**
 * Reads the four numeric columns of the line at [s, e) into `out`. Returns the offset where
 * Requirements start, or `-(reason + 1) - CODES * column` when the line does not parse.
 *
 * A value is whole digits, or a real as ClassAds print one (`RequestMemory = MemoryUsage *
 * 1.5` gives `3000.0`), rounded up: a glidein is never smaller than what a job asked for.
 * Any number of digits is read: a value no site could run is set aside later, not lost here.
 */
function readColumns(buf: Buffer, s: number, e: number, out: Float64Array): number {
  let p = s
  for (let col = 0; col < 4; col++) {
    let q = p
    let value = 0
    let c = buf[q]
    if (c === 117) {
      // "undefined", spelled out: this runs for most columns of most lines.
      if (
        p + 9 > e ||
        buf[p + 1] !== 110 ||
        buf[p + 2] !== 100 ||
        buf[p + 3] !== 101 ||
        buf[p + 4] !== 102 ||
        buf[p + 5] !== 105 ||
        buf[p + 6] !== 110 ||
        buf[p + 7] !== 101 ||
        buf[p + 8] !== 100
      )
        return -1 - CODES * col
      value = FALLBACK[col]!
      q = p + 9
    } else {
      while (q < e && c !== undefined && c >= 48 && c <= 57) {
        value = value * 10 + (c - 48)
        c = buf[++q]
      }
      if (q === p) return (q === e ? -2 : -1) - CODES * col
      if (q < e && (c === 46 || c === 101 || c === 69)) {
        const end = realEnd(buf, q, e)
        if (end === -1) return -1 - CODES * col
        value = Math.ceil(Number(buf.toString("latin1", p, end)))
        q = end
      }
    }
    if (q >= e) return -2 - CODES * col
    if (buf[q] !== 44) return -1 - CODES * col
    if (q + 1 >= e || buf[q + 1] !== 32) return -3 - CODES * col
    out[col] = value
    p = q + 2
  }
  return p
}

/**
 * Push-based parser: feed chunks with `push()`, then call `finish()` once.
 * @example
 * const p = new CondorQParser()
 * p.push(new TextEncoder().encode('1, 2000, 10000, undefined, (TARGET.OpSysAndVer == "SL6")\n'))
 * p.finish().rows // [{cpus: 1, memory: 2000, disk: 10, gpus: 0, os: "sl6", count: 1}]
 */
export class CondorQParser {
  // TypeScript `private`, not `#private`: on this per-line path JavaScriptCore's private-name
  // lookups cost a measurable share of the parse.
  private readonly shapes = new ShapeTable()
  // Most queues repeat a few dozen distinct lines a million times: a line seen before skips
  // parsing altogether, and a new line with known Requirements skips the OS analysis.
  private readonly lineMemo = new TextMemo<number>()
  private readonly osMemo = new TextMemo<number>()
  private readonly osNames: (string | null)[] = [null]
  private readonly osIds = new Map<string, number>()
  private readonly columns = new Float64Array(4)
  private carry: Buffer | undefined
  private skippingLongLine = false
  private finished = false
  private lineNumber = 0
  private badLines = 0
  private firstBad: CondorQResult["firstBad"]

  /** Parses every complete line in `chunk` and keeps the incomplete tail for the next push. */
  push(chunk: Uint8Array): void {
    if (this.finished) throw new Error("CondorQParser.push() after finish()")
    const buf = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    let start = 0
    if (this.carry !== undefined || this.skippingLongLine) {
      const nl = buf.indexOf(10)
      if (nl === -1) {
        this.extendCarry(buf, 0, buf.length)
        return
      }
      this.extendCarry(buf, 0, nl)
      this.endCarry()
      start = nl + 1
    }
    const last = buf.lastIndexOf(10)
    if (last >= start) {
      this.lines(buf, start, last)
      start = last + 1
    }
    if (start < buf.length) this.extendCarry(buf, start, buf.length)
  }

  /** Ends the stream (a last line without a newline still counts) and returns the result. */
  finish(): CondorQResult {
    if (!this.finished) {
      this.finished = true
      this.endCarry()
    }
    const fitted = fitDemand(this.shapes.rows((id) => this.osNames[id] ?? null))
    const result: CondorQResult = { rows: fitted.rows, jobs: fitted.jobs, badLines: this.badLines }
    if (fitted.setAside) result.setAside = fitted.setAside
    if (fitted.merged) result.merged = fitted.merged
    if (this.firstBad) result.firstBad = this.firstBad
    return result
  }

  /** Parses the lines in [from, to), where `to` is the offset of the last newline. */
  private lines(buf: Buffer, from: number, to: number): void {
    // One latin1 decode per chunk (latin1 keeps byte offsets) lets lines be compared in place
    // instead of decoded one by one.
    const text = buf.toString("latin1", from, to)
    const shapes = this.shapes
    const memo = this.lineMemo
    let line = this.lineNumber
    let s = from
    while (s <= to) {
      // The string's indexOf is a JIT intrinsic, cheaper than Buffer's for a line's length.
      const nl = text.indexOf("\n", s - from)
      const e = nl === -1 ? to : from + nl
      line++
      if (e > s) {
        const h = fingerprint(buf, s, e)
        const id = memo.get(h, text, s - from, e - s)
        if (id !== undefined) {
          shapes.add(id)
        } else {
          this.lineNumber = line
          if (e - s > MAX_LINE) this.bad(0, buf, s, s, "line longer than 1 MiB")
          else this.parse(buf, text, from, s, e, h)
        }
      }
      s = e + 1
    }
    this.lineNumber = line
  }

  /** A line not seen before: parse it, count it and remember its shape. */
  private parse(buf: Buffer, text: string, base: number, s: number, e: number, h: number): void {
    const columns = this.columns
    const p = readColumns(buf, s, e, columns)
    if (p < 0) {
      this.bad(p, buf, s, e)
      return
    }
    const diskKiB = columns[2]!
    // RequestDisk is KiB; the wire keeps pyglidein's KiB / 1000, rounded up to a whole number.
    const disk = diskKiB === -1 ? DEMAND_DEFAULTS.disk : Math.ceil(diskKiB / 1000)
    const os = this.osOf(buf, text, base, p, e)
    const id = this.shapes.idOf(columns[0]!, columns[1]!, disk, columns[3]!, os)
    this.shapes.add(id)
    // A copy, not text.slice(): a slice keeps the whole chunk's string alive, and a memo of
    // 4,096 lines from as many chunks held 270 MB.
    this.lineMemo.set(h, buf.toString("latin1", s, e), id)
  }

  /** The OS id of the Requirements at [p, e). */
  private osOf(buf: Buffer, text: string, base: number, p: number, e: number): number {
    if (p === e) return NO_OS
    const h = fingerprint(buf, p, e)
    const known = this.osMemo.get(h, text, p - base, e - p)
    if (known !== undefined) return known
    const requirements = buf.toString("latin1", p, e)
    // Only tokenize expressions that mention an OS attribute at all (names are case-blind).
    const os = /opsys(andver|majorver)/i.test(requirements) ? osRequirement(requirements) : null
    let id = NO_OS
    if (os !== null) {
      id = this.osIds.get(os) ?? this.osNames.length
      if (id === this.osNames.length) {
        this.osNames.push(os)
        this.osIds.set(os, id)
      }
    }
    this.osMemo.set(h, requirements, id)
    return id
  }

  private extendCarry(buf: Buffer, from: number, to: number): void {
    if (this.skippingLongLine) return
    const have = this.carry?.length ?? 0
    if (have + (to - from) > MAX_LINE) {
      this.carry = undefined
      this.skippingLongLine = true
      return
    }
    const piece = buf.subarray(from, to)
    this.carry = this.carry ? Buffer.concat([this.carry, piece]) : Buffer.from(piece)
  }

  /** The line collected across chunks is complete: parse it (or count it, if too long). */
  private endCarry(): void {
    const carry = this.carry
    this.carry = undefined
    if (this.skippingLongLine) {
      this.skippingLongLine = false
      this.lineNumber++
      this.bad(0, Buffer.alloc(0), 0, 0, "line longer than 1 MiB")
    } else if (carry !== undefined) {
      this.lines(carry, 0, carry.length)
    }
  }

  private bad(code: number, buf: Buffer, s: number, e: number, reason?: string): void {
    this.badLines++
    if (this.firstBad !== undefined) return
    const why =
      reason ?? `${COLUMNS[Math.floor((-code - 1) / CODES)]}: ${REASONS[(-code - 1) % CODES]}`
    const text = buf.toString("utf8", s, Math.min(e, s + 200))
    this.firstBad = { line: this.lineNumber, reason: why, text }
  }
}

/** Parses a whole condor_q output (a stream, or any iterable of chunks) into demand rows. */
export async function parseCondorQ(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | ReadableStream<Uint8Array>,
): Promise<CondorQResult> {
  const parser = new CondorQParser()
  for await (const chunk of chunks as AsyncIterable<Uint8Array>) parser.push(chunk)
  return parser.finish()
}
