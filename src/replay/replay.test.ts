import { afterAll, describe, expect, test } from "bun:test"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DEFAULT_TERMS } from "../allotment/allot-policy.ts"
import { replay } from "./replay.ts"
import { readHistory } from "./replay-history.ts"
import { ROUND_MS, recordHistory } from "./replay-testdata.ts"

const dir = mkdtempSync(join(tmpdir(), "replay-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const T0 = Math.floor(Date.now() / ROUND_MS) * ROUND_MS - 5 * ROUND_MS

describe("replay()", () => {
  test("replay() of a recorded database matches the hand-computed rounds", () => {
    const path = join(dir, "serve.db")
    recordHistory(path, T0)
    const history = readHistory(path, T0 - ROUND_MS)
    expect(history.tokens.get("b")).toBe("lab")
    const policy = { defaults: DEFAULT_TERMS, sites: { lab: { backoffAfter: 1 } } }
    const result = replay(history, { policy, from: T0, to: T0 + 3 * ROUND_MS, freshMs: 1_800_000 })
    // Round 0: a alone is given all 10 jobs; b then finds them covered by a's queue.
    // Round 1: a starts 4 (the most it ran), has 6 queued, gets 0; b is given the 4 jobs
    // no glidein is queued for and launches nothing. Round 2: no idle job: the 4 glideins
    // a starts find nothing (wasted), and b, failing once, is backed off.
    expect(result.rounds).toEqual([
      {
        t: T0,
        demand: 10,
        recordedQueued: 0,
        replayedQueued: 10,
        recordedRunning: 0,
        replayedRunning: 0,
      },
      {
        t: T0 + ROUND_MS,
        demand: 10,
        recordedQueued: 0,
        replayedQueued: 6,
        recordedRunning: 4,
        replayedRunning: 4,
      },
      {
        t: T0 + 2 * ROUND_MS,
        demand: 0,
        recordedQueued: 0,
        replayedQueued: 2,
        recordedRunning: 0,
        replayedRunning: 0,
      },
    ])
    const [a, b] = result.sites
    expect(a).toEqual({
      uuid: "a",
      tokenName: null,
      capacity: 4,
      failing: false,
      recorded: { launched: 4, queuedHours: 0, runningHours: 4 / 12, peakQueued: 0 },
      replayed: {
        launched: 10,
        queuedHours: 18 / 12,
        runningHours: 4 / 12,
        peakQueued: 10,
        run: 4,
        wasted: 4,
        backedOffRounds: 0,
      },
    })
    expect(b).toMatchObject({ uuid: "b", tokenName: "lab", capacity: 0, failing: true })
    expect(b!.replayed).toMatchObject({ launched: 0, run: 0, wasted: 0, backedOffRounds: 1 })
    expect([...result.queuedBySite.get("a")!]).toEqual([10, 6, 2])
  })
})
