/** Entries a memo holds; it is emptied when it would hold more. */
const MAX_ENTRIES = 4096
/** Distinct texts kept under one fingerprint before the oldest is dropped. */
const MAX_PER_FINGERPRINT = 16
/**
 * Longer texts are not remembered: a condor_q line is ~340 bytes, and 4,096 lines near the
 * 1 MiB line limit would hold 4 GiB. Such lines are simply parsed each time.
 */
const MAX_MEMO_TEXT = 8192

/**
 * A fingerprint of the bytes [start, end): the length, 8 bytes sampled evenly and the last 8,
 * where variants of one template (site names, user names) usually differ. Cheap, not unique:
 * a `TextMemo` hit is always confirmed against the whole text.
 */
export function fingerprint(buf: Uint8Array, start: number, end: number): number {
  const length = end - start
  let h = length
  const step = length >> 3
  for (let k = 0; k < 8; k++) h = Math.imul(h ^ (buf[start + k * step] ?? 0), 0x9e3779b1)
  for (let k = 1; k <= 8 && k <= length; k++) h = Math.imul(h ^ buf[end - k]!, 0x85ebca6b)
  return h
}

/**
 * A bounded memo from text to a value, keyed by `fingerprint()` and confirmed by comparing
 * the whole text in place (`startsWith` at an offset, native): a fingerprint collision costs
 * time, never a wrong answer.
 *
 * A queue of a million jobs holds a few dozen to a few thousand distinct lines; hashing each
 * ~340-byte line as a Map key would cost more than the rest of the parse.
 */
export class TextMemo<T> {
  private readonly entries = new Map<number, { text: string; value: T }[]>()
  private size = 0

  /** The value remembered for the `length` characters of `text` at `offset`, if any. */
  get(h: number, text: string, offset: number, length: number): T | undefined {
    const candidates = this.entries.get(h)
    if (candidates === undefined) return undefined
    for (let i = 0; i < candidates.length; i++) {
      const c = candidates[i]!
      if (c.text.length === length && text.startsWith(c.text, offset)) return c.value
    }
    return undefined
  }

  /** Remembers `value` for `key`, whose fingerprint is `h`. */
  set(h: number, key: string, value: T): void {
    if (key.length > MAX_MEMO_TEXT) return
    if (this.size >= MAX_ENTRIES) {
      this.entries.clear()
      this.size = 0
    }
    this.size++
    const candidates = this.entries.get(h)
    if (candidates === undefined) {
      this.entries.set(h, [{ text: key, value }])
      return
    }
    if (candidates.length >= MAX_PER_FINGERPRINT) candidates.shift()
    candidates.push({ text: key, value })
  }
}
