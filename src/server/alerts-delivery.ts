/**
 * Posts alert events to the webhook, one at a time and in order, off the server's path:
 * `send()` only queues. Each POST has a timeout, so a receiver that hangs holds one
 * connection for that long and no more; a failed one is retried with exponential back-off a
 * bounded number of times; the queue is bounded, dropping its oldest events when full. The
 * log says when posting starts failing (once per streak of failures), when it works again,
 * and how many events were dropped; it names the receiver by scheme and host only. Nothing
 * here throws at its caller.
 */
import { setTimeout as wait } from "node:timers/promises"
import { printable } from "../printable.ts"
import type { AlertEvent } from "./alerts.ts"
import { redactUrl } from "./alerts-url.ts"

export interface AlertDeliveryOptions {
  /** The webhook (checked by checkAlertUrl()). */
  url: string
  log: (line: string) => void
  /** How long one POST may take, answer included (default 10 s). */
  timeoutMs?: number
  /** Attempts per event before it is dropped (default 8: about 10 min of back-off). */
  maxAttempts?: number
  /** The wait after the first failure, doubled after each next one (default 5 s)… */
  firstBackoffMs?: number
  /** …up to this (default 5 min); a receiver's Retry-After is honoured up to it too. */
  maxBackoffMs?: number
  /** Events waiting at most (default 100), besides the one being posted. */
  maxQueue?: number
  /** Waits `ms` or until `signal` aborts (tests pass their own clock). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>
  fetch?: (url: string, init: RequestInit) => Promise<Response>
}

/** What became of one POST. */
type Outcome = { ok: true } | { ok: false; retry: boolean; why: string; waitMs?: number }

interface Pending {
  body: string
  attempts: number
}

/** The queue of events to post to one webhook. */
export class AlertDelivery {
  private readonly queue: Pending[] = []
  /** The event being posted or waiting for its retry. */
  private current: Pending | undefined
  private worker: Promise<void> | undefined
  private readonly stopping = new AbortController()
  /** Failed attempts in a row. */
  private streak = 0
  private readonly dropped = { full: 0, gaveUp: 0, refused: 0 }
  private readonly where: string
  private readonly o: Required<Omit<AlertDeliveryOptions, "fetch">> & {
    fetch: NonNullable<AlertDeliveryOptions["fetch"]>
  }

  constructor(options: AlertDeliveryOptions) {
    this.o = {
      timeoutMs: 10_000,
      maxAttempts: 8,
      firstBackoffMs: 5_000,
      maxBackoffMs: 300_000,
      maxQueue: 100,
      sleep: abortableSleep,
      fetch: (url, init) => fetch(url, init),
      ...options,
    }
    this.where = redactUrl(options.url)
  }

  /** Queues `event` and returns at once; after stop(), does nothing. */
  send(event: AlertEvent): void {
    if (this.stopping.signal.aborted) return
    this.queue.push({ body: JSON.stringify(event), attempts: 0 })
    const over = this.queue.length - this.o.maxQueue
    if (over > 0) {
      this.queue.splice(0, over)
      this.dropped.full += over
    }
    this.worker ??= this.work().finally(() => {
      this.worker = undefined
    })
  }

  /** Events not yet posted, the one being posted included. */
  get pending(): number {
    return this.queue.length + (this.current === undefined ? 0 : 1)
  }

  /** Resolves when every queued event is posted or dropped (or stop() ended the work). */
  async idle(): Promise<void> {
    while (this.worker !== undefined) await this.worker
  }

  /**
   * Stops: gives the queue `graceMs` to empty, then aborts the POST under way and any wait,
   * and logs how many events were left unposted.
   */
  async stop(graceMs = 2_000): Promise<void> {
    if (this.worker !== undefined && graceMs > 0) {
      const grace = new AbortController()
      await Promise.race([this.idle(), this.o.sleep(graceMs, grace.signal).catch(() => {})])
      grace.abort()
    }
    this.stopping.abort()
    await this.idle()
    const left = this.pending
    if (left > 0) this.o.log(`alerts: ${counted(left, "event")} not posted at shutdown`)
  }

  private async work(): Promise<void> {
    const { signal } = this.stopping
    while (!signal.aborted) {
      const item = this.current ?? this.queue.shift()
      if (item === undefined) break
      this.current = item
      const outcome = await this.post(item.body)
      if (signal.aborted) break
      if (outcome.ok) {
        this.current = undefined
        if (this.streak > 0) {
          this.o.log(
            `alerts: posting to ${this.where} works again, after ${counted(this.streak, "failed attempt")}`,
          )
        }
        this.streak = 0
        this.logDrops()
        continue
      }
      item.attempts++
      this.streak++
      if (this.streak === 1) {
        this.o.log(
          `alerts: cannot post to ${this.where}: ${outcome.why}; retrying with back-off (at most ${this.o.maxAttempts} attempts an event, ${this.o.maxQueue} events kept)`,
        )
      }
      if (!outcome.retry) {
        this.dropped.refused++
        this.current = undefined
      } else if (item.attempts >= this.o.maxAttempts) {
        this.dropped.gaveUp++
        this.current = undefined
      }
      this.logDrops()
      const backoff = this.o.firstBackoffMs * 2 ** Math.min(this.streak - 1, 30)
      const wait = Math.min(this.o.maxBackoffMs, Math.max(backoff, outcome.waitMs ?? 0))
      await this.o.sleep(wait, signal).catch(() => {})
    }
  }

  /** One POST of `body`, never throwing. */
  private async post(body: string): Promise<Outcome> {
    const timeout = AbortSignal.timeout(this.o.timeoutMs)
    let response: Response
    try {
      response = await this.o.fetch(this.o.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        signal: AbortSignal.any([this.stopping.signal, timeout]),
        // A webhook that moved is an error to fix, not a hop to take with the event.
        redirect: "manual",
      })
      // Only the status matters; the body (Slack's "ok") is not read, and a receiver that
      // answers its headers and then hangs holds nothing.
      await response.body?.cancel().catch(() => {})
    } catch (error) {
      if (timeout.aborted) {
        return { ok: false, retry: true, why: `no answer within ${this.o.timeoutMs / 1000} s` }
      }
      return { ok: false, retry: true, why: this.describe(error) }
    }
    if (response.ok) return { ok: true }
    const { status } = response
    if (status >= 300 && status < 400) {
      return { ok: false, retry: false, why: `answered HTTP ${status} (a redirect, not followed)` }
    }
    const retry = status >= 500 || status === 408 || status === 429
    const after = Number(response.headers.get("retry-after"))
    return {
      ok: false,
      retry,
      why: `answered HTTP ${status}`,
      ...(Number.isFinite(after) && after > 0 ? { waitMs: after * 1000 } : {}),
    }
  }

  /** A fetch error in words, without the URL (its path or query may be the secret). */
  private describe(error: unknown): string {
    const e = error as { code?: unknown; message?: unknown }
    const message = typeof e?.message === "string" ? e.message : String(error)
    const url = URL.parse(this.o.url)
    const secrets = [
      this.o.url,
      url?.href,
      url?.pathname,
      url?.search,
      url?.username,
      url?.password,
    ]
    let said = message
    for (const s of secrets) if (s && s.length > 1) said = said.replaceAll(s, "…")
    return printable(said, 200)
  }

  /** One line for the events dropped since the last. */
  private logDrops(): void {
    const { full, gaveUp, refused } = this.dropped
    if (full + gaveUp + refused === 0) return
    const parts = [
      full > 0 ? `${full} oldest for a full queue (${this.o.maxQueue} events)` : "",
      gaveUp > 0 ? `${gaveUp} after ${this.o.maxAttempts} failed attempts` : "",
      refused > 0 ? `${refused} that the receiver refused` : "",
    ].filter((p) => p !== "")
    this.o.log(`alerts: dropped ${counted(full + gaveUp + refused, "event")}: ${parts.join(", ")}`)
    Object.assign(this.dropped, { full: 0, gaveUp: 0, refused: 0 })
  }
}

/** `1 event`, `3 events`. */
function counted(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return wait(ms, undefined, { signal }).catch(() => {})
}
