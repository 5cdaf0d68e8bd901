/**
 * Views rendered from the store (status page, /api/clients), kept per key and bounded in the
 * work they cost: concurrent requests share one render, a view is reused while the store has
 * not changed, and however often the store changes a costly view is rendered again only after
 * a pause of ten times its last render (at most a tenth of the time goes to one view). Four browsers
 * asking for the week page used to render it four times in a row while get_state waited.
 */

/** Renders quicker than this are never held back: tests and small servers see every change. */
const CHEAP_MS = 5
/** The pause after a render, as a multiple of how long it took. */
const PAUSE_FACTOR = 10

/**
 * How long (ms) a view that took `tookMs` to make is kept even though what it shows changed:
 * ten times that for a costly one (so it takes at most a tenth of the time), none for a cheap one.
 */
export function pauseAfter(tookMs: number): number {
  return tookMs >= CHEAP_MS ? PAUSE_FACTOR * tookMs : 0
}

/** How long a view is reused at least, and at most when the store has not changed (ms). */
export interface RenderCacheTimes {
  /** Never rendered again sooner than this after the last render ended (default 1 s). */
  minReuseMs: number
  /** Rendered again after this even when the store has not changed: its ages move (default 10 s). */
  maxReuseMs: number
}

interface Entry<T> {
  version: number
  value: T
  /** The clock's time when the render ended, and how long it took. */
  endedAt: number
  tookMs: number
}

/** A cache of rendered views keyed by `K`, each tagged with the store version it shows. */
export class RenderCache<K, T> {
  private readonly entries = new Map<K, Entry<T>>()
  private readonly pending = new Map<K, Promise<T>>()
  private readonly times: RenderCacheTimes
  /** Renders run so far (for tests and the curious). */
  renders = 0

  /** `now` gives milliseconds (tests give their own clock, so no render's cost is a guess). */
  constructor(
    times: Partial<RenderCacheTimes> = {},
    private readonly now: () => number = () => performance.now(),
  ) {
    this.times = { minReuseMs: 1000, maxReuseMs: 10_000, ...times }
  }

  /** The view of `key` at `version`, rendered by `render` only when the rules above allow. */
  get(key: K, version: number, render: () => T | Promise<T>): Promise<T> {
    const entry = this.entries.get(key)
    if (entry !== undefined) {
      const age = this.now() - entry.endedAt
      const pause = Math.max(this.times.minReuseMs, pauseAfter(entry.tookMs))
      if (age < pause || (entry.version === version && age < this.times.maxReuseMs)) {
        return Promise.resolve(entry.value)
      }
    }
    const running = this.pending.get(key)
    if (running !== undefined) return running
    const started = this.now()
    this.renders++
    const promise = (async () => {
      try {
        const value = await render()
        const endedAt = this.now()
        this.entries.set(key, { version, value, endedAt, tookMs: endedAt - started })
        return value
      } finally {
        this.pending.delete(key)
      }
    })()
    this.pending.set(key, promise)
    return promise
  }
}
