/**
 * Small text helpers with Python's exact notion of whitespace, which ConfigParser uses to
 * strip lines and values (wider than JavaScript's `trim`, e.g. U+001C–U+001F and U+0085).
 */

const PY_SPACE =
  "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
const LEADING = new RegExp(`^[${PY_SPACE}]+`)
const TRAILING = new RegExp(`[${PY_SPACE}]+$`)
/** The first character that is not Python whitespace (`line.search` gives the indent). */
export const PY_NON_SPACE = new RegExp(`[^${PY_SPACE}]`)

/** Python's `str.strip()`. */
export function pyStrip(s: string): string {
  return s.replace(LEADING, "").replace(TRAILING, "")
}

/** Python's `str.rstrip()`. */
export function pyRstrip(s: string): string {
  return s.replace(TRAILING, "")
}

/** A value quoted for a message, shortened so one error stays one line. */
export function quote(s: string, max = 60): string {
  const oneLine = s.includes("\n") ? `${s.slice(0, s.indexOf("\n"))} …` : s
  return JSON.stringify(oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine)
}
