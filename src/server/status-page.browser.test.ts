/**
 * The status page laid out by a real browser (Debian's headless chromium): at phone width
 * nothing is wider than the screen and no table hides columns, and on a desktop one long
 * site name neither widens the page nor runs over another legend. Skipped, saying so, when
 * chromium is not installed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fixtureApp, LONG_SITE } from "./page-fixture.ts"

const CHROMIUM = Bun.which("chromium") ?? Bun.which("chromium-browser")
const NOW = Date.UTC(2026, 10, 21, 12, 0, 0)

/** What the injected script measures, in CSS pixels. */
interface Layout {
  viewport: number
  /** The document's scrollable width: wider than the viewport means sideways scrolling. */
  page: number
  /** Each chart's right edge and the right edge of the section holding it. */
  charts: { right: number; width: number; sectionRight: number }[]
  /** Each table's width, the width of the box it is shown in and whether that box scrolls. */
  tables: { table: number; box: number; scrolls: boolean }[]
  /** Each legend entry's box and its chart's. */
  legends: { left: number; right: number; figureLeft: number; figureRight: number }[]
}

/**
 * Runs in the page after layout and leaves its measurements in a `<pre>` of the frame page
 * for --dump-dom. The page itself carries no script (its CSP forbids it): the test server
 * adds this one.
 */
const MEASURE = `<script>
(() => {
  const box = (e) => e.getBoundingClientRect()
  const layout = {
    viewport: innerWidth,
    page: document.documentElement.scrollWidth,
    charts: [...document.querySelectorAll("figure.chart svg")].map((s) => ({
      right: box(s).right, width: box(s).width, sectionRight: box(s.closest("section")).right,
    })),
    tables: [...document.querySelectorAll("table")].map((t) => ({
      table: t.scrollWidth, box: t.parentElement.clientWidth,
      scrolls: getComputedStyle(t.parentElement).overflowX === "auto",
    })),
    legends: [...document.querySelectorAll("ul.legend li")].map((li) => ({
      left: box(li).left, right: box(li).right,
      figureLeft: box(li.closest("figure")).left, figureRight: box(li.closest("figure")).right,
    })),
  }
  const pre = document.createElement("pre")
  pre.id = "layout"
  pre.textContent = btoa(JSON.stringify(layout))
  parent.document.body.append(pre)
})()
</script>`

let server: ReturnType<typeof Bun.serve> | undefined
let profile = ""

beforeAll(() => {
  if (CHROMIUM === null) return
  const { app } = fixtureApp(NOW)
  profile = mkdtempSync(join(tmpdir(), "glidein-chromium-"))
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const url = new URL(request.url)
      // Headless chromium's window is at least 500 px wide: a frame gives the page any width.
      if (url.pathname === "/frame") {
        const src = url.searchParams.get("path") ?? "/"
        const width = url.searchParams.get("width") ?? "390"
        return new Response(
          `<!doctype html><body style="margin:0"><iframe src="${Bun.escapeHTML(src)}" style="border:0;width:${width}px;height:844px"></iframe></body>`,
          { headers: { "content-type": "text/html" } },
        )
      }
      const headers = new Headers(request.headers)
      headers.delete("accept-encoding")
      const res = await app.fetch(new Request(request.url, { headers }))
      const page = (await res.text()).replace("</body>", `${MEASURE}</body>`)
      return new Response(page, { status: res.status, headers: { "content-type": "text/html" } })
    },
  })
})

afterAll(async () => {
  await server?.stop(true)
  if (profile) rmSync(profile, { recursive: true, force: true })
})

/** Loads `path` in a frame `width` × 844 px in headless chromium; returns the measurements. */
async function measure(path: string, width: number): Promise<Layout> {
  const proc = Bun.spawn(
    [
      CHROMIUM as string,
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--hide-scrollbars",
      `--user-data-dir=${profile}`,
      "--window-size=1400,900",
      "--dump-dom",
      `http://127.0.0.1:${server?.port}/frame?width=${width}&path=${encodeURIComponent(path)}`,
    ],
    { stdout: "pipe", stderr: "pipe" },
  )
  const [dom, err] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ])
  const encoded = /<pre id="layout">([^<]*)<\/pre>/.exec(dom)?.[1]
  if (!encoded) throw new Error(`chromium printed no measurements: ${err.slice(-2000)}`)
  const layout = JSON.parse(atob(encoded)) as Layout
  expect(layout.viewport).toBe(width)
  return layout
}

const PAGES = ["/", "/?range=1h", `/site/${encodeURIComponent(LONG_SITE)}`]

describe.skipIf(CHROMIUM === null)(
  `status page in headless chromium${CHROMIUM === null ? " (skipped: chromium is not installed)" : ""}`,
  () => {
    for (const path of PAGES) {
      test(`${path.slice(0, 30)} at phone width (390 px): charts fit their card, tables show every column`, async () => {
        const layout = await measure(path, 390)
        expect(layout.page).toBeLessThanOrEqual(390)
        expect(layout.charts.length).toBeGreaterThan(0)
        for (const c of layout.charts) {
          expect(c.right).toBeLessThanOrEqual(c.sectionRight)
          expect(c.width).toBeGreaterThan(250)
        }
        for (const t of layout.tables) expect(t.table).toBeLessThanOrEqual(t.box)
      })

      test(`${path.slice(0, 30)} at tablet width (768 px): nothing wider than the screen, wide tables scroll`, async () => {
        const layout = await measure(path, 768)
        expect(layout.page).toBeLessThanOrEqual(768)
        for (const c of layout.charts) expect(c.right).toBeLessThanOrEqual(c.sectionRight)
        for (const t of layout.tables) expect(t.table <= t.box || t.scrolls).toBe(true)
      })

      test(`${path.slice(0, 30)} at desktop width (1280 px): a long site name stays in its chart`, async () => {
        const layout = await measure(path, 1280)
        expect(layout.page).toBeLessThanOrEqual(1280)
        expect(layout.legends.length).toBeGreaterThan(0)
        for (const l of layout.legends) {
          expect(l.left).toBeGreaterThanOrEqual(l.figureLeft - 0.5)
          expect(l.right).toBeLessThanOrEqual(l.figureRight + 0.5)
        }
      })
    }
  },
)

if (CHROMIUM === null)
  console.warn("status-page.browser.test.ts: skipped, chromium is not installed")
