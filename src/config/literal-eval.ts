/**
 * Python's `ast.literal_eval` for config values, as pyglidein applied it to every value.
 * A tokenizer and recursive-descent parser for exactly the literal forms Python accepts
 * (numbers with underscores and prefixes, every string-literal form with implicit
 * concatenation, lists, tuples, dicts, True/False/None, `#` comments, brackets across lines).
 */
import type { IniValue } from "./types.ts"

/** Thrown inside the parser, caught by `literalEval`. One instance: most config values
 *  are not literals, and capturing a stack trace for each would dominate the parse. */
const NOT_LITERAL = new Error("not a Python literal")

type Token =
  | { kind: "value"; value: boolean | null }
  | { kind: "number"; value: number; float: boolean }
  | { kind: "str"; value: string; bytes: boolean }
  | { kind: "op"; op: string }
  | { kind: "newline" }

const DIGITPART = "[0-9](?:_?[0-9])*"
const EXPONENT = `[eE][+-]?${DIGITPART}`
const FLOAT = `(?:(?:${DIGITPART})?\\.${DIGITPART}|${DIGITPART}\\.)(?:${EXPONENT})?|${DIGITPART}${EXPONENT}`
const IMAGINARY_RE = new RegExp(`(?:${FLOAT}|${DIGITPART})[jJ]`, "y")
const FLOAT_RE = new RegExp(FLOAT, "y")
const PREFIXED_INT_RE = /0(?:[xX](?:_?[0-9a-fA-F])+|[oO](?:_?[0-7])+|[bB](?:_?[01])+)/y
const DECIMAL_INT_RE = /[1-9](?:_?[0-9])*|0+(?:_?0)*/y
const IDENT_CHAR_RE = /[A-Za-z0-9_\u0080-\uffff]/
const STRING_PREFIXES = new Set(["r", "u", "f", "b", "br", "rb", "fr", "rf"])
const SIMPLE_ESCAPES: Record<string, string> = {
  "\\": "\\",
  "'": "'",
  '"': '"',
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
}

/**
 * Evaluates `source` as a Python literal. Returns undefined when Python would refuse it or
 * when the result has no JSON-like form here (bytes, complex numbers, sets, `...`, dicts
 * with non-string keys, infinite floats): pyglidein then kept, or we keep, the text.
 */
export function literalEval(source: string): IniValue | undefined {
  // Python strips leading spaces and tabs before parsing (3.10+).
  const src = source.replace(/^[ \t]+/, "")
  if (src.includes("\0") || !mayBeLiteral(src)) return undefined
  try {
    const parser = new Parser(tokenize(src))
    return parser.parseAll()
  } catch (e) {
    if (e === NOT_LITERAL) return undefined
    throw e
  }
}

/** A quick no for most config values (commands, paths, names), before any parsing. */
function mayBeLiteral(src: string): boolean {
  const first = src[0] ?? ""
  if (/[A-Za-z_]/.test(first)) {
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src)![0]
    if (word === "True" || word === "False" || word === "None") return true
    const next = src[word.length]
    return (next === "'" || next === '"') && STRING_PREFIXES.has(word.toLowerCase())
  }
  return /^[-+0-9.'"([{#\\\n\f]/.test(src) || src === ""
}

function fail(): never {
  throw NOT_LITERAL
}

function tokenize(src: string): Token[] {
  const tokens: Token[] = []
  let depth = 0
  let i = 0
  while (i < src.length) {
    const c = src[i]!
    if (c === " " || c === "\t" || c === "\f") {
      i++
    } else if (c === "#") {
      while (i < src.length && src[i] !== "\n") i++
    } else if (c === "\n") {
      // Inside brackets a newline is just space; outside it ends the expression.
      if (depth === 0) tokens.push({ kind: "newline" })
      i++
    } else if (c === "\\") {
      if (src[i + 1] !== "\n" || i + 2 >= src.length) fail()
      i += 2
    } else if ("([{".includes(c)) {
      depth++
      tokens.push({ kind: "op", op: c })
      i++
    } else if (")]}".includes(c)) {
      depth--
      if (depth < 0) fail()
      tokens.push({ kind: "op", op: c })
      i++
    } else if (",:+-".includes(c)) {
      tokens.push({ kind: "op", op: c })
      i++
    } else if ((c >= "0" && c <= "9") || (c === "." && /[0-9]/.test(src[i + 1] ?? ""))) {
      i = readNumber(src, i, tokens)
    } else if (c === "'" || c === '"') {
      i = readString(src, i, "", tokens)
    } else if (IDENT_CHAR_RE.test(c)) {
      let j = i
      while (j < src.length && IDENT_CHAR_RE.test(src[j]!)) j++
      const word = src.slice(i, j)
      const next = src[j]
      if ((next === "'" || next === '"') && STRING_PREFIXES.has(word.toLowerCase())) {
        i = readString(src, j, word.toLowerCase(), tokens)
      } else {
        if (word === "True") tokens.push({ kind: "value", value: true })
        else if (word === "False") tokens.push({ kind: "value", value: false })
        else if (word === "None") tokens.push({ kind: "value", value: null })
        else fail()
        i = j
      }
    } else {
      fail()
    }
  }
  if (depth !== 0) fail()
  return tokens
}

function matchAt(re: RegExp, src: string, i: number): string | undefined {
  re.lastIndex = i
  return re.exec(src)?.[0]
}

function readNumber(src: string, i: number, tokens: Token[]): number {
  const imaginary = matchAt(IMAGINARY_RE, src, i)
  const float = imaginary === undefined ? matchAt(FLOAT_RE, src, i) : undefined
  const prefixed = imaginary ?? float ?? matchAt(PREFIXED_INT_RE, src, i)
  const text = prefixed ?? matchAt(DECIMAL_INT_RE, src, i)
  if (text === undefined) fail()
  const end = i + text.length
  if (IDENT_CHAR_RE.test(src[end] ?? "")) fail()
  // Complex numbers have no JSON form: the value stays text.
  if (imaginary !== undefined) fail()
  const digits = text.replace(/_/g, "")
  let value: number
  if (float !== undefined) value = Number(digits)
  else if (prefixed !== undefined) value = Number(BigInt(digits))
  else value = Number(digits)
  if (!Number.isFinite(value)) fail()
  tokens.push({ kind: "number", value, float: float !== undefined })
  return end
}

function readString(src: string, start: number, prefix: string, tokens: Token[]): number {
  if (prefix.includes("f")) fail() // an f-string is a JoinedStr, which literal_eval refuses
  const raw = prefix.includes("r")
  const bytes = prefix.includes("b")
  const quote = src[start]!
  const triple = src.startsWith(quote.repeat(3), start)
  const delim = triple ? quote.repeat(3) : quote
  let i = start + delim.length
  const bodyStart = i
  for (;;) {
    if (i >= src.length) fail()
    const c = src[i]!
    if (c === "\\") {
      if (i + 1 >= src.length) fail()
      i += 2
    } else if (src.startsWith(delim, i)) {
      break
    } else if (c === "\n" && !triple) {
      fail()
    } else {
      i++
    }
  }
  const body = src.slice(bodyStart, i)
  tokens.push({ kind: "str", value: raw ? body : decodeEscapes(body, bytes), bytes })
  return i + delim.length
}

function decodeEscapes(body: string, bytes: boolean): string {
  let out = ""
  let i = 0
  while (i < body.length) {
    const c = body[i]!
    if (c !== "\\") {
      out += c
      i++
      continue
    }
    const e = body[i + 1]!
    i += 2
    if (e === "\n") continue
    const simple = SIMPLE_ESCAPES[e]
    if (simple !== undefined) {
      out += simple
    } else if (e >= "0" && e <= "7") {
      const m = /^[0-7]{1,3}/.exec(body.slice(i - 1))![0]
      out += String.fromCharCode(Number.parseInt(m, 8))
      i += m.length - 1
    } else if (e === "x" || (!bytes && (e === "u" || e === "U"))) {
      const n = e === "x" ? 2 : e === "u" ? 4 : 8
      const hex = body.slice(i, i + n)
      if (hex.length !== n || !/^[0-9a-fA-F]+$/.test(hex)) fail()
      const code = Number.parseInt(hex, 16)
      if (code > 0x10ffff) fail()
      out += String.fromCodePoint(code)
      i += n
    } else if (e === "N" && !bytes) {
      fail() // \N{NAME} needs Python's Unicode name table; the value stays text
    } else {
      out += `\\${e}`
    }
  }
  return out
}

class Parser {
  private pos = 0
  constructor(private readonly tokens: Token[]) {}

  parseAll(): IniValue {
    this.skipNewlines()
    const value = this.parseExpressionList(true)
    this.skipNewlines()
    if (this.pos !== this.tokens.length) fail()
    return value
  }

  private skipNewlines(): void {
    while (this.tokens[this.pos]?.kind === "newline") this.pos++
  }

  private isOp(op: string): boolean {
    const t = this.tokens[this.pos]
    return t?.kind === "op" && t.op === op
  }

  private expect(op: string): void {
    if (!this.isOp(op)) fail()
    this.pos++
  }

  /** `a` or `a, b, …` (a tuple, which becomes an array). */
  private parseExpressionList(topLevel: boolean): IniValue {
    const first = this.parseExpression()
    return this.isOp(",") ? this.parseTupleRest(first, topLevel) : first
  }

  private parseTupleRest(first: IniValue, topLevel: boolean): IniValue[] {
    const items = [first]
    while (this.isOp(",")) {
      this.pos++
      if (this.atExpressionEnd(topLevel)) break
      items.push(this.parseExpression())
    }
    return items
  }

  private atExpressionEnd(topLevel: boolean): boolean {
    const t = this.tokens[this.pos]
    if (t === undefined) return topLevel
    if (t.kind === "newline") return topLevel
    return t.kind === "op" && (t.op === ")" || t.op === "]" || t.op === "}")
  }

  private parseExpression(): IniValue {
    return this.parseNode().value
  }

  /** One expression; `number` says whether it is a bare numeric constant (maybe in
   *  parentheses), the only operand Python's literal_eval accepts a sign on. */
  private parseNode(): { value: IniValue; number?: "int" | "float" } {
    const t = this.tokens[this.pos]
    if (t?.kind === "op" && (t.op === "-" || t.op === "+")) {
      this.pos++
      const operand = this.parseNode()
      if (operand.number === undefined || typeof operand.value !== "number") fail()
      if (t.op === "+") return { value: operand.value }
      // Python's int has no negative zero; its float does.
      const negated = operand.number === "int" && operand.value === 0 ? 0 : -operand.value
      return { value: negated }
    }
    const node = this.parseAtom()
    // A literal followed by `+`/`-` is a BinOp: Python accepts only complex ones.
    if (this.isOp("+") || this.isOp("-")) fail()
    return node
  }

  private parseAtom(): { value: IniValue; number?: "int" | "float" } {
    const t = this.tokens[this.pos++]
    if (t === undefined || t.kind === "newline") fail()
    if (t.kind === "number") return { value: t.value, number: t.float ? "float" : "int" }
    if (t.kind === "value") return { value: t.value }
    if (t.kind === "str") return { value: this.parseStrings(t) }
    switch (t.op) {
      case "(": {
        if (this.isOp(")")) {
          this.pos++
          return { value: [] }
        }
        const first = this.parseNode()
        if (this.isOp(")")) {
          this.pos++
          return first
        }
        const inner = this.parseTupleRest(first.value, false)
        this.expect(")")
        return { value: inner }
      }
      case "[": {
        const items: IniValue[] = []
        while (!this.isOp("]")) {
          items.push(this.parseExpression())
          if (!this.isOp(",")) break
          this.pos++
        }
        this.expect("]")
        return { value: items }
      }
      case "{":
        return { value: this.parseBrace() }
      default:
        return fail()
    }
  }

  private parseStrings(first: { value: string; bytes: boolean }): IniValue {
    let value = first.value
    const bytes = first.bytes
    for (let t = this.tokens[this.pos]; t?.kind === "str"; t = this.tokens[this.pos]) {
      if (t.bytes !== bytes) fail()
      value += t.value
      this.pos++
    }
    // Bytes have no JSON form: the value stays text.
    if (bytes) fail()
    return value
  }

  private parseBrace(): IniValue {
    const entries = new Map<string, IniValue>()
    if (this.isOp("}")) {
      this.pos++
      return {}
    }
    for (;;) {
      const key = this.parseExpression()
      // Sets, and dicts whose keys are not strings, have no JSON form.
      if (!this.isOp(":") || typeof key !== "string") fail()
      this.pos++
      entries.set(key, this.parseExpression())
      if (!this.isOp(",")) break
      this.pos++
      if (this.isOp("}")) break
    }
    this.expect("}")
    return Object.fromEntries(entries)
  }
}

/** A config value as pyglidein held it: the literal's value, or else the text itself. */
export function typedValue(text: string): IniValue {
  const value = literalEval(text)
  return value === undefined ? text : value
}
