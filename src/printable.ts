/**
 * Text from outside (a server's error message, a redirect's location) made safe to put in a
 * one-line message: control and format characters (newlines, terminal escapes, bidi
 * overrides) are shown as `\uXXXX`, and long text is cut, so it can neither add lines to cron
 * mail nor drive the terminal that shows it.
 */

const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\u2028\u2029]/gu

/** `text` with control characters escaped, at most `maxChars` long (then ending in `…`). */
export function printable(text: string, maxChars = 200): string {
  const cut = text.length > maxChars ? `${text.slice(0, maxChars)}…` : text
  return cut.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)
}
