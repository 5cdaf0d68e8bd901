import { afterEach, describe, expect, test } from "bun:test"
import type { AlertEvent } from "./alerts.ts"
import { AlertDelivery, type AlertDeliveryOptions } from "./alerts-delivery.ts"

/** A webhook receiver on loopback that answers each request with `answer(n)` (n from 0). */
function receiver(answer: (n: number, request: Request) => Response | Promise<Response>) {
  const bodies: unknown[] = []
  const auth: (string | null)[] = []
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const n = bodies.length
      bodies.push(await request.json())
      auth.push(request.headers.get("authorization"))
      return answer(n, request)
    },
  })
  servers.push(server)
  return { bodies, auth, base: `127.0.0.1:${server.port}` }
}

const servers: ReturnType<typeof Bun.serve>[] = []
afterEach(() => {
  for (const s of servers.splice(0)) s.stop(true)
})

/** The secrets a webhook URL may carry: none may reach the log. */
const SECRETS = ["hookuser", "s3cret", "T0KEN-PATH", "qs-t0ken"]
const secretUrl = (base: string) => `http://hookuser:s3cret@${base}/hooks/T0KEN-PATH?token=qs-t0ken`

function event(n: number): AlertEvent {
  return {
    text: `glidein serve: site \`s${n}\` is stale`,
    event: "site-stale",
    state: "firing",
    site: `s${n}`,
    at: "2025-03-01T12:00:00.000Z",
    details: {},
  }
}

/** A delivery whose waits are recorded and taken at once. */
function delivery(url: string, over: Partial<AlertDeliveryOptions> = {}) {
  const logs: string[] = []
  const waits: number[] = []
  const d = new AlertDelivery({
    url,
    log: (line) => logs.push(line),
    sleep: async (ms) => {
      waits.push(ms)
    },
    ...over,
  })
  return { d, logs, waits }
}

describe("AlertDelivery", () => {
  test("a receiver that answers 200 gets each event once, in order, and nothing is logged", async () => {
    const r = receiver(() => new Response("ok"))
    const { d, logs, waits } = delivery(`http://${r.base}/hook`)
    for (let i = 0; i < 3; i++) d.send(event(i))
    await d.idle()
    expect(r.bodies).toEqual([event(0), event(1), event(2)])
    expect(logs).toEqual([])
    expect(waits).toEqual([])
    expect(d.pending).toBe(0)
  })

  test("a receiver that answers 500 is retried with back-off, logged once, until it works", async () => {
    const r = receiver((n) => new Response("no", { status: n < 4 ? 500 : 200 }))
    const { d, logs, waits } = delivery(secretUrl(r.base))
    d.send(event(1))
    d.send(event(2))
    await d.idle()
    // Four failed attempts of the first event, then both events.
    expect(r.bodies).toEqual([event(1), event(1), event(1), event(1), event(1), event(2)])
    expect(waits).toEqual([5_000, 10_000, 20_000, 40_000])
    expect(logs).toEqual([
      `alerts: cannot post to http://${r.base}/…: answered HTTP 500; retrying with back-off (at most 8 attempts an event, 100 events kept)`,
      `alerts: posting to http://${r.base}/… works again, after 4 failed attempts`,
    ])
    // The URL's credentials are used, and never logged.
    expect(r.auth[0]).toBe(`Basic ${btoa("hookuser:s3cret")}`)
    for (const secret of SECRETS) expect(logs.join("\n")).not.toContain(secret)
  })

  test("back-off is capped, an event is dropped after its attempts, and the drop is logged", async () => {
    const r = receiver(() => new Response("no", { status: 503 }))
    const { d, logs, waits } = delivery(`http://${r.base}/`, {
      maxAttempts: 5,
      firstBackoffMs: 1_000,
      maxBackoffMs: 6_000,
    })
    d.send(event(1))
    await d.idle()
    expect(r.bodies).toHaveLength(5)
    expect(waits).toEqual([1_000, 2_000, 4_000, 6_000, 6_000])
    expect(logs).toEqual([
      `alerts: cannot post to http://${r.base}: answered HTTP 503; retrying with back-off (at most 5 attempts an event, 100 events kept)`,
      "alerts: dropped 1 event: 1 after 5 failed attempts",
    ])
  })

  test("a refusal (404) is not retried; a 429's Retry-After is honoured", async () => {
    const r = receiver((n) =>
      n === 0
        ? new Response("no_service", { status: 404 })
        : n === 1
          ? new Response("slow down", { status: 429, headers: { "retry-after": "30" } })
          : new Response("ok"),
    )
    const { d, logs, waits } = delivery(`http://${r.base}/x`)
    d.send(event(1))
    d.send(event(2))
    await d.idle()
    expect(r.bodies).toEqual([event(1), event(2), event(2)])
    expect(waits).toEqual([5_000, 30_000])
    expect(logs).toEqual([
      `alerts: cannot post to http://${r.base}/…: answered HTTP 404; retrying with back-off (at most 8 attempts an event, 100 events kept)`,
      "alerts: dropped 1 event: 1 that the receiver refused",
      `alerts: posting to http://${r.base}/… works again, after 2 failed attempts`,
    ])
  })

  test("a receiver that hangs is timed out, one connection at a time, and blocks nothing", async () => {
    const hung = receiver(() => new Promise<Response>(() => {}))
    const fine = receiver(() => new Response("ok"))
    let open = 0
    let mostOpen = 0
    const counting = async (url: string, init: RequestInit) => {
      mostOpen = Math.max(mostOpen, ++open)
      try {
        return await fetch(url, init)
      } finally {
        open--
      }
    }
    const { d, logs } = delivery(secretUrl(hung.base), {
      timeoutMs: 100,
      maxAttempts: 3,
      fetch: counting,
    })
    for (let i = 0; i < 4; i++) d.send(event(i))
    // send() returned at once, and the server's other work goes on meanwhile.
    expect(await (await fetch(`http://${fine.base}/`, { method: "POST", body: "{}" })).text()).toBe(
      "ok",
    )
    await d.idle()
    // Each event tried three times, each attempt given up after the timeout.
    expect(hung.bodies).toHaveLength(12)
    expect(mostOpen).toBe(1)
    expect(logs[0]).toBe(
      `alerts: cannot post to http://${hung.base}/…: no answer within 0.1 s; retrying with back-off (at most 3 attempts an event, 100 events kept)`,
    )
    expect(logs.slice(1)).toEqual(
      Array(4).fill("alerts: dropped 1 event: 1 after 3 failed attempts"),
    )
    for (const secret of SECRETS) expect(logs.join("\n")).not.toContain(secret)
  })

  test("a receiver that never answers leaves a bounded queue, dropping the oldest", async () => {
    const hung = receiver(() => new Promise<Response>(() => {}))
    const logs: string[] = []
    const d = new AlertDelivery({
      url: secretUrl(hung.base),
      log: (line) => logs.push(line),
      timeoutMs: 100,
      maxQueue: 5,
      // The retry waits until stop().
      sleep: (_ms, signal) =>
        new Promise((resolve) => signal.addEventListener("abort", () => resolve())),
    })
    for (let i = 0; i < 50; i++) d.send(event(i))
    expect(d.pending).toBe(6)
    while (logs.length < 2) await Bun.sleep(10)
    expect(logs[1]).toBe("alerts: dropped 44 events: 44 oldest for a full queue (5 events)")
    await d.stop(0)
    expect(logs.at(-1)).toBe("alerts: 6 events not posted at shutdown")
    d.send(event(99))
    expect(d.pending).toBe(6)
    for (const secret of SECRETS) expect(logs.join("\n")).not.toContain(secret)
  })

  test("a receiver that cannot be reached is logged without the URL", async () => {
    const gone = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() })
    const base = `127.0.0.1:${gone.port}`
    gone.stop(true)
    const { d, logs } = delivery(secretUrl(base), { maxAttempts: 1 })
    d.send(event(1))
    await d.idle()
    expect(logs[0]).toStartWith(`alerts: cannot post to http://${base}/…: `)
    for (const secret of SECRETS) expect(logs.join("\n")).not.toContain(secret)
  })
})
