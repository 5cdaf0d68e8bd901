/**
 * The frame shared by the status page and the site pages: one self-contained HTML document
 * (inline CSS, inline SVG, no script), its style sheet and the header and footer. Sizes are
 * bounded so that no value, however long, widens the page: at 390 px (a phone) charts scale
 * down to their card and tables turn into one block per row.
 */
import { html, raw } from "hono/html"
import type { HtmlEscapedString } from "hono/utils/html"

const STYLE = `
:root{--bg:#f6f7f9;--panel:#fff;--text:#1d2330;--muted:#5b6475;--line:#e3e6eb;--accent:#4e79a7;--ok:#2e7d32;--warn:#b26a00;--bad:#c62828;--bar:#dbe6f3}
@media (prefers-color-scheme:dark){:root{--bg:#111318;--panel:#1a1d24;--text:#e4e7ec;--muted:#9aa3b2;--line:#2a2f3a;--accent:#79a6d6;--ok:#66bb6a;--warn:#ffb74d;--bad:#ef5350;--bar:#24344a}}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--text)}
header{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:baseline;padding:.9rem 1.5rem;background:var(--panel);border-bottom:1px solid var(--line)}
header h1{font-size:1.15rem;margin:0;min-width:0;overflow-wrap:anywhere}
header .meta{color:var(--muted)}
main{padding:1rem 1.5rem 2rem;max-width:1400px;margin:0 auto}
a{color:var(--accent)}
.status{display:inline-flex;align-items:center;gap:.4rem;font-weight:600}
.dot{width:.65rem;height:.65rem;border-radius:50%;display:inline-block}
.ok .dot{background:var(--ok)}.warn .dot{background:var(--warn)}.bad .dot{background:var(--bad)}
.ok{color:var(--ok)}.warn{color:var(--warn)}.bad{color:var(--bad)}
.alert{border:1px solid var(--bad);border-left-width:4px;background:var(--panel);padding:.6rem .9rem;margin:0 0 1rem;border-radius:6px;overflow-wrap:anywhere}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:.75rem;margin-bottom:1rem}
.card{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:.7rem .9rem;min-width:0;overflow-wrap:anywhere}
.card .label{color:var(--muted);font-size:.8rem;text-transform:uppercase;letter-spacing:.04em}
.card .value{font-size:1.6rem;font-weight:600;font-variant-numeric:tabular-nums}
section{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:.8rem 1rem 1rem;margin-bottom:1rem;min-width:0}
section>h2{font-size:1rem;margin:.1rem 0 .7rem;display:flex;justify-content:space-between;align-items:baseline;gap:.5rem 1rem;flex-wrap:wrap;overflow-wrap:anywhere}
section>h2>*{min-width:0;overflow-wrap:anywhere}
section>h2 small{font-weight:400;color:var(--muted)}
dl.facts{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.25rem 1rem;margin:0}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0;overflow-wrap:anywhere}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,440px),1fr));gap:1rem 2rem}
figure.chart{margin:0;min-width:0}
figure.chart figcaption{font-weight:600;margin-bottom:.2rem}
figure.chart svg{width:100%;height:auto;display:block}
svg .grid{stroke:var(--line);stroke-width:1}
svg .grid.minor{stroke-dasharray:2 3}
svg .tick{fill:var(--muted);font-size:12px}
svg .empty{fill:var(--muted);font-size:13px}
svg .hover:hover{fill:var(--line);fill-opacity:.6}
ul.legend{list-style:none;padding:0;margin:.3rem 0 0;display:flex;flex-wrap:wrap;gap:.2rem 1rem;font-size:.85rem;color:var(--muted)}
ul.legend li{min-width:0;max-width:100%;overflow-wrap:anywhere}
.swatch{display:inline-block;width:.8rem;height:.8rem;border-radius:2px;margin-right:.35rem;vertical-align:-1px}
nav.range{display:flex;flex-wrap:wrap;gap:.3rem}
nav.range a{padding:.15rem .55rem;border:1px solid var(--line);border-radius:4px;text-decoration:none;font-size:.85rem}
nav.range a[aria-current]{background:var(--accent);border-color:var(--accent);color:var(--panel)}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{padding:.35rem .6rem;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap}
th{color:var(--muted);font-weight:600;font-size:.8rem;text-transform:uppercase;letter-spacing:.03em}
th.text,td.text{text-align:left}
td.site a,td.site span{display:block;max-width:24rem;overflow:hidden;text-overflow:ellipsis}
td.wrap{white-space:normal;min-width:12rem;overflow-wrap:anywhere}
td.bar{width:30%;min-width:8rem}
.bar span{display:block;height:.55rem;background:var(--accent);border-radius:2px;opacity:.8}
.pill{display:inline-block;padding:0 .45rem;border-radius:999px;font-size:.78rem;font-weight:600;border:1px solid currentColor}
.muted{color:var(--muted)}
footer{color:var(--muted);font-size:.85rem;padding:0 1.5rem 1.5rem;max-width:1400px;margin:0 auto;overflow-wrap:anywhere}
@media (max-width:640px){
header,main,footer{padding-left:.75rem;padding-right:.75rem}
section{padding:.7rem .75rem .8rem}
table.stack thead{display:none}
table.stack,table.stack tbody{display:block}
table.stack tr{display:flex;flex-wrap:wrap;gap:.15rem 1rem;padding:.45rem 0;border-bottom:1px solid var(--line)}
table.stack td{display:block;border:0;padding:0;text-align:left;white-space:normal;overflow-wrap:anywhere;min-width:0;max-width:100%}
table.stack td[data-label]::before{content:attr(data-label) " ";color:var(--muted);font-size:.78rem}
table.stack td.bar{display:none}
table.stack td.site{flex-basis:100%;font-weight:600}
table.stack td.site a,table.stack td.site span{max-width:100%;white-space:nowrap}
svg .tick{font-size:15px}
}
`

/** What a page puts in the frame. */
export interface PageParts {
  /** The document's title (escaped here). */
  title: string
  /** After the page's name in the header: the poll status, a way back. */
  header: HtmlEscapedString | Promise<HtmlEscapedString>
  main: HtmlEscapedString | Promise<HtmlEscapedString>
  version: string
  /** Links shown in the footer after the version. */
  footer: HtmlEscapedString | Promise<HtmlEscapedString>
}

/** The whole document around `parts`; refreshed by the browser every minute. */
export function pageLayout(parts: PageParts) {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="60">
<title>${parts.title}</title>
<style>${raw(STYLE)}</style>
</head>
<body>
<header>${parts.header}</header>
<main>
${parts.main}
</main>
<footer>glidein ${parts.version} · ${parts.footer}</footer>
</body>
</html>`
}

/** 1234567 → "1,234,567". */
export function formatCount(n: number): string {
  return n.toLocaleString("en-US")
}
