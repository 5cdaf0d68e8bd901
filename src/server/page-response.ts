/**
 * How the HTML pages are sent: with headers that allow no script and nothing from elsewhere,
 * and gzipped for clients that accept it (the status page of 500 sites is ~100 KB of
 * repetitive markup that gzip shrinks about tenfold).
 */

/** No script at all, and nothing loaded from elsewhere: the pages work offline, and an
 *  escaping mistake could not run code. */
const PAGE_HEADERS = {
  "content-type": "text/html; charset=UTF-8",
  "content-security-policy":
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  vary: "accept-encoding",
}

/** Bodies shorter than this are sent as they are: gzip would save less than it costs. */
const MIN_GZIP_CHARS = 1024
/** Pages gzipped lately: the status page is reused for a second, and so is its gzip. */
const MAX_REMEMBERED = 8

const gzipped = new Map<string, Uint8Array<ArrayBuffer>>()

/**
 * Whether an Accept-Encoding header allows gzip: `gzip`, `x-gzip` or `*` with a q-value
 * above 0, and gzip not refused by name (`gzip;q=0, *` refuses it).
 */
export function acceptsGzip(header: string | null): boolean {
  if (header === null) return false
  const q = new Map<string, number>()
  for (const part of header.split(",")) {
    const [coding = "", ...params] = part.split(";").map((p) => p.trim().toLowerCase())
    const qParam = params.find((p) => p.startsWith("q="))
    const value = qParam === undefined ? 1 : Number(qParam.slice(2))
    q.set(coding, Number.isNaN(value) ? 0 : value)
  }
  const named = q.get("gzip") ?? q.get("x-gzip")
  return named !== undefined ? named > 0 : (q.get("*") ?? 0) > 0
}

/** An HTML page as the response to `request`, gzipped when the client accepts it. */
export function htmlResponse(request: Request, body: string, status = 200): Response {
  if (body.length < MIN_GZIP_CHARS || !acceptsGzip(request.headers.get("accept-encoding"))) {
    return new Response(body, { status, headers: PAGE_HEADERS })
  }
  let bytes = gzipped.get(body)
  if (bytes === undefined) {
    bytes = Bun.gzipSync(body)
    if (gzipped.size >= MAX_REMEMBERED) gzipped.clear()
    gzipped.set(body, bytes)
  }
  return new Response(bytes, {
    status,
    headers: { ...PAGE_HEADERS, "content-encoding": "gzip" },
  })
}
