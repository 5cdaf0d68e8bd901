/**
 * What a glidein advertises of a text from outside (a site's report name, a partition): the
 * same cut glidein_start.sh's `ad_text` makes, byte by byte as `tr` does in the C locale —
 * anything but letters, digits, space and `._@/:+=,-` becomes `_`, at most 128 bytes. The
 * server compares a site's report name with its glideins' GLIDEIN_Client through it, so
 * "IceCube (UW)" finds the glideins that advertise "IceCube _UW_".
 */
const KEPT = /[A-Za-z0-9 ._@/:+=,-]/

export function adText(text: string): string {
  let out = ""
  for (const byte of new TextEncoder().encode(text)) {
    if (out.length >= 128) break
    const char = String.fromCharCode(byte)
    out += byte < 128 && KEPT.test(char) ? char : "_"
  }
  return out
}
