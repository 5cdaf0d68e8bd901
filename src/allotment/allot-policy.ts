/**
 * The server's allotment policy: one set of terms by default and overrides per site (by its
 * report name or its token's name), as `[allot]` and `[allot NAME]` of `serve --config` give it.
 */

/** How much of the demand one site is given, and how fast. */
export interface AllotTerms {
  /** Share of demand that several sites can run, against the other sites' weights. */
  weight: number
  /** Glideins (running + queued) kept even without demand. */
  warm: number
  /** Most glideins (running + queued + held) at the site; null for no cap. */
  max: number | null
  /** Queued glideins at most `queuedRatio × running` (but `queuedFloor` always); null: no cap. */
  queuedRatio: number | null
  queuedFloor: number
  /** Fraction of the gap asked for in one round (1: all of it). */
  rampUp: number
  /** Most glideins in one round; null for no cap. */
  perRound: number | null
  /** Consecutive failed rounds before the site is backed off. */
  backoffAfter: number
  /** How long a backed-off site gets nothing before a probe. */
  backoffS: number
  /** Glideins in a probe round. */
  probe: number
}

export interface AllotPolicy {
  defaults: AllotTerms
  /** Overrides by site uuid or token name (a uuid's own entry wins). */
  sites: Record<string, Partial<AllotTerms>>
}

export const DEFAULT_TERMS: AllotTerms = {
  weight: 1,
  warm: 0,
  max: null,
  queuedRatio: null,
  queuedFloor: 10,
  rampUp: 1,
  perRound: null,
  backoffAfter: 3,
  backoffS: 1800,
  probe: 1,
}

export const DEFAULT_POLICY: AllotPolicy = { defaults: DEFAULT_TERMS, sites: {} }

/** The terms of one site: its own entry over its token's over the defaults. */
export function termsFor(policy: AllotPolicy, uuid: string, tokenName: string | null): AllotTerms {
  const byToken = tokenName !== null ? policy.sites[tokenName] : undefined
  const byUuid = Object.hasOwn(policy.sites, uuid) ? policy.sites[uuid] : undefined
  return { ...policy.defaults, ...byToken, ...byUuid }
}
