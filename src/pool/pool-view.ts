/**
 * The pool as the last good condor_status answer showed it, kept through failures by the
 * same rule as the demand table (src/demand/demand-poller.ts): a failed, timed-out or partial
 * poll records why and when, and never replaces the glideins seen last.
 */
import type { GlideinAds, GlideinSlot } from "./condor-status-parse.ts"

/** The glideins' slots as published, with how fresh they are. Immutable. */
export interface PoolView {
  /** The last good answer's slots, or null before the first good poll. */
  slots: GlideinSlot[] | null
  /** Lines of the last good answer that did not parse. */
  badLines: number
  /** When `slots` was polled (ms since the epoch), or null. */
  updated: number | null
  /** Why the latest poll failed, or null when it succeeded. */
  error: string | null
  /** When the latest poll failed (ms), or null. */
  errorAt: number | null
}

/** The view before any poll. */
export const EMPTY_POOL_VIEW: PoolView = {
  slots: null,
  badLines: 0,
  updated: null,
  error: null,
  errorAt: null,
}

/** The view after a poll at `at` (ms) that answered `outcome` (an Error when it failed). */
export function nextPoolView(view: PoolView, outcome: GlideinAds | Error, at: number): PoolView {
  if (outcome instanceof Error) return { ...view, error: outcome.message, errorAt: at }
  return {
    slots: outcome.slots,
    badLines: outcome.badLines,
    updated: at,
    error: null,
    errorAt: null,
  }
}

/** One line for the log or the page on how the view stands, e.g. after a failed poll:
 *  `condor_status failed: …; keeping the glideins seen 120 s ago`. */
export function poolViewText(view: PoolView, now: number): string {
  const seen =
    view.updated === null
      ? "no glideins seen yet"
      : `${view.slots?.length ?? 0} glidein slot${view.slots?.length === 1 ? "" : "s"} seen ${Math.round((now - view.updated) / 1000)} s ago`
  if (view.error === null) return seen
  const kept = view.updated === null ? seen : `keeping the ${seen}`
  return `condor_status failed: ${view.error}; ${kept}`
}
