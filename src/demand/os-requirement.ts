/**
 * The OS a job's Requirements expression insists on, from `OpSysAndVer` / `OpSysMajorVer`
 * equality tests that must hold for the whole expression to be true.
 *
 * pyglidein tested for the substring `OpSysAndVer =?= "SL6"`, so `!(OpSysAndVer =?= "SL6")`
 * counted as an SL6 job and `OpSysAndVer == "CentOS7"` as no requirement at all. Here the
 * expression is tokenized and a comparison counts only when nothing can make it optional: it
 * is not negated, not under `||` or `?:`, not an argument of a function, and not an operand
 * of another operator — only `&&` (or plain grouping) joins it to the rest.
 */

type Token = { kind: "str" | "num" | "name" | "op"; text: string }

/** An OS name as published: short, lower-case, nothing a shell or submit file could misread. */
const OS_TOKEN = /^[a-z0-9][a-z0-9._-]{0,31}$/

const OPERATORS = [
  "=?=",
  "=!=",
  "==",
  "!=",
  "<=",
  ">=",
  "&&",
  "||",
  "<<",
  ">>",
  "!",
  "<",
  ">",
  "(",
  ")",
  "[",
  "]",
  "{",
  "}",
  ",",
  "?",
  ":",
  "+",
  "-",
  "*",
  "/",
  "%",
  "&",
  "|",
  "^",
  "~",
  ";",
  "=",
  ".",
]

/** Splits a ClassAd expression into tokens; returns undefined if a string is unterminated. */
function tokenize(expr: string): Token[] | undefined {
  const tokens: Token[] = []
  let i = 0
  const n = expr.length
  outer: while (i < n) {
    const c = expr.charCodeAt(i)
    if (c === 32 || c === 9 || c === 13 || c === 10) {
      i++
      continue
    }
    if (c === 34) {
      let value = ""
      let j = i + 1
      while (j < n) {
        const d = expr.charCodeAt(j)
        if (d === 92 && j + 1 < n) {
          value += expr[j + 1]
          j += 2
          continue
        }
        if (d === 34) {
          tokens.push({ kind: "str", text: value })
          i = j + 1
          continue outer
        }
        value += expr[j]
        j++
      }
      return undefined
    }
    if (isNameStart(c)) {
      let j = i + 1
      // Scoped references (TARGET.OpSysAndVer, MY.x) stay one token.
      while (j < n && (isNameChar(expr.charCodeAt(j)) || expr.charCodeAt(j) === 46)) j++
      tokens.push({ kind: "name", text: expr.slice(i, j) })
      i = j
      continue
    }
    if (c >= 48 && c <= 57) {
      let j = i + 1
      while (j < n && (isNameChar(expr.charCodeAt(j)) || expr.charCodeAt(j) === 46)) j++
      tokens.push({ kind: "num", text: expr.slice(i, j) })
      i = j
      continue
    }
    const op = OPERATORS.find((o) => expr.startsWith(o, i))
    tokens.push({ kind: "op", text: op ?? expr[i] ?? "" })
    i += op?.length ?? 1
  }
  return tokens
}

function isNameStart(c: number): boolean {
  // Non-ASCII letters are not ClassAd names, but reading them as one keeps a stray word
  // from splitting into operators.
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c >= 128
}

function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 48 && c <= 57)
}

/** Which OS attribute a name token refers to, if it is one on the machine side. */
function osAttribute(token: Token | undefined): "andver" | "major" | undefined {
  if (token?.kind !== "name") return undefined
  const name = token.text.toLowerCase()
  if (name === "opsysandver" || name === "target.opsysandver") return "andver"
  if (name === "opsysmajorver" || name === "target.opsysmajorver") return "major"
  return undefined
}

function isEquality(token: Token | undefined): boolean {
  if (token === undefined) return false
  if (token.kind === "op") return token.text === "==" || token.text === "=?="
  return token.kind === "name" && token.text.toLowerCase() === "is"
}

/** Tokens that may stand next to a required term without making it optional. */
function isJoinBefore(token: Token | undefined): boolean {
  return token === undefined || (token.kind === "op" && ["&&", "(", ","].includes(token.text))
}

function isJoinAfter(token: Token | undefined): boolean {
  return token === undefined || (token.kind === "op" && ["&&", ")", ","].includes(token.text))
}

const OPENERS: Record<string, string> = { "(": ")", "[": "]", "{": "}" }

function isOptionalizer(t: Token): boolean {
  return t.kind === "op" && (t.text === "||" || t.text === "?" || t.text === ":")
}

/**
 * The bracket structure of an expression, computed in one pass so that asking whether a term
 * is required costs its nesting depth, not the length of the expression (a walk over the
 * tokens for every comparison made one 400 kB Requirements line take seconds). Undefined
 * when brackets do not match: condor_q prints parsed expressions, so such a line is not one.
 */
class Groups {
  /** Per token: the index of the opening bracket of the group it is in, or -1 at the top. */
  readonly parent: Int32Array
  /** Per opening bracket: the index of its closing bracket. */
  readonly close: Int32Array
  /** Per group (opening bracket index + 1; 0 for the top): an `||`, `?` or `:` directly in it. */
  readonly optional: Uint8Array
  private readonly memo: Int8Array

  private constructor(private readonly tokens: Token[]) {
    const n = tokens.length
    this.parent = new Int32Array(n)
    this.close = new Int32Array(n).fill(-1)
    this.optional = new Uint8Array(n + 1)
    this.memo = new Int8Array(n)
  }

  static of(tokens: Token[]): Groups | undefined {
    const g = new Groups(tokens)
    const stack: number[] = []
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!
      const top = stack.length === 0 ? -1 : stack[stack.length - 1]!
      g.parent[i] = top
      if (t.kind !== "op") continue
      if (OPENERS[t.text] !== undefined) stack.push(i)
      else if (t.text === ")" || t.text === "]" || t.text === "}") {
        if (top === -1 || OPENERS[tokens[top]!.text] !== t.text) return undefined
        g.close[top] = i
        stack.pop()
      } else if (isOptionalizer(t)) g.optional[top + 1] = 1
    }
    return stack.length === 0 ? g : undefined
  }

  /**
   * True when the term spanning tokens [from, to] is required: at every level of brackets
   * around it, it is joined only by `&&`, and no group on the way out is negated, a function
   * call (a name or `)` before its bracket is no join), a list, or an operand of anything but
   * `&&`. Walks out level by level without recursion (a line may nest thousands deep) and
   * remembers each group's answer, since comparisons share their enclosing groups.
   */
  isRequired(from: number, to: number): boolean {
    if (!this.joined(from, to)) return false
    const walked: number[] = []
    let required = true
    for (let open = this.parent[from]!; open !== -1; open = this.parent[open]!) {
      const known = this.memo[open]!
      if (known !== 0) {
        required = known === 1
        break
      }
      walked.push(open)
      if (this.tokens[open]!.text !== "(" || !this.joined(open, this.close[open]!)) {
        required = false
        break
      }
    }
    for (const open of walked) this.memo[open] = required ? 1 : -1
    return required
  }

  /** The term [from, to] is joined by `&&` alone within its group, which has no `||`, `?`, `:`. */
  private joined(from: number, to: number): boolean {
    const t = this.tokens
    return (
      isJoinBefore(t[from - 1]) &&
      isJoinAfter(t[to + 1]) &&
      this.optional[this.parent[from]! + 1] === 0
    )
  }
}

/**
 * The normalized OS a Requirements expression insists on, or null.
 *
 * `OpSysAndVer == "CentOS7"` (or `=?=`, either operand order) gives `"centos7"`;
 * `OpSysMajorVer == 8` alone gives `"el8"`. Conflicting or optional tests give null.
 * @example osRequirement('(TARGET.OpSysAndVer =?= "SL6") && (TARGET.Arch == "X86_64")') // "sl6"
 */
export function osRequirement(requirements: string): string | null {
  const tokens = tokenize(requirements)
  if (tokens === undefined) return null
  const groups = Groups.of(tokens)
  if (groups === undefined) return null
  const andVer = new Set<string>()
  const major = new Set<string>()
  for (let i = 1; i + 1 < tokens.length; i++) {
    if (!isEquality(tokens[i])) continue
    const left = tokens[i - 1]
    const right = tokens[i + 1]
    const attr = osAttribute(left) ?? osAttribute(right)
    const literal = osAttribute(left) ? right : left
    if (attr === undefined || literal === undefined) continue
    if (!groups.isRequired(i - 1, i + 1)) continue
    if (attr === "andver" && literal.kind === "str") {
      const os = literal.text.toLowerCase()
      if (OS_TOKEN.test(os)) andVer.add(os)
    } else if (attr === "major" && literal.kind === "num" && /^\d{1,4}$/.test(literal.text)) {
      major.add(`el${Number(literal.text)}`)
    }
  }
  if (andVer.size > 0) return andVer.size === 1 ? [...andVer][0]! : null
  return major.size === 1 ? [...major][0]! : null
}
