/**
 * The stored clients as the views read them, read from the store once per store version:
 * /metrics, /api/clients and the page no longer parse 500 sites' reports on every request.
 * `GET /api/clients` is kept as text per client, with only the ages put in per request: 500
 * sites of 64 partitions are 12.9 MB of JSON, which took tens of milliseconds to write each time.
 */
import { ageS, apiClient, apiClients } from "./api.ts"
import { pauseAfter } from "./render-cache.ts"
import type { ReportStore, StoredClient } from "./report-store.ts"

interface ClientText {
  lastSeen: number
  /** The client's JSON up to its `age_s`, and from its `client_timestamp` on. */
  head: string
  tail: string
}

/** The clients of a store, and `GET /api/clients`, kept until the store changes. */
export class ClientsView {
  private version = -1
  private list: StoredClient[] = []
  /** performance.now() when the list was last read, and how long that took. */
  private readAt = Number.NEGATIVE_INFINITY
  private readMs = 0
  private texts: ClientText[] | undefined

  constructor(
    private readonly store: ReportStore,
    private readonly staleAfterMs: number,
  ) {}

  /**
   * The store's clients, most recently heard from first: the same array until the store
   * changes, and while a costly read is recent (`pauseAfter`), even then.
   */
  clients(): StoredClient[] {
    const started = performance.now()
    if (this.store.version !== this.version && started - this.readAt >= pauseAfter(this.readMs)) {
      this.version = this.store.version
      this.list = this.store.clients()
      this.texts = undefined
      this.readAt = performance.now()
      this.readMs = this.readAt - started
    }
    return this.list
  }

  /**
   * The body of `GET /api/clients` at `now`: what `JSON.stringify({...apiClients(…), ...extra})`
   * gives.
   */
  apiJson(now: number, extra: Record<string, unknown> = {}): string {
    const clients = this.clients()
    this.texts ??= clients.map((c) => {
      // In JSON text `,"` cannot occur inside a string (its quote would be escaped), so the
      // first `,"age_s":` is the key's.
      const text = JSON.stringify(apiClient(c, c.lastSeen, this.staleAfterMs))
      return {
        lastSeen: c.lastSeen,
        head: text.slice(0, text.indexOf(',"age_s":')),
        tail: text.slice(text.indexOf(',"client_timestamp":')),
      }
    })
    const top = JSON.stringify(apiClients(clients.slice(0, 1), now, this.staleAfterMs))
    const parts = [top.slice(0, top.indexOf(',"clients":[')), ',"clients":[']
    this.texts.forEach((c, i) => {
      const stale = now - c.lastSeen > this.staleAfterMs
      parts.push(
        `${i === 0 ? "" : ","}${c.head},"age_s":${ageS(now, c.lastSeen) ?? 0},"stale":${stale}${c.tail}`,
      )
    })
    parts.push("]")
    for (const [key, value] of Object.entries(extra)) {
      parts.push(`,${JSON.stringify(key)}:${JSON.stringify(value)}`)
    }
    parts.push("}")
    return parts.join("")
  }
}
