import { describe, expect, test } from "bun:test"
import { acceptsGzip, htmlResponse } from "./page-response.ts"

const PAGE = `<!doctype html><p>${"glidein ".repeat(500)}</p>`

describe("acceptsGzip()", () => {
  test("takes gzip, x-gzip and * with a q-value above 0, unless gzip is refused by name", () => {
    const cases: [string | null, boolean][] = [
      [null, false],
      ["", false],
      ["identity", false],
      ["gzip", true],
      ["br, GZIP", true],
      ["gzip, deflate, br, zstd", true],
      ["x-gzip", true],
      ["*", true],
      ["gzip;q=0", false],
      ["gzip; q=0.5", true],
      ["gzip;q=0, *", false],
      ["*;q=0", false],
      ["deflate", false],
    ]
    for (const [header, ok] of cases) expect([header, acceptsGzip(header)]).toEqual([header, ok])
  })
})

describe("htmlResponse()", () => {
  const request = (encoding?: string) =>
    new Request("http://x/", { headers: encoding ? { "accept-encoding": encoding } : {} })

  test("gzips a page for a client that accepts it, and says it varies by Accept-Encoding", async () => {
    const res = htmlResponse(request("gzip, deflate"), PAGE)
    expect(res.headers.get("content-encoding")).toBe("gzip")
    expect(res.headers.get("vary")).toBe("accept-encoding")
    const bytes = new Uint8Array(await res.arrayBuffer())
    expect(bytes.length).toBeLessThan(PAGE.length / 10)
    expect(new TextDecoder().decode(Bun.gunzipSync(bytes))).toBe(PAGE)
  })

  test("sends the page as it is without gzip in Accept-Encoding, or when it is short", async () => {
    for (const res of [htmlResponse(request(), PAGE), htmlResponse(request("gzip"), "<p>hi</p>")]) {
      expect(res.headers.get("content-encoding")).toBeNull()
      expect(res.headers.get("vary")).toBe("accept-encoding")
    }
    expect(await htmlResponse(request("gzip;q=0"), PAGE).text()).toBe(PAGE)
  })

  test("allows no script and nothing from elsewhere, with the status it is given", () => {
    const res = htmlResponse(request(), PAGE, 404)
    expect(res.status).toBe(404)
    expect(res.headers.get("content-type")).toBe("text/html; charset=UTF-8")
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'")
    expect(res.headers.get("x-content-type-options")).toBe("nosniff")
  })
})
