/**
 * The routes of the per-site view, `GET /site/NAME` (HTML) and `GET /api/sites/NAME`
 * (JSON), NAME being the site's uuid, percent-encoded; without `?range=`, the shortest range
 * holding the site's whole history (up to a day). The edge between the store and the pure
 * renderers of site-page.ts.
 */
import { Hono } from "hono"
import { parseRange, RANGES, rangeFor } from "./chart-range.ts"
import { htmlResponse } from "./page-response.ts"
import type { ReportStore } from "./report-store.ts"
import { apiSite, renderSitePage, renderUnknownSitePage, type SitePageData } from "./site-page.ts"

/** What the site routes read. */
export interface SiteRoutesDeps {
  store: ReportStore
  version: string
  staleAfterMs: number
  now: () => number
}

/** A Hono app with the two routes, to be mounted at `/`. */
export function siteRoutes(deps: SiteRoutesDeps): Hono {
  const routes = new Hono()

  function siteData(name: string, rangeQuery: string | undefined): SitePageData | undefined {
    const client = deps.store.clients().find((c) => c.uuid === name)
    if (client === undefined) return undefined
    const now = deps.now()
    const range = parseRange(rangeQuery, rangeFor(now - client.firstSeen))
    return {
      now,
      version: deps.version,
      client,
      staleAfterMs: deps.staleAfterMs,
      range,
      history: deps.store.siteHistoryOf(client.uuid, now - RANGES[range]),
      siteBucketMs: deps.store.bucketWidths.siteMs,
    }
  }

  routes.get("/site/:name", async (c) => {
    const name = c.req.param("name")
    const data = siteData(name, c.req.query("range"))
    if (data === undefined) {
      const page = await renderUnknownSitePage(name, deps.version)
      return htmlResponse(c.req.raw, page.toString(), 404)
    }
    return htmlResponse(c.req.raw, (await renderSitePage(data)).toString())
  })

  routes.get("/api/sites/:name", (c) => {
    const name = c.req.param("name")
    const data = siteData(name, c.req.query("range"))
    if (data === undefined)
      return c.json({ error: `no site named ${JSON.stringify(name.slice(0, 200))}` }, 404)
    return c.json(apiSite(data))
  })

  return routes
}
