/**
 * @module
 * A `glidein serve` address as people write it on a command line or in a config: `host:port`,
 * `http://host:port/`, or the full `…/jsonrpc` URL. One reading for `submit` and `status`.
 */
import { UsageError } from "../../errors.ts"

/** The address as a URL (http:// when it names no scheme); `what` starts the error messages. */
export function serverAddress(text: string, what: string): URL {
  // `pool:11001` names no scheme (new URL would take "pool:" for one).
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`
  let url: URL
  try {
    url = new URL(withScheme)
  } catch {
    throw new UsageError(`${what} expects a URL like http://host:11001, got "${text}"`)
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`${what} expects an http:// or https:// URL, got "${text}"`)
  }
  return url
}
