import { PollLoop } from "../poll-loop.ts"
import type { CondorQResult } from "./condor-q-parse.ts"
import { describeBadLine } from "./condor-q-run.ts"
import type { DemandRow } from "./demand-row.ts"
import type { Merged, SetAside } from "./fit-demand.ts"

/** One poll of the queue: resolves with the parsed demand or rejects with why not. */
export type DemandSource = (signal: AbortSignal) => Promise<CondorQResult>

/** The demand as published, with how fresh it is. Immutable: each poll makes a new one. */
export interface DemandSnapshot {
  /** The last good table, or null before the first poll succeeded. */
  rows: DemandRow[] | null
  /** `rows` serialized once per poll, for the get_state hot path ("null" before the first). */
  rowsJson: string
  /** Idle jobs counted into `rows`. */
  jobs: number
  /** Lines of the last good poll that did not parse. */
  badLines: number
  /** Jobs of the last good poll no site could run, left out of `rows` (absent when none). */
  setAside?: SetAside
  /** How near-identical shapes of the last good poll were merged (absent when none were). */
  merged?: Merged
  /** Something the admin should know about the query, e.g. a constraint that matches nothing. */
  note?: string
  /** When `rows` was polled (ms since the epoch), or null. */
  updated: number | null
  /** Why the latest poll failed, or null when it succeeded. */
  error: string | null
  /** When the latest poll failed (ms), or null. */
  errorAt: number | null
  /** When the latest poll finished, good or bad (ms), or null before the first. */
  lastPoll: number | null
  /** When the next poll is due (ms), or null when not scheduled. */
  nextPoll: number | null
  /** Where demand comes from: `condor_q` or the built-in `demo` queue. */
  source: "condor_q" | "demo"
}

/** How a DemandPoller runs. */
export interface DemandPollerOptions {
  source: DemandSource
  sourceName: DemandSnapshot["source"]
  /** Time between the starts of two polls. */
  delayMs: number
  log: (line: string) => void
  /** Called after every poll with the new snapshot (good or not). */
  onPoll?: (snapshot: DemandSnapshot, ok: boolean) => void
  now?: () => number
}

/**
 * Polls the queue now and then every `delayMs`, publishing each good table and keeping the
 * last good one through failures: a failed, timed-out or empty-handed poll records its error
 * and age but never replaces the table (pyglidein published `[]`, telling every site the pool
 * needed nothing).
 */
export class DemandPoller {
  private current: DemandSnapshot
  private readonly loop: PollLoop
  private readonly now: () => number

  constructor(private readonly options: DemandPollerOptions) {
    this.now = options.now ?? Date.now
    this.loop = new PollLoop(
      () => this.run(),
      options.delayMs,
      this.now,
      (nextPoll) => {
        this.current = { ...this.current, nextPoll }
      },
    )
    this.current = {
      rows: null,
      rowsJson: "null",
      jobs: 0,
      badLines: 0,
      updated: null,
      error: null,
      errorAt: null,
      lastPoll: null,
      nextPoll: null,
      source: options.sourceName,
    }
  }

  /** The latest published snapshot. */
  snapshot(): DemandSnapshot {
    return this.current
  }

  /** Polls at once, then keeps polling every `delayMs` until `stop()`. */
  start(): void {
    this.loop.start()
  }

  /** One poll; resolves when the snapshot is updated. Concurrent calls share one run. */
  poll(): Promise<void> {
    return this.loop.once()
  }

  /** Stops polling, kills a running condor_q and waits for it to be gone. */
  stop(): Promise<void> {
    return this.loop.stop()
  }

  /** Tells `onPoll`; its failure (a full disk under the history) must not stop the polling. */
  private notify(ok: boolean): void {
    try {
      this.options.onPoll?.(this.current, ok)
    } catch (error) {
      this.options.log(
        `demand: after the poll: ${error instanceof Error ? error.message : String(error)}`,
      )
    }
  }

  private async run(): Promise<void> {
    const { log } = this.options
    let result: CondorQResult
    try {
      result = await this.options.source(this.loop.signal)
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      const at = this.now()
      this.current = { ...this.current, error: message, errorAt: at, lastPoll: at }
      const kept =
        this.current.updated === null
          ? "no demand table yet"
          : `keeping the table from ${Math.round((at - this.current.updated) / 1000)} s ago`
      log(`demand: poll failed: ${message}; ${kept}`)
      this.notify(false)
      return
    }
    const at = this.now()
    if (result.firstBad) {
      log(
        `demand: ${result.badLines} line${result.badLines === 1 ? "" : "s"} did not parse and ${result.badLines === 1 ? "was" : "were"} left out (${describeBadLine(result.firstBad)})`,
      )
    }
    const { setAside, merged, note, ...rest } = this.current
    this.current = {
      ...rest,
      rows: result.rows,
      rowsJson: JSON.stringify(result.rows),
      jobs: result.jobs,
      badLines: result.badLines,
      ...(result.setAside && { setAside: result.setAside }),
      ...(result.merged && { merged: result.merged }),
      ...(result.note && { note: result.note }),
      updated: at,
      error: null,
      errorAt: null,
      lastPoll: at,
    }
    log(`demand: ${counted(result.jobs, "idle job")} in ${counted(result.rows.length, "row")}`)
    if (result.merged) {
      log(
        `demand: ${counted(result.merged.shapes, "shape")} merged into ${counted(result.rows.length, "row")} (each value at most ${result.merged.withinPercent} % above a job's)`,
      )
    }
    if (result.setAside) log(`demand: ${setAsideText(result.setAside)}`)
    if (result.note) log(`demand: ${result.note}`)
    this.notify(true)
  }
}

/** `1 row`, `3 idle jobs`. */
function counted(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`
}

/** The set-aside jobs in one line, for the log and `glidein status`. */
export function setAsideText(setAside: SetAside): string {
  return `${counted(setAside.jobs, "idle job")} in ${counted(setAside.shapes, "shape")} set aside, no site could run them (${setAside.first}${setAside.shapes > 1 ? ", …" : ""})`
}
