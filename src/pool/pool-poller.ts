/**
 * Polls the collector for the glideins (`condor_status`) now and every `delayMs`, as the
 * demand poller polls condor_q: a failed poll keeps the last good view and says why, and
 * every good one is handed to the PoolWatch with what the sites last reported, so the funnel
 * and the flags move poll by poll. Where the schedd's history is read too (`history`), each
 * good poll also asks it for the jobs ended since the last one; a failed read only leaves
 * this poll without them, said once per failing streak.
 */

import { PollLoop } from "../poll-loop.ts"
import { badLinesNote } from "./af-lines.ts"
import type { EndedJob, EndedJobs } from "./condor-history-parse.ts"
import type { GlideinAds } from "./condor-status-parse.ts"
import { EMPTY_POOL_VIEW, nextPoolView, type PoolView, poolViewText } from "./pool-view.ts"
import { PoolWatch, type ReportedSite } from "./pool-watch.ts"

export interface PoolPollerOptions {
  /** One condor_status run (runCondorStatus with its argv and timeout). */
  source: (signal: AbortSignal) => Promise<GlideinAds>
  /** One condor_history read of the jobs ended since the last (historySource()), run after
   *  each good condor_status poll; none when the schedd's history is not read. */
  history?: (signal: AbortSignal) => Promise<EndedJobs>
  delayMs: number
  /** What each reporting site's batch system runs by its latest fresh report. */
  reports: () => ReportedSite[]
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
  private readonly loop: PollLoop
  private readonly now: () => number
  /** Failed polls in a row: the log says the first of a streak, then every tenth. */
  private failures = 0
  /** Failed history reads in a row, logged as condor_status failures are. */
  private historyFailures = 0

  constructor(private readonly options: PoolPollerOptions) {
    this.watch = options.watch ?? new PoolWatch()
    this.now = options.now ?? Date.now
    this.loop = new PollLoop(() => this.run(), options.delayMs, this.now)
  }

  view(): PoolView {
    return this.current
  }

  start(): void {
    this.loop.start()
  }

  /** One poll; concurrent calls share one run. */
  poll(): Promise<void> {
    return this.loop.once()
  }

  /** Stops polling and waits for a running condor_status to be gone. */
  stop(): Promise<void> {
    return this.loop.stop()
  }

  private async run(): Promise<void> {
    const { log } = this.options
    let ads: GlideinAds | Error
    try {
      ads = await this.options.source(this.loop.signal)
    } catch (error) {
      ads = error instanceof Error ? error : new Error(String(error))
    }
    if (this.loop.signal.aborted) return
    const at = this.now()
    // Published only once the watch has taken the poll in: a page or an allotment made from
    // the new view must not meet the old counts and flags.
    const view = nextPoolView(this.current, ads, at)
    if (ads instanceof Error) {
      if (this.failures++ % 10 === 0) log(`pool: ${poolViewText(view, at)}`)
    } else {
      if (this.failures > 0)
        log(`pool: condor_status answers again after ${this.failures} failed polls`)
      this.failures = 0
      const note = badLinesNote("condor_status", ads)
      if (note !== undefined) log(`pool: ${note}`)
      const ended = await this.ended()
      if (this.loop.signal.aborted) return
      try {
        this.watch.observe(ads.slots, at, this.options.reports(), this.options.idleJobs(), ended)
      } catch (error) {
        log(`pool: after the poll: ${error instanceof Error ? error.message : String(error)}`)
      }
    }
    this.current = view
    try {
      this.options.onPoll?.(this.current, this.watch)
    } catch (error) {
      log(`pool: after the poll: ${error instanceof Error ? error.message : String(error)}`)
    }
  }

  /** The jobs ended since the last good read, or undefined when history is not read or the
   *  read failed (logged at the first failure of a streak, then every tenth). */
  private async ended(): Promise<EndedJob[] | undefined> {
    const { history, log } = this.options
    if (history === undefined) return undefined
    let answer: EndedJobs
    try {
      answer = await history(this.loop.signal)
    } catch (error) {
      if (this.historyFailures++ % 10 === 0) {
        const why = error instanceof Error ? error.message : String(error)
        log(`pool: condor_history failed: ${why}; no ended jobs counted this poll`)
      }
      return undefined
    }
    if (this.historyFailures > 0) {
      log(`pool: condor_history answers again after ${this.historyFailures} failed reads`)
    }
    this.historyFailures = 0
    const note = badLinesNote("condor_history", answer)
    if (note !== undefined) log(`pool: ${note}`)
    return answer.jobs
  }
}
