import { describe, expect, test } from "bun:test"
import { DEFAULT_FLAG_RULE, flagSite, type SiteSample } from "./flag-site.ts"

const MIN = 60_000
const NOW = 10 * 3_600_000

/** One sample every 5 minutes over the last 90 minutes, each from `at`. */
function samples(at: (minutesAgo: number) => Omit<SiteSample, "at">): SiteSample[] {
  const out: SiteSample[] = []
  for (let ago = 90; ago >= 0; ago -= 5) out.push({ at: NOW - ago * MIN, ...at(ago) })
  return out
}

const healthy = {
  running: 10,
  joined: 10,
  claimed: 8,
  idleJobs: 100,
  jobsEnded: 3,
  jobsEndedFast: 0,
}

describe("flagSite()", () => {
  test("flagSite() flags glideins that run at the site but never join", () => {
    const flag = flagSite(
      samples(() => ({ ...healthy, joined: 0, claimed: 0, jobsEnded: 0 })),
      NOW,
    )
    expect(flag?.kind).toBe("never-joins")
    expect(flag?.since).toBe(NOW - 60 * MIN)
    expect(flag?.reason).toContain(
      "none joined the pool in 60 min: likely a wrong or expired pool credential",
    )
  })

  test("flagSite() flags glideins that join and idle while jobs wait, not while none wait", () => {
    const idle = { ...healthy, claimed: 0, jobsEnded: 0 }
    expect(
      flagSite(
        samples(() => idle),
        NOW,
      )?.kind,
    ).toBe("never-claimed")
    expect(
      flagSite(
        samples(() => ({ ...idle, idleJobs: 0 })),
        NOW,
      ),
    ).toBeUndefined()
  })

  test("flagSite() flags a black hole: every job that ended there ended fast", () => {
    const hole = samples(() => ({ ...healthy, jobsEnded: 4, jobsEndedFast: 4 }))
    const flag = flagSite(hole, NOW)
    expect(flag?.kind).toBe("black-hole")
    // 12 samples after the first of the span, 4 jobs each
    expect(flag?.reason).toContain(
      "all 48 jobs that ended on its glideins in 60 min ended within 60 s",
    )
    // one job that ran its course is no black hole; too few jobs to tell are not either
    expect(
      flagSite(
        samples((ago) => ({ ...healthy, jobsEnded: 4, jobsEndedFast: ago === 30 ? 3 : 4 })),
        NOW,
      ),
    ).toBeUndefined()
    expect(flagSite(hole, NOW, { ...DEFAULT_FLAG_RULE, minJobs: 100 })).toBeUndefined()
  })

  test("flagSite() waits for the whole span and forgives a pattern broken once", () => {
    const never = { ...healthy, joined: 0, claimed: 0, jobsEnded: 0 }
    const recent = samples(() => never).filter((s) => s.at > NOW - 50 * MIN)
    expect(flagSite(recent, NOW)).toBeUndefined()
    expect(
      flagSite(
        samples((ago) => (ago === 20 ? healthy : never)),
        NOW,
      ),
    ).toBeUndefined()
    expect(
      flagSite(
        samples(() => healthy),
        NOW,
      ),
    ).toBeUndefined()
    // a shorter span is covered sooner
    expect(flagSite(recent, NOW, { ...DEFAULT_FLAG_RULE, spanMs: 30 * MIN })?.kind).toBe(
      "never-joins",
    )
  })
})
