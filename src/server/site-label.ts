/**
 * How a site is named for people, on the status page and in `glidein status --server`:
 * its bearer token's name when it used one, then its own uuid.
 */

/** "name (uuid)" when a token name is known, else the uuid. */
export function siteLabel(uuid: string, tokenName: string | null): string {
  return tokenName ? `${tokenName} (${uuid})` : uuid
}

/**
 * `label` cut to at most `max` characters (code points) by an ellipsis in the middle, where
 * two names of one pool differ least: "alice@login1…example.org". Legends and hover texts
 * use it; a uuid may be 200 characters.
 */
export function shortLabel(label: string, max = 40): string {
  const chars = [...label]
  if (chars.length <= max) return label
  const head = Math.ceil((max - 1) / 2)
  const tail = max - 1 - head
  return `${chars.slice(0, head).join("")}…${chars.slice(chars.length - tail).join("")}`
}
