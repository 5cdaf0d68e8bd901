/**
 * Polls the collector for the glideins (`condor_status`) now and every `delayMs`, as the
 * demand poller polls condor_q: a failed poll keeps the last good view and says why, and
 * every good one is handed to the PoolWatch with what the sites last reported, so the funnel
 * and the flags move poll by poll.
 */
import type { GlideinAds } from "./condor-status-parse.ts"
import { EMPTY_POOL_VIEW, nextPoolView, type PoolView, poolViewText } from "./pool-view.ts"
import { PoolWatch } from "./pool-watch.ts"

export interface PoolPollerOptions {
  /** One condor_status run (runCondorStatus with its argv and timeout). */
  source: (signal: AbortSignal) => Promise<GlideinAds>
  delayMs: number
  /** What each reporting site's batch system runs by its latest fresh report. */
  reports: () => { uuid: string; running: number }[]
  /** The pool's idle jobs now. */
  idleJobs: () => number
  log: (line: string) => void
  /** After every poll, good or not (alerts: condor_status failing, a site flagged). */
  onPoll?: (view: PoolView, watch: PoolWatch) => void
  watch?: PoolWatch
  now?: () => number
}

export class PoolPoller {
  readonly watch: PoolWatch
  private current: PoolView = EMPTY_POOL_VIEW
  private timer: ReturnType<typeof setTimeout> | undefined
  private inFlight: Promise<void> | undefined
  private readonly abort = new AbortController()
  private readonly now: () => number
  /** Failed polls in a row: the log says the first of a streak, then every tenth. */
  private failures = 0

  constructor(private readonly options: PoolPollerOptions) {
    this.watch = options.watch ?? new PoolWatch()
    this.now = options.now ?? Date.now
  }

  view(): PoolView {
    return this.current
  }

  start(): void {
    const loop = async () => {
      const started = this.now()
      await this.poll()
      if (this.abort.signal.aborted) return
      this.timer = setTimeout(loop, Math.max(0, this.options.delayMs - (this.now() - started)))
    }
    void loop()
  }

  /** One poll; concurrent calls share one run. */
  poll(): Promise<void> {
    this.inFlight ??= this.run().finally(() => {
      this.inFlight = undefined
    })
    return this.inFlight
  }

  /** Stops polling and waits for a running condor_status to be gone. */
  async stop(): Promise<void> {
    this.abort.abort()
    clearTimeout(this.timer)
    await this.inFlight
  }

  private async run(): Promise<void> {
    const { log } = this.options
    let ads: GlideinAds | Error
    try {
      ads = await this.options.source(this.abort.signal)
    } catch (error) {
      ads = error instanceof Error ? error : new Error(String(error))
    }
    if (this.abort.signal.aborted) return
    const at = this.now()
    this.current = nextPoolView(this.current, ads, at)
    if (ads instanceof Error) {
      if (this.failures++ % 10 === 0) log(`pool: ${poolViewText(this.current, at)}`)
    } else {
      if (this.failures > 0)
        log(`pool: condor_status answers again after ${this.failures} failed polls`)
      this.failures = 0
      if (ads.firstBad) {
        log(
          `pool: ${ads.badLines} condor_status line${ads.badLines === 1 ? "" : "s"} did not parse (line ${ads.firstBad.line}: ${ads.firstBad.reason})`,
        )
      }
      try {
        this.watch.observe(ads.slots, at, this.options.reports(), this.options.idleJobs())
      } catch (error) {
        log(`pool: after the poll: ${error instanceof Error ? error.message : String(error)}`)
      }
    }
    try {
      this.options.onPoll?.(this.current, this.watch)
    } catch (error) {
      log(`pool: after the poll: ${error instanceof Error ? error.message : String(error)}`)
    }
  }
}
