import { describe, expect, test } from "bun:test"
import type { SiteFlag } from "../pool/index.ts"
import { type AlertEvent, Alerts } from "./alerts.ts"

const MIN = 60_000
const T0 = Date.parse("2025-03-01T12:00:00Z")
const STALE = 30 * MIN

function watch(startedAt = T0) {
  const events: AlertEvent[] = []
  const alerts = new Alerts({ send: (e) => events.push(e), startedAt })
  return { alerts, events }
}

describe("Alerts.sites()", () => {
  test("a site that goes stale fires once, and resolves once when it reports again", () => {
    const { alerts, events } = watch()
    const seen = T0
    for (const at of [T0 + 10 * MIN, T0 + 31 * MIN, T0 + 40 * MIN, T0 + 50 * MIN]) {
      alerts.sites([{ uuid: "site@a", lastSeen: seen }], STALE, at)
    }
    alerts.sites([{ uuid: "site@a", lastSeen: T0 + 55 * MIN }], STALE, T0 + 55 * MIN)
    alerts.sites([{ uuid: "site@a", lastSeen: T0 + 55 * MIN }], STALE, T0 + 60 * MIN)
    expect(events).toEqual([
      {
        text: "glidein serve: site `site@a` is stale: no report for 31 min (stale after 30 min)",
        event: "site-stale",
        state: "firing",
        site: "site@a",
        at: "2025-03-01T12:31:00.000Z",
        details: { last_report: "2025-03-01T12:00:00.000Z", stale_after_s: 1800 },
      },
      {
        text: "glidein serve: site `site@a` reports again, after 24 min stale",
        event: "site-stale",
        state: "resolved",
        site: "site@a",
        at: "2025-03-01T12:55:00.000Z",
        details: { last_report: "2025-03-01T12:55:00.000Z", stale_after_s: 1800 },
      },
    ])
  })

  test("a site already stale when the server started says nothing, nor when it returns", () => {
    const { alerts, events } = watch(T0 + 60 * MIN)
    alerts.sites([{ uuid: "old", lastSeen: T0 }], STALE, T0 + 61 * MIN)
    alerts.sites([{ uuid: "old", lastSeen: T0 + 62 * MIN }], STALE, T0 + 62 * MIN)
    expect(events).toEqual([])
    // …but it is watched from then on.
    alerts.sites([{ uuid: "old", lastSeen: T0 + 62 * MIN }], STALE, T0 + 93 * MIN)
    expect(events.map((e) => [e.event, e.state, e.site])).toEqual([["site-stale", "firing", "old"]])
  })

  test("a site the store forgot is dropped without a resolved event; its flag is the pool's", () => {
    const { alerts, events } = watch()
    alerts.sites([{ uuid: "gone", lastSeen: T0 }], STALE, T0 + 31 * MIN)
    alerts.siteFlagged("gone", FLAG, T0 + 31 * MIN)
    alerts.sites([], STALE, T0 + 40 * MIN)
    alerts.sites([], STALE, T0 + 41 * MIN)
    expect(alerts.book.has("site-stale", "gone")).toBe(false)
    // Flags come and go with the pool's view, not the store: no second firing.
    alerts.siteFlagged("gone", FLAG, T0 + 41 * MIN)
    expect(events.map((e) => [e.event, e.state])).toEqual([
      ["site-stale", "firing"],
      ["site-flagged", "firing"],
    ])
  })

  test("a site's name cannot mention a channel or format the text: it is quoted and escaped", () => {
    const { alerts, events } = watch()
    alerts.sites([{ uuid: "<!channel> @all `x` *b*\u202e", lastSeen: T0 }], STALE, T0 + 31 * MIN)
    expect(events[0]?.text).toBe(
      "glidein serve: site `&lt;!channel&gt; @all 'x' *b*\\u202e` is stale: no report for 31 min (stale after 30 min)",
    )
    // The JSON field carries the name as it is: JSON needs no escaping of ours.
    expect(events[0]?.site).toBe("<!channel> @all `x` *b*\u202e")
  })
})

describe("Alerts.queryTool()", () => {
  test("condor_q failing three polls in a row fires once with its error, and resolves once", () => {
    const { alerts, events } = watch()
    const good = { error: null, updated: T0 }
    const bad = { error: "condor_q exited with status 1: Failed to fetch ads", updated: T0 }
    // Its end is held as long as its start: three good polls.
    const polls = [good, bad, bad, bad, bad, good, good, good]
    polls.forEach((state, i) => {
      alerts.queryTool("condor_q", state, T0 + i * 5 * MIN)
    })
    expect(events).toEqual([
      {
        text: "glidein serve: condor_q has failed 3 polls in a row: `condor_q exited with status 1: Failed to fetch ads`; the demand table of 15 min ago is kept",
        event: "condor_q-failing",
        state: "firing",
        site: null,
        at: "2025-03-01T12:15:00.000Z",
        details: {
          error: "condor_q exited with status 1: Failed to fetch ads",
          since: "2025-03-01T12:05:00.000Z",
          last_good: "2025-03-01T12:00:00.000Z",
          failed_polls: 3,
        },
      },
      {
        text: "glidein serve: condor_q answers again, after failing for 20 min",
        event: "condor_q-failing",
        state: "resolved",
        site: null,
        at: "2025-03-01T12:35:00.000Z",
        details: {
          error: null,
          since: "2025-03-01T12:05:00.000Z",
          last_good: "2025-03-01T12:00:00.000Z",
        },
      },
    ])
  })

  test("condor_status is its own condition, and a flapping poll says nothing", () => {
    const { alerts, events } = watch()
    for (let i = 0; i < 10; i++) {
      const error = i % 2 === 0 ? "condor_status timed out" : null
      alerts.queryTool("condor_status", { error, updated: null }, T0 + i * MIN)
    }
    expect(events).toEqual([])
    for (let i = 10; i < 13; i++) {
      alerts.queryTool("condor_status", { error: "timed out", updated: null }, T0 + i * MIN)
    }
    expect(events.map((e) => [e.event, e.state, e.text])).toEqual([
      [
        "condor_status-failing",
        "firing",
        "glidein serve: condor_status has failed 3 polls in a row: `timed out`; there is no pool view yet",
      ],
    ])
    expect(alerts.book.isFiring("condor_q-failing", null)).toBe(false)
  })
})

const FLAG: SiteFlag = {
  kind: "never-joins",
  since: T0 - 60 * MIN,
  reason: "its glideins run at the site but none joined the pool in 60 min",
}

describe("Alerts.siteFlagged()", () => {
  test("a flagged site fires once with the reason, and resolves once", () => {
    const { alerts, events } = watch()
    alerts.siteFlagged("s", undefined, T0)
    alerts.siteFlagged("s", FLAG, T0 + MIN)
    alerts.siteFlagged("s", FLAG, T0 + 2 * MIN)
    alerts.siteFlagged("s", undefined, T0 + 3 * MIN)
    alerts.siteFlagged("s", undefined, T0 + 4 * MIN)
    expect(events.map((e) => [e.state, e.text, e.details])).toEqual([
      [
        "firing",
        "glidein serve: site `s` is flagged: its glideins run at the site but none joined the pool in 60 min",
        { flag: "never-joins", flagged_since: "2025-03-01T11:00:00.000Z", reason: FLAG.reason },
      ],
      [
        "resolved",
        "glidein serve: site `s` is no longer flagged, after 2 min",
        { flagged_since: "2025-03-01T12:01:00.000Z" },
      ],
    ])
  })
})

describe("Alerts.tokenExpiry()", () => {
  test("a token fires once within the warning span, and resolves once when renewed", () => {
    const { alerts, events } = watch()
    const expires = T0 + 10 * 86_400_000
    alerts.tokenExpiry("s", expires, T0)
    alerts.tokenExpiry("s", expires, T0 + 4 * 86_400_000)
    alerts.tokenExpiry("s", expires, T0 + 11 * 86_400_000)
    alerts.tokenExpiry("s", expires + 30 * 86_400_000, T0 + 11 * 86_400_000)
    expect(events.map((e) => [e.state, e.text, e.details])).toEqual([
      [
        "firing",
        "glidein serve: the token of site `s` expires in 6 days (2025-03-11T12:00:00.000Z)",
        { expires: "2025-03-11T12:00:00.000Z" },
      ],
      [
        "resolved",
        "glidein serve: the token of site `s` no longer expires within 7 days",
        { expires: "2025-04-10T12:00:00.000Z" },
      ],
    ])
  })
})
