/**
 * A bound on how many views (pages, /metrics, /api) the server answers per second, so no
 * number of scrapers or browsers takes the CPU from get_state: 16 scrapers asking without
 * pause held get_state to a tenth of its rate and its p99 at 300 ms. Views beyond the rate
 * wait their turn; beyond `maxWaiting`, they are told to come back (503, Retry-After).
 */

/** Views answered per second, and the burst allowed after a quiet spell. */
export interface ViewGateLimits {
  perSecond: number
  burst: number
  /** Views waiting at most; more are refused. */
  maxWaiting: number
}

/** Far above what Prometheus (a scrape every 15 s) and a few browsers need. */
export const DEFAULT_VIEW_LIMITS: ViewGateLimits = { perSecond: 200, burst: 400, maxWaiting: 2000 }

/** A token bucket with a queue. */
export class ViewGate {
  private readonly limits: ViewGateLimits
  private tokens: number
  private refilledAt = performance.now()
  private readonly waiting: (() => void)[] = []
  private timer: ReturnType<typeof setTimeout> | undefined

  constructor(limits: Partial<ViewGateLimits> = {}) {
    this.limits = { ...DEFAULT_VIEW_LIMITS, ...limits }
    this.tokens = this.limits.burst
  }

  /** Resolves true when a view may be answered, false at once when too many are waiting. */
  enter(): Promise<boolean> | true {
    this.refill()
    if (this.waiting.length === 0 && this.tokens >= 1) {
      this.tokens--
      return true
    }
    if (this.waiting.length >= this.limits.maxWaiting) return Promise.resolve(false)
    return new Promise((resolve) => {
      this.waiting.push(() => resolve(true))
      this.schedule()
    })
  }

  private refill(): void {
    const now = performance.now()
    const { perSecond, burst } = this.limits
    this.tokens = Math.min(burst, this.tokens + ((now - this.refilledAt) * perSecond) / 1000)
    this.refilledAt = now
  }

  private schedule(): void {
    if (this.timer !== undefined) return
    const wait = Math.max(1, ((1 - this.tokens) * 1000) / this.limits.perSecond)
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.refill()
      while (this.tokens >= 1 && this.waiting.length > 0) {
        this.tokens--
        this.waiting.shift()?.()
      }
      if (this.waiting.length > 0) this.schedule()
    }, wait)
  }
}
