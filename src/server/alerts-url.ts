/**
 * The webhook URL of `serve --alert-url`: what it may be, and how it is named in the log.
 * A webhook URL is a secret as a whole: Slack's and Mattermost's carry their key in the path
 * (`/services/T…/B…/XXXX`, `/hooks/xxxx`), others in the query or as `user:password@`. The log
 * and every error show only its scheme and host.
 */

/** Why `url` cannot be a webhook (one sentence, without the URL), or undefined when it can. */
export function checkAlertUrl(url: string): string | undefined {
  const parsed = URL.parse(url.trim())
  // Not echoed: a mistyped Slack URL is still its secret.
  if (parsed === null) return "expects an http:// or https:// URL (the webhook to post alerts to)"
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    return `expects an http:// or https:// URL, got a ${JSON.stringify(parsed.protocol.slice(0, 20))} URL`
  }
  if (parsed.hostname === "") return "expects an http:// or https:// URL with a host name"
  return undefined
}

/**
 * `url` as the log may show it: `https://hooks.slack.com/…`, without credentials, path,
 * query or fragment.
 */
export function redactUrl(url: string): string {
  const parsed = URL.parse(url.trim())
  if (parsed === null) return "(the alert URL)"
  const rest = parsed.pathname === "/" && parsed.search === "" && parsed.hash === "" ? "" : "/…"
  return `${parsed.protocol}//${parsed.host}${rest}`
}
