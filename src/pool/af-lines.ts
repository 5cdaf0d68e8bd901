/**
 * A streaming, bounded reader of HTCondor's `-af:tV` output, which condor_status and
 * condor_history print alike: one ad a line, one tab-separated value a column in ClassAd form
 * (strings quoted, `true`/`false` and `undefined` bare). A line longer than MAX_LINE, with the
 * wrong number of fields or a value of the wrong type is counted, never guessed at; past the
 * most items asked for the answer is marked cut short, since a partial answer undercounts.
 */

/** One `%V` value. */
export type AfValue = string | number | boolean | undefined

/** Longer lines are not `-af:tV` output of the columns asked for. */
export const MAX_LINE = 16 << 10
/** A string value longer than this is not one a glidein or a job carries here. */
const MAX_STRING = 1024
/** The shown text of a bad line is cut to this. */
const SHOWN = 200

/** Reads one `%V` value: a quoted string, a number, a boolean or `undefined`; else an Error. */
export function readAfValue(text: string): AfValue | Error {
  if (text === "undefined") return undefined
  if (text === "true" || text === "false") return text === "true"
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
  return new Error("expected a string, a number, a boolean or undefined")
}

/** What one run's output amounted to. */
export interface AfAnswer<T> {
  items: T[]
  /** Non-empty lines that did not parse. */
  badLines: number
  /** The first line that did not parse (1-based), set exactly when `badLines` > 0. */
  firstBad?: { line: number; reason: string; text: string }
  /** More than the most items asked for: the rest were not read. */
  cutShort?: true
}

/**
 * Parses `-af:tV` output of `columns` pushed in chunks; `itemOf` turns one line's values into
 * an item or the reason they are not one; `finish()` gives the items.
 */
export class AfLineParser<T> {
  private readonly items: T[] = []
  private readonly decoder = new TextDecoder()
  private carry = ""
  private lineNumber = 0
  private badLines = 0
  private firstBad: AfAnswer<T>["firstBad"]
  private cutShort = false
  /** Set while the rest of an over-long line is still arriving. */
  private skipping = false

  constructor(
    private readonly columns: readonly string[],
    private readonly itemOf: (values: AfValue[]) => T | string,
    private readonly maxItems: number,
  ) {}

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

  /** The items; a last line without its newline is counted as bad (the output was cut). */
  finish(): AfAnswer<T> {
    const tail = this.carry + this.decoder.decode()
    if (!this.skipping && tail.trim() !== "") {
      this.bad(tail, "line ends without a newline (output cut short)")
    }
    this.carry = ""
    const result: AfAnswer<T> = { items: this.items, badLines: this.badLines }
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
    const item = this.lineItem(line)
    if (typeof item === "string") this.bad(line, item)
    else if (this.items.length >= this.maxItems) this.cutShort = true
    else this.items.push(item)
  }

  /** The item one line describes, or why it does not. */
  private lineItem(line: string): T | string {
    if (line.length > MAX_LINE) return `longer than ${MAX_LINE} characters`
    const fields = line.split("\t")
    if (fields.length !== this.columns.length) {
      return `expected ${this.columns.length} tab-separated values, got ${fields.length}`
    }
    const values: AfValue[] = []
    for (const [i, field] of fields.entries()) {
      const value = readAfValue(field)
      if (value instanceof Error) return `${this.columns[i]}: ${value.message}`
      values.push(value)
    }
    return this.itemOf(values)
  }

  private bad(text: string, reason: string): void {
    this.badLines++
    this.firstBad ??= { line: this.lineNumber, reason, text: text.slice(0, SHOWN) }
  }
}

/** Why an answer of `tool` with `read` items must not be used — more than `max` `noun`s, or
 *  lines printed of which none parsed — or undefined when it may. */
export function answerFault(
  tool: string,
  answer: Omit<AfAnswer<unknown>, "items">,
  read: number,
  [max, noun]: [number, string],
): string | undefined {
  if (answer.cutShort) return `${tool} printed more than ${max} ${noun}; the rest were not read`
  const bad = answer.firstBad
  if (read > 0 || bad === undefined) return undefined
  return `${tool} printed ${plural(answer.badLines, "line")} and none parsed (first at line ${bad.line}: ${bad.reason}: ${JSON.stringify(bad.text)})`
}

/** The log line for an answer's lines that did not parse beside good ones, if any. */
export function badLinesNote(tool: string, answer: Omit<AfAnswer<unknown>, "items">) {
  const bad = answer.firstBad
  if (bad === undefined) return undefined
  return `${tool}: ${plural(answer.badLines, "line")} did not parse (line ${bad.line}: ${bad.reason})`
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`
}
