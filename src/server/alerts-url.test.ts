import { describe, expect, test } from "bun:test"
import { checkAlertUrl, redactUrl } from "./alerts-url.ts"

describe("checkAlertUrl()", () => {
  test("takes http and https URLs with a host", () => {
    expect(checkAlertUrl("https://hooks.slack.com/services/T0/B0/X")).toBeUndefined()
    expect(checkAlertUrl("http://127.0.0.1:8065/hooks/abc")).toBeUndefined()
    expect(checkAlertUrl(" https://user:pw@example.org/?token=x ")).toBeUndefined()
  })

  test("refuses anything else in one sentence that does not repeat the URL", () => {
    expect(checkAlertUrl("ftp://example.org/SECRET")).toBe(
      'expects an http:// or https:// URL, got a "ftp:" URL',
    )
    expect(checkAlertUrl("example.org/SECRET")).toBe(
      "expects an http:// or https:// URL (the webhook to post alerts to)",
    )
    expect(checkAlertUrl("http://")).toBe(
      "expects an http:// or https:// URL (the webhook to post alerts to)",
    )
  })
})

describe("redactUrl()", () => {
  test("keeps the scheme and host, never credentials, path or query", () => {
    expect(redactUrl("https://hooks.slack.com/services/T0/B0/SECRET")).toBe(
      "https://hooks.slack.com/…",
    )
    expect(redactUrl("http://user:pass@alerts.example.org:8080/?token=SECRET#x")).toBe(
      "http://alerts.example.org:8080/…",
    )
    expect(redactUrl("https://alerts.example.org")).toBe("https://alerts.example.org")
    expect(redactUrl("not a url SECRET")).toBe("(the alert URL)")
  })
})
