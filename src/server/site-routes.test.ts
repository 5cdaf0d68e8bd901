import { afterEach, describe, expect, test } from "bun:test"
import { emptyMetrics } from "../protocol/monitoring.ts"
import { fixtureApp, LONG_SITE } from "./page-fixture.ts"
import type { ReportStore } from "./report-store.ts"
import type { ApiSite } from "./site-page.ts"

const NOW = Date.UTC(2026, 10, 21, 12, 0, 0)
const stores: ReportStore[] = []
afterEach(() => {
  for (const s of stores.splice(0)) s.close()
})

function setup() {
  const { app, store } = fixtureApp(NOW)
  stores.push(store)
  return app
}

const path = (uuid: string) => encodeURIComponent(uuid)

describe("GET /site/NAME", () => {
  test("shows one site's report and history, escaping its 196-character name", async () => {
    const app = setup()
    const res = await app.request(`/site/${path(LONG_SITE)}?range=6h`)
    expect(res.status).toBe(200)
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'")
    const page = await res.text()
    expect(page).not.toContain("<b>")
    expect(page).toContain("&lt;b&gt;&amp;&quot;site&#39;&lt;/b&gt;xxxx")
    expect(page).toContain("<figcaption>Glideins of this site</figcaption>")
    expect(page).toContain('aria-current="page">Last 6 hours')
    // Six hours of 5-minute points, each under its own hover area (48 at most).
    expect(page.match(/<rect class="hover"/g)?.length).toBeGreaterThan(40)
    expect(page).toContain(`/api/sites/${path(LONG_SITE).replaceAll("'", "&#39;")}`)
  })

  test("charts a new site over the shortest range holding its history unless asked", async () => {
    const app = setup()
    const dave = path("dave@gpu.chtc.example.org") // reporting for an hour
    expect(await (await app.request(`/site/${dave}`)).text()).toContain(
      'aria-current="page">Last hour',
    )
    expect(await (await app.request(`/site/${dave}?range=week`)).text()).toContain(
      'aria-current="page">Last week',
    )
    const carol = await app.request(`/api/sites/${path("carol@hpc.desy.example.org")}`)
    expect(((await carol.json()) as ApiSite).range).toBe("6h")
  })

  test("finds a name holding a slash, percent-encoded", async () => {
    const { app, store } = fixtureApp(NOW)
    stores.push(store)
    expect((await app.request(`/site/${path("a/b")}`)).status).toBe(404)
    store.saveReport({ uuid: "a/b", clientTime: null, metrics: emptyMetrics() }, null, NOW)
    const res = await app.request(`/site/${path("a/b")}`)
    expect(res.status).toBe(200)
    expect(await res.text()).toContain("<dt>uuid</dt><dd>a/b</dd>")
  })

  test("an unknown name is a 404 page naming it, escaped and cut to 200 characters", async () => {
    const app = setup()
    const res = await app.request(`/site/${path(`<script>${"y".repeat(500)}`)}`)
    expect(res.status).toBe(404)
    const page = await res.text()
    expect(page).toContain("No site named “&lt;script&gt;yyy")
    expect(page).not.toContain("<script>")
    expect(page).not.toContain("y".repeat(200))
  })
})

describe("GET /api/sites/NAME", () => {
  test("answers the site's entry of /api/clients and its history in the range", async () => {
    const app = setup()
    const res = await app.request(`/api/sites/${path("bob@login2.wisc.example.org")}?range=1h`)
    expect(res.status).toBe(200)
    const body = (await res.json()) as ApiSite
    expect(body.site.uuid).toBe("bob@login2.wisc.example.org")
    expect(body.site.token_name).toBe("wisc")
    expect(body.range).toBe("1h")
    expect(body.bucket_s).toBe(300)
    expect(body.history.length).toBeGreaterThanOrEqual(12)
    expect(body.history.length).toBeLessThanOrEqual(13)
    expect(body.history.at(-1)?.t).toBe(new Date(NOW).toISOString())
  })

  test("an unknown name is a JSON 404", async () => {
    const res = await setup().request("/api/sites/nobody")
    expect(res.status).toBe(404)
    expect(await res.json()).toEqual({ error: 'no site named "nobody"' })
  })
})

describe("GET / compressed", () => {
  test("is gzipped when the client accepts it, to the same page", async () => {
    const app = setup()
    const plain = await (await app.request("/")).text()
    const res = await app.request("/", { headers: { "accept-encoding": "gzip, br" } })
    expect(res.headers.get("content-encoding")).toBe("gzip")
    const bytes = new Uint8Array(await res.arrayBuffer())
    expect(new TextDecoder().decode(Bun.gunzipSync(bytes))).toBe(plain)
    expect(bytes.length * 5).toBeLessThan(plain.length)
  })

  test("charts the ranges it is asked for, the day otherwise", async () => {
    const app = setup()
    for (const [query, current] of [
      ["?range=1h", "Last hour"],
      ["?range=6h", "Last 6 hours"],
      ["?range=nonsense", "Last day"],
    ]) {
      const page = await (await app.request(`/${query}`)).text()
      expect(page).toContain(`aria-current="page">${current}`)
    }
  })
})
