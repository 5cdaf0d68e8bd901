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

/**
 * True when the term spanning tokens [from, to] is required: at every level of parentheses
 * around it, it is joined only by `&&`, and no group on the way out is negated, a function
 * call, or an operand of anything but `&&`.
 */
function isRequired(tokens: Token[], from: number, to: number): boolean {
  let start = from
  let end = to
  for (;;) {
    if (!isJoinBefore(tokens[start - 1]) || !isJoinAfter(tokens[end + 1])) return false
    // Walk out to the enclosing group, refusing any `||`, `?` or `:` at this level.
    let depth = 0
    let open = -1
    for (let i = start - 1; i >= 0; i--) {
      const t = tokens[i]
      if (t?.kind !== "op") continue
      if (t.text === ")" || t.text === "]" || t.text === "}") depth++
      else if (t.text === "(" || t.text === "[" || t.text === "{") {
        if (depth === 0) {
          open = i
          break
        }
        depth--
      } else if (depth === 0 && (t.text === "||" || t.text === "?" || t.text === ":")) {
        return false
      }
    }
    depth = 0
    let close = tokens.length
    for (let i = end + 1; i < tokens.length; i++) {
      const t = tokens[i]
      if (t?.kind !== "op") continue
      if (t.text === "(" || t.text === "[" || t.text === "{") depth++
      else if (t.text === ")" || t.text === "]" || t.text === "}") {
        if (depth === 0) {
          close = i
          break
        }
        depth--
      } else if (depth === 0 && (t.text === "||" || t.text === "?" || t.text === ":")) {
        return false
      }
    }
    if (open === -1) return close === tokens.length
    if (tokens[open]?.text !== "(" || close === tokens.length) return false
    // `f(OpSysAndVer == "SL6")` passes the test to a function: its result is unknown.
    const before = tokens[open - 1]
    if (before?.kind === "name" || (before?.kind === "op" && before.text === ")")) return false
    start = open
    end = close
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
  const andVer = new Set<string>()
  const major = new Set<string>()
  for (let i = 1; i + 1 < tokens.length; i++) {
    if (!isEquality(tokens[i])) continue
    const left = tokens[i - 1]
    const right = tokens[i + 1]
    const attr = osAttribute(left) ?? osAttribute(right)
    const literal = osAttribute(left) ? right : left
    if (attr === undefined || literal === undefined) continue
    if (!isRequired(tokens, i - 1, i + 1)) continue
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
