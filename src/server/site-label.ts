/**
 * How a site is named for people, on the status page and in `glidein status --server`:
 * its bearer token's name when it used one, then its own uuid.
 */

/** "name (uuid)" when a token name is known, else the uuid. */
export function siteLabel(uuid: string, tokenName: string | null): string {
  return tokenName ? `${tokenName} (${uuid})` : uuid
}
