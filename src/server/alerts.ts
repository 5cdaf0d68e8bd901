/**
 * What `serve --alert-url` tells: a site gone stale, a site flagged for wasting its
 * allocation, condor_q or condor_status failing poll after poll, a site's token near its
 * expiry. Each method takes what the server knows at an instant, the book (alerts-book.ts)
 * decides whether that changes a condition's state, and each change becomes one event, handed
 * to `send` (alerts-delivery.ts posts it). Pure but for `send`.
 *
 * An event is JSON with a `text` (Slack's and Mattermost's incoming webhooks show it) and the
 * same facts as fields: `{text, event, state, site, at, details}`. It holds nothing secret:
 * no token, no URL, only names, times, counts and condor's error line.
 */
import type { SiteFlag } from "../pool/index.ts"
import { printable } from "../printable.ts"
import { AlertBook, type AlertKind, type Hold } from "./alerts-book.ts"
import { formatDuration } from "./format-age.ts"

/** One alert as posted. */
export interface AlertEvent {
  /** One sentence for people; Slack's and Mattermost's webhooks show this field. */
  text: string
  event: AlertKind
  state: "firing" | "resolved"
  /** The site (its report name) the alert is about, or null for the server's own. */
  site: string | null
  /** When the change was seen, ISO 8601. */
  at: string
  details: Record<string, string | number | null>
}

/** A site as the store last heard from it. */
export interface SiteSeen {
  uuid: string
  /** When its latest report arrived (ms). */
  lastSeen: number
}

/** How a query tool's polls stand: the demand poller's snapshot, the pool view. */
export interface QueryState {
  /** Why the latest poll failed, or null when it answered. */
  error: string | null
  /** When the last good answer came (ms), or null before the first. */
  updated: number | null
}

export interface AlertsOptions {
  send: (event: AlertEvent) => void
  /** When serve started: a site already stale then was stale before the restart. */
  startedAt: number
  holds?: Partial<Record<AlertKind, Partial<Hold>>>
  /** How long before its expiry a token is "expiring" (default 7 days). */
  tokenWarnMs?: number
  /** Who speaks, at the head of each text (default "glidein serve"). */
  origin?: string
}

export const DEFAULT_TOKEN_WARN_MS = 7 * 86_400_000

/** The conditions of one server, turned into events. */
export class Alerts {
  readonly book: AlertBook
  private readonly tokenWarnMs: number
  private readonly origin: string

  constructor(private readonly options: AlertsOptions) {
    this.book = new AlertBook(options.holds)
    this.tokenWarnMs = options.tokenWarnMs ?? DEFAULT_TOKEN_WARN_MS
    this.origin = options.origin ?? "glidein serve"
  }

  /**
   * Every site the store holds, at `now`: a site is stale when its latest report is older
   * than `staleAfterMs` (as on the page and in /api/clients). A site already stale when the
   * server started is taken as known, without an event, and so is its return. A site the
   * store no longer holds is dropped without an event.
   */
  sites(clients: readonly SiteSeen[], staleAfterMs: number, now: number): void {
    const present = new Set<string>()
    for (const { uuid, lastSeen } of clients) {
      present.add(uuid)
      const stale = now - lastSeen > staleAfterMs
      if (stale && lastSeen + staleAfterMs < this.options.startedAt) {
        this.book.assume("site-stale", uuid, lastSeen + staleAfterMs)
      }
      const change = this.book.observe("site-stale", uuid, stale, now)
      if (change === undefined) continue
      const details = {
        last_report: iso(lastSeen),
        stale_after_s: Math.round(staleAfterMs / 1000),
      }
      this.emit("site-stale", uuid, change.state, now, details, () =>
        change.state === "firing"
          ? `site ${quoted(uuid)} is stale: no report for ${span(now - lastSeen)} (stale after ${formatDuration(staleAfterMs)})`
          : `site ${quoted(uuid)} reports again, after ${span(change.from - change.since)} stale`,
      )
    }
    this.book.forget("site-stale", (uuid) => present.has(uuid))
  }

  /**
   * The outcome of a poll of `tool` at `now`: failing while `state.error` is set. The
   * demand poller's snapshot and the pool view (src/pool) both are a QueryState.
   */
  queryTool(tool: "condor_q" | "condor_status", state: QueryState, now: number): void {
    const kind = tool === "condor_q" ? "condor_q-failing" : "condor_status-failing"
    const change = this.book.observe(kind, null, state.error !== null, now)
    if (change === undefined) return
    const kept = tool === "condor_q" ? "demand table" : "pool view"
    const details = {
      error: state.error === null ? null : printable(state.error, 300),
      since: iso(change.since),
      last_good: state.updated === null ? null : iso(state.updated),
      ...(change.state === "firing" ? { failed_polls: change.polls } : {}),
    }
    this.emit(kind, null, change.state, now, details, () => {
      if (change.state === "resolved") {
        return `${tool} answers again, after failing for ${formatDuration(change.from - change.since)}`
      }
      const served =
        state.updated === null
          ? `there is no ${kept} yet`
          : `the ${kept} of ${formatDuration(now - state.updated)} ago is kept`
      return `${tool} has failed ${change.polls} polls in a row: ${quoted(state.error ?? "", 300)}; ${served}`
    })
  }

  /**
   * Whether `site` (its report name, GLIDEIN_Client) is flagged at `now` (flagSite() of
   * src/pool: undefined when it is not). To be called for each site the pool's view holds at
   * each of its polls; a site that leaves the view should be called once with undefined, so
   * that a flag it had resolves.
   */
  siteFlagged(site: string, flag: SiteFlag | undefined, now: number): void {
    const change = this.book.observe("site-flagged", site, flag !== undefined, now)
    if (change === undefined) return
    const details: AlertEvent["details"] =
      flag === undefined
        ? { flagged_since: iso(change.since) }
        : { flag: flag.kind, flagged_since: iso(flag.since), reason: flag.reason }
    this.emit("site-flagged", site, change.state, now, details, () =>
      flag === undefined
        ? `site ${quoted(site)} is no longer flagged, after ${formatDuration(change.from - change.since)}`
        : `site ${quoted(site)} is flagged: ${markup(flag.reason)}`,
    )
  }

  /**
   * When the token `site`'s glideins carry expires (ms), or undefined when unknown or not
   * near: it is expiring from `tokenWarnMs` before then. Sites do not report their tokens'
   * expiry yet; this is ready for when they do.
   */
  tokenExpiry(site: string, expiresAt: number | undefined, now: number): void {
    const expiring = expiresAt !== undefined && expiresAt - now <= this.tokenWarnMs
    const change = this.book.observe("token-expiring", site, expiring, now)
    if (change === undefined) return
    const details = { expires: expiresAt === undefined ? null : iso(expiresAt) }
    this.emit("token-expiring", site, change.state, now, details, () => {
      if (change.state === "resolved") {
        return `the token of site ${quoted(site)} no longer expires within ${span(this.tokenWarnMs)}`
      }
      const left = (expiresAt as number) - now
      const when = left > 0 ? `expires in ${span(left)}` : `expired ${span(-left)} ago`
      return `the token of site ${quoted(site)} ${when} (${iso(expiresAt as number)})`
    })
  }

  private emit(
    kind: AlertKind,
    site: string | null,
    state: "firing" | "resolved",
    now: number,
    details: AlertEvent["details"],
    sentence: () => string,
  ): void {
    const text = `${markup(this.origin)}: ${sentence()}`
    this.options.send({ text, event: kind, state, site, at: iso(now), details })
  }
}

const iso = (ms: number) => new Date(ms).toISOString()

const DAY = 86_400_000

/** formatDuration(), in days from two days on: a token's expiry is days away, not 144 h. */
function span(ms: number): string {
  return ms >= 2 * DAY ? `${Math.round(ms / DAY)} days` : formatDuration(ms)
}

/**
 * Text for Slack's and Mattermost's markup: `&`, `<` and `>` escaped, as Slack asks, so that
 * nothing in it becomes a link or a `<!channel>` mention.
 */
function markup(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
}

/**
 * Text from outside (a site's name, condor's error) in a code span: a site named `@channel`
 * or `*urgent*` is shown as written, not acted on. Control characters are escaped, length cut.
 */
function quoted(text: string, maxChars = 200): string {
  return `\`${markup(printable(text, maxChars).replaceAll("`", "'"))}\``
}
