/**
 * The alerts of a running `glidein serve --alert-url`: the conditions (alerts.ts) fed from
 * what the server knows, and their events posted by the delivery queue. The sites' staleness
 * is looked at on a timer of its own, because a site goes stale by time passing, not by
 * anything arriving, and their tokens' expiry (`token_expires` in their reports) with it;
 * condor_q's polls come from the demand poller's `onPoll`, condor_status's and the flags
 * from the pool poller's.
 */
import type { SiteFlag } from "../pool/index.ts"
import { Alerts, type AlertsOptions, type QueryState, type SiteSeen } from "./alerts.ts"
import { AlertDelivery, type AlertDeliveryOptions } from "./alerts-delivery.ts"
import { redactUrl } from "./alerts-url.ts"

/** A site as the store lists it: when it last reported, and its token's expiry if it said. */
export interface ReportedSite extends SiteSeen {
  metrics?: { token_expires?: Record<string, number> }
}

/** How often the sites are looked at for staleness: stale_after is half an hour. */
export const SWEEP_MS = 60_000

export interface AlertWatchOptions {
  url: string
  /** The report store, or anything that lists sites and says when that list changed. */
  store: { readonly version: number; clients(): readonly ReportedSite[] }
  staleAfterMs: number
  log: (line: string) => void
  /** Who speaks, at the head of each text. */
  origin?: string
  now?: () => number
  /** The delivery's settings, for tests. */
  delivery?: Partial<AlertDeliveryOptions>
  holds?: AlertsOptions["holds"]
}

/** Started alerts: feed them, and stop them at shutdown. */
export interface AlertWatch {
  readonly alerts: Alerts
  readonly delivery: AlertDelivery
  /** The outcome of a condor_q poll (the demand poller's snapshot). */
  condorQ(state: QueryState): void
  /** The outcome of a condor_status poll (src/pool's PoolView). */
  condorStatus(state: QueryState): void
  /** Whether a site is flagged now (src/pool's flagSite()). */
  siteFlagged(site: string, flag: SiteFlag | undefined): void
  /** When a site's token expires (ms); the sweep feeds it from the sites' reports. */
  tokenExpiry(site: string, expiresAt: number | undefined): void
  /** Looks at the sites now (the timer does it every SWEEP_MS). */
  sweep(): void
  /** Stops the timer and the delivery (a short grace for events under way). */
  stop(): Promise<void>
}

/** Starts the alerts: the sites' timer runs from now. */
export function startAlerts(o: AlertWatchOptions): AlertWatch {
  const now = o.now ?? Date.now
  const delivery = new AlertDelivery({ ...o.delivery, url: o.url, log: o.log })
  const alerts = new Alerts({
    send: (event) => delivery.send(event),
    startedAt: now(),
    ...(o.origin === undefined ? {} : { origin: o.origin }),
    ...(o.holds === undefined ? {} : { holds: o.holds }),
  })
  let listed = -1
  let sites: readonly ReportedSite[] = []
  let failed: string | undefined
  const sweep = () => {
    try {
      // The store is read again only when a report changed it; staleness is the clock's.
      if (o.store.version !== listed) {
        sites = o.store.clients()
        listed = o.store.version
      }
      failed = undefined
    } catch (error) {
      // A timer's throw would end the server: a database gone bad is said once, here and
      // by the database watch, and the sites last read are used meanwhile.
      const why = error instanceof Error ? error.message : String(error)
      if (why !== failed) o.log(`alerts: cannot read the sites: ${why}`)
      failed = why
    }
    const at = now()
    alerts.sites(sites, o.staleAfterMs, at)
    // The tokens sites report for their tarballs: the soonest to expire of each site.
    for (const site of sites) {
      const expires = Object.values(site.metrics?.token_expires ?? {})
      const soonest = expires.length > 0 ? Math.min(...expires) * 1000 : undefined
      alerts.tokenExpiry(site.uuid, soonest, at)
    }
  }
  const timer = setInterval(sweep, SWEEP_MS)
  o.log(`alerts: posting to ${redactUrl(o.url)}`)
  return {
    alerts,
    delivery,
    condorQ: (state) => alerts.queryTool("condor_q", state, now()),
    condorStatus: (state) => alerts.queryTool("condor_status", state, now()),
    siteFlagged: (site, flag) => alerts.siteFlagged(site, flag, now()),
    tokenExpiry: (site, expiresAt) => alerts.tokenExpiry(site, expiresAt, now()),
    sweep,
    async stop() {
      clearInterval(timer)
      await delivery.stop()
    },
  }
}
