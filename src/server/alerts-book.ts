/**
 * The alerts' state machine. Each condition (a kind, and for a site's conditions the site:
 * `site-stale:<uuid>`) is ok or firing, and changes state only once the other state has held
 * for a number of observations in a row and a span of time, so a condition that flaps says
 * nothing. A change is returned once, as a transition; every other observation returns
 * nothing. Pure: observations and the clock in, transitions out.
 */

/** What an alert is about. */
export const ALERT_KINDS = [
  "site-stale",
  "site-flagged",
  "condor_q-failing",
  "condor_status-failing",
  "token-expiring",
] as const

export type AlertKind = (typeof ALERT_KINDS)[number]

/** How long a new state must hold before it counts: `polls` observations in a row, spanning
 *  at least `ms` from the first of them. */
export interface Hold {
  polls: number
  ms: number
}

export const DEFAULT_HOLDS: Record<AlertKind, Hold> = {
  // Staleness is a span already (no report for stale_after), and so is a flag (flagSite()'s
  // hour of samples): a second wait would only delay the news.
  "site-stale": { polls: 1, ms: 0 },
  "site-flagged": { polls: 1, ms: 0 },
  // "Keeps failing": one failed poll is a blip that the next poll mends, and the table
  // served meanwhile is the last good one.
  "condor_q-failing": { polls: 3, ms: 0 },
  "condor_status-failing": { polls: 3, ms: 0 },
  "token-expiring": { polls: 1, ms: 0 },
}

/** A condition's change of state. */
export interface Transition {
  kind: AlertKind
  /** The site it is about, or null for the server's own conditions. */
  subject: string | null
  state: "firing" | "resolved"
  /** When the condition began: its first observation (for a resolved one, of the firing). */
  since: number
  /** The first observation of the new state (for a firing one, `since`). */
  from: number
  /** Observations in a row that showed the new state. */
  polls: number
}

interface Condition {
  firing: boolean
  /** Firing since before anyone was told (assume()): it resolves without a word too. */
  quiet: boolean
  /** When the current state's first observation was. */
  since: number
  /** The other state, seen this many times in a row from `since`. */
  pending?: { since: number; polls: number }
}

/** Conditions kept at most: only firing or changing ones are kept, so this is a guard. */
export const MAX_CONDITIONS = 10_000

/** The state of every condition that is firing or about to change. */
export class AlertBook {
  private readonly holds: Record<AlertKind, Hold>
  private readonly conditions = new Map<string, Condition & { kind: AlertKind }>()
  /** Observations not kept because the book was full. */
  overflowed = 0

  constructor(
    holds: Partial<Record<AlertKind, Partial<Hold>>> = {},
    private readonly maxConditions = MAX_CONDITIONS,
  ) {
    this.holds = { ...DEFAULT_HOLDS }
    for (const kind of ALERT_KINDS) this.holds[kind] = { ...DEFAULT_HOLDS[kind], ...holds[kind] }
  }

  /**
   * Records that `kind` for `subject` is (`firing`) or is not the case at `now`; returns the
   * transition when this observation completes a change of state.
   */
  observe(
    kind: AlertKind,
    subject: string | null,
    firing: boolean,
    now: number,
  ): Transition | undefined {
    const key = keyOf(kind, subject)
    let condition = this.conditions.get(key)
    if ((condition?.firing ?? false) === firing) {
      // Back to the state it holds: a change under way is called off, and an ok condition
      // is not kept.
      if (condition?.firing) condition.pending = undefined
      else if (condition) this.conditions.delete(key)
      return undefined
    }
    if (condition === undefined) {
      if (this.conditions.size >= this.maxConditions) {
        this.overflowed++
        return undefined
      }
      condition = { kind, firing: false, quiet: false, since: now }
      this.conditions.set(key, condition)
    }
    condition.pending ??= { since: now, polls: 0 }
    const pending = condition.pending
    pending.polls++
    const hold = this.holds[kind]
    if (pending.polls < hold.polls || now - pending.since < hold.ms) return undefined
    const began = firing ? pending.since : condition.since
    const { quiet } = condition
    if (firing) {
      Object.assign(condition, { firing: true, since: pending.since, pending: undefined })
    } else {
      this.conditions.delete(key)
    }
    if (quiet) return undefined
    return {
      kind,
      subject,
      state: firing ? "firing" : "resolved",
      since: began,
      from: pending.since,
      polls: pending.polls,
    }
  }

  /**
   * Takes `kind` for `subject` as firing since `since` without a transition, and lets it
   * resolve without one: for what was already so before anyone watched (a site stale
   * before the server started was stale before the restart, and said so then).
   */
  assume(kind: AlertKind, subject: string | null, since: number): void {
    const key = keyOf(kind, subject)
    if (this.conditions.has(key) || this.conditions.size >= this.maxConditions) return
    this.conditions.set(key, { kind, firing: true, quiet: true, since })
  }

  /** Whether `kind` for `subject` is firing. */
  isFiring(kind: AlertKind, subject: string | null): boolean {
    return this.conditions.get(keyOf(kind, subject))?.firing ?? false
  }

  /** Whether the book holds anything (firing or changing) for `kind` and `subject`. */
  has(kind: AlertKind, subject: string | null): boolean {
    return this.conditions.has(keyOf(kind, subject))
  }

  /** Drops, without a transition, the conditions of `kind` whose subject `keep` rejects (a
   *  site the store forgot has nothing left to resolve). */
  forget(kind: AlertKind, keep: (subject: string) => boolean): void {
    const prefix = `${kind}:`
    for (const [key, condition] of this.conditions) {
      if (condition.kind === kind && key.startsWith(prefix) && !keep(key.slice(prefix.length))) {
        this.conditions.delete(key)
      }
    }
  }

  /** Conditions held (firing or changing). */
  get size(): number {
    return this.conditions.size
  }
}

/** `site-stale:<uuid>`, or `condor_q-failing` for a condition about the server. */
function keyOf(kind: AlertKind, subject: string | null): string {
  return subject === null ? kind : `${kind}:${subject}`
}
