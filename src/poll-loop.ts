/**
 * The rhythm `glidein serve` polls its tools in (condor_q for the demand, condor_status for
 * the pool): a run now, then one every `delayMs` counted from the start of the last, never two
 * at once, and a stop that aborts the run under way (its tool is killed) and waits for it.
 */
export class PollLoop {
  private readonly abort = new AbortController()
  private timer: ReturnType<typeof setTimeout> | undefined
  private inFlight: Promise<void> | undefined

  /** `run` gets the loop's signal; `scheduled` hears when the next run is due (null: none). */
  constructor(
    private readonly run: (signal: AbortSignal) => Promise<void>,
    private readonly delayMs: number,
    private readonly now: () => number,
    private readonly scheduled?: (at: number | null) => void,
  ) {}

  /** Aborted once `stop()` is called: a run that sees it publishes nothing. */
  get signal(): AbortSignal {
    return this.abort.signal
  }

  /** Runs at once, then every `delayMs` until `stop()`. */
  start(): void {
    const loop = async () => {
      const started = this.now()
      await this.once()
      if (this.abort.signal.aborted) return
      const wait = Math.max(0, this.delayMs - (this.now() - started))
      this.scheduled?.(this.now() + wait)
      this.timer = setTimeout(loop, wait)
    }
    void loop()
  }

  /** One run; concurrent calls share it. */
  once(): Promise<void> {
    this.inFlight ??= this.run(this.abort.signal).finally(() => {
      this.inFlight = undefined
    })
    return this.inFlight
  }

  /** Stops the loop, aborts the run under way and waits for it to end. */
  async stop(): Promise<void> {
    this.abort.abort()
    clearTimeout(this.timer)
    this.scheduled?.(null)
    await this.inFlight
  }
}
