/**
 * @module
 * JSON from a server or a state file, parsed only when its nesting is shallow. `JSON.parse`
 * of 16 MiB of `[[[[…]]]]` builds eight million arrays and took the client to 770 MB; no reply
 * of ours nests more than a few levels, so the text is scanned first (a pass over its
 * characters, nothing allocated) and refused past MAX_JSON_DEPTH.
 */

/** Deepest nesting of `[` and `{` accepted; demand and status replies need four or five. */
export const MAX_JSON_DEPTH = 64

/** Why a text was not parsed; the message completes "… reply is …" / "state file X is …". */
export class JsonRefused extends Error {
  /** True when the text was refused for its nesting, without being parsed. */
  readonly tooDeep: boolean
  constructor(message: string, tooDeep: boolean) {
    super(message)
    this.tooDeep = tooDeep
  }
}

/** Parses `text` as JSON; throws JsonRefused ("not JSON", "nested deeper than 64 levels"). */
export function parseJsonBounded(text: string, maxDepth = MAX_JSON_DEPTH): unknown {
  if (jsonDepth(text, maxDepth) > maxDepth) {
    throw new JsonRefused(`nested deeper than ${maxDepth} levels`, true)
  }
  try {
    return JSON.parse(text)
  } catch {
    throw new JsonRefused("not JSON", false)
  }
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_LIST = 0x5b
const OPEN_OBJECT = 0x7b
const CLOSE_LIST = 0x5d
const CLOSE_OBJECT = 0x7d

/**
 * The deepest nesting of `[` and `{` outside strings, or `stop + 1` as soon as it passes
 * `stop`. Text that is not JSON gets some number; JSON.parse refuses it afterwards.
 */
export function jsonDepth(text: string, stop = Number.POSITIVE_INFINITY): number {
  let depth = 0
  let deepest = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === BACKSLASH) i++
      else if (c === QUOTE) inString = false
    } else if (c === QUOTE) {
      inString = true
    } else if (c === OPEN_LIST || c === OPEN_OBJECT) {
      if (++depth > deepest) {
        deepest = depth
        if (deepest > stop) return deepest
      }
    } else if (c === CLOSE_LIST || c === CLOSE_OBJECT) {
      depth--
    }
  }
  return deepest
}
