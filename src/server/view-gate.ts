/**
 * A bound on the time the server gives views (pages, /metrics, /api), so no number of
 * scrapers or browsers takes the CPU from get_state: 16 scrapers asking without pause held
 * get_state to a tenth of its rate and its p99 at 300 ms. Each view is charged the time it
 * took plus the writing of its bytes (at least `minCostMs`); views share a budget of
 * `msPerSecond`. Views beyond it wait their turn; beyond `maxWaiting`, they are told to
 * come back (503, Retry-After).
 */

/** The budget of views. */
export interface ViewGateLimits {
  /** Milliseconds of views per second (250: at most a quarter of the time). */
  msPerSecond: number
  /** Milliseconds that may be spent at once after a quiet spell. */
  burstMs: number
  /** What a view costs at least (a cached one takes microseconds in JS). */
  minCostMs: number
  /** Views waiting at most; more are refused. */
  maxWaiting: number
}

/** Far above what Prometheus (a scrape every 15 s) and a few browsers need. */
export const DEFAULT_VIEW_LIMITS: ViewGateLimits = {
  msPerSecond: 250,
  burstMs: 1000,
  minCostMs: 0.25,
  maxWaiting: 2000,
}

/** No view is charged more than this: one waiting for another's render is not rendering. */
const MAX_CHARGE_MS = 250
/**
 * What writing a character of a view costs (ms): Bun copies and sends about 500 MB a second
 * here, so /api/clients of 500 sites (1.9 MB) costs 4 ms after its JSON is made.
 */
const MS_PER_CHAR = 1 / 500_000

/** A budget of time (a token bucket in milliseconds) with a queue. */
export class ViewGate {
  private readonly limits: ViewGateLimits
  private budget: number
  private refilledAt = performance.now()
  private readonly waiting: (() => void)[] = []
  private timer: ReturnType<typeof setTimeout> | undefined

  constructor(limits: Partial<ViewGateLimits> = {}) {
    this.limits = { ...DEFAULT_VIEW_LIMITS, ...limits }
    this.budget = this.limits.burstMs
  }

  /**
   * Resolves true when a view may start (its minimum cost taken from the budget), false at
   * once when too many are waiting. Call `spent()` with its time when it is done.
   */
  enter(): Promise<boolean> | true {
    this.refill()
    if (this.waiting.length === 0 && this.budget >= this.limits.minCostMs) {
      this.budget -= this.limits.minCostMs
      return true
    }
    if (this.waiting.length >= this.limits.maxWaiting) return Promise.resolve(false)
    return new Promise((resolve) => {
      this.waiting.push(() => resolve(true))
      this.schedule()
    })
  }

  /** Charges what a view took, and the writing of its `length` characters, beyond its minimum cost. */
  spent(ms: number, length = 0): void {
    const cost = Math.min(ms + length * MS_PER_CHAR, MAX_CHARGE_MS)
    this.budget -= Math.max(0, cost - this.limits.minCostMs)
  }

  private refill(): void {
    const now = performance.now()
    const { msPerSecond, burstMs } = this.limits
    this.budget = Math.min(burstMs, this.budget + ((now - this.refilledAt) * msPerSecond) / 1000)
    this.refilledAt = now
  }

  private schedule(): void {
    if (this.timer !== undefined) return
    const { minCostMs, msPerSecond } = this.limits
    const wait = Math.max(1, ((minCostMs - this.budget) * 1000) / msPerSecond)
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.refill()
      while (this.budget >= minCostMs && this.waiting.length > 0) {
        this.budget -= minCostMs
        this.waiting.shift()?.()
      }
      if (this.waiting.length > 0) this.schedule()
    }, wait)
  }
}
