import { describe, expect, test } from "bun:test"
import type { CondorQResult } from "./condor-q-parse.ts"
import { DemandPoller, type DemandSnapshot } from "./demand-poller.ts"

const GOOD: CondorQResult = {
  rows: [{ cpus: 1, memory: 2000, disk: 10000, gpus: 0, os: null, count: 5 }],
  jobs: 5,
  badLines: 0,
}

/** A source that plays back outcomes in order (an Error rejects), and a clock it advances. */
function scripted(outcomes: (CondorQResult | Error)[]) {
  let clock = 1_000_000
  let calls = 0
  return {
    now: () => clock,
    advance: (ms: number) => {
      clock += ms
    },
    calls: () => calls,
    source: async () => {
      const next = outcomes[Math.min(calls++, outcomes.length - 1)]!
      if (next instanceof Error) throw next
      return next
    },
  }
}

function poller(s: ReturnType<typeof scripted>, lines: string[] = [], delayMs = 300_000) {
  return new DemandPoller({
    source: s.source,
    sourceName: "condor_q",
    delayMs,
    log: (l) => lines.push(l),
    now: s.now,
  })
}

describe("DemandPoller", () => {
  test("has no table (and get_state nothing to serve) before the first poll", () => {
    const p = poller(scripted([GOOD]))
    expect(p.snapshot()).toMatchObject({ rows: null, rowsJson: "null", updated: null, error: null })
  })

  test("publishes a good poll with its rows pre-serialized", async () => {
    const s = scripted([GOOD])
    const p = poller(s)
    await p.poll()
    expect(p.snapshot()).toMatchObject({
      rows: GOOD.rows,
      rowsJson: JSON.stringify(GOOD.rows),
      jobs: 5,
      updated: s.now(),
      error: null,
    })
  })

  test("keeps the last good table through a failed poll and records the error and when", async () => {
    const s = scripted([GOOD, new Error("condor_q exited with status 1: boom")])
    const lines: string[] = []
    const p = poller(s, lines)
    await p.poll()
    const good = p.snapshot()
    s.advance(300_000)
    await p.poll()
    expect(p.snapshot()).toMatchObject({
      rows: good.rows,
      rowsJson: good.rowsJson,
      updated: good.updated,
      error: "condor_q exited with status 1: boom",
      errorAt: s.now(),
    })
    expect(lines.at(-1)).toBe(
      "demand: poll failed: condor_q exited with status 1: boom; keeping the table from 300 s ago",
    )
  })

  test("clears the error when a later poll succeeds", async () => {
    const s = scripted([new Error("timeout"), GOOD])
    const p = poller(s)
    await p.poll()
    expect(p.snapshot()).toMatchObject({ rows: null, error: "timeout" })
    await p.poll()
    expect(p.snapshot()).toMatchObject({ rows: GOOD.rows, error: null, errorAt: null })
  })

  test("publishes what was set aside and merged and the query's note, and says so in the log", async () => {
    const lines: string[] = []
    const s = scripted([
      {
        ...GOOD,
        setAside: { jobs: 3, shapes: 2, first: "cpus 200000 > 100000" },
        merged: { shapes: 4, withinPercent: 5 },
        note: "the constraint matches no job",
      },
      GOOD,
    ])
    const p = poller(s, lines)
    await p.poll()
    expect(p.snapshot()).toMatchObject({
      setAside: { jobs: 3, shapes: 2, first: "cpus 200000 > 100000" },
      merged: { shapes: 4, withinPercent: 5 },
      note: "the constraint matches no job",
    })
    expect(lines).toEqual([
      "demand: 5 idle jobs in 1 row",
      "demand: 4 shapes merged into 1 row (each value at most 5 % above a job's)",
      "demand: 3 idle jobs in 2 shapes set aside, no site could run them (cpus 200000 > 100000, …)",
      "demand: the constraint matches no job",
    ])
    // A later poll without them clears them.
    await p.poll()
    const after = p.snapshot()
    expect([after.setAside, after.merged, after.note]).toEqual([undefined, undefined, undefined])
  })

  test("logs lines that did not parse once per poll", async () => {
    const lines: string[] = []
    const p = poller(
      scripted([
        { ...GOOD, badLines: 3, firstBad: { line: 2, reason: "RequestCpus: missing", text: "x" } },
      ]),
      lines,
    )
    await p.poll()
    expect(lines.filter((l) => l.includes("did not parse"))).toEqual([
      'demand: 3 lines did not parse and were left out (first at line 2: RequestCpus: missing: "x")',
    ])
  })

  test("polls at start-up, then again after the delay, until stopped", async () => {
    const s = scripted([GOOD])
    const polled: DemandSnapshot[] = []
    let resolveThird: () => void = () => {}
    const third = new Promise<void>((r) => {
      resolveThird = r
    })
    const p = new DemandPoller({
      source: s.source,
      sourceName: "demo",
      delayMs: 5,
      log: () => {},
      onPoll: (snapshot) => {
        polled.push(snapshot)
        if (polled.length === 3) resolveThird()
      },
    })
    p.start()
    // The first poll starts at once, not a delay later (pyglidein waited 5 s, serving []).
    expect(s.calls()).toBe(1)
    await third
    await p.stop()
    const calls = s.calls()
    await Bun.sleep(30)
    expect(s.calls()).toBe(calls)
    expect(p.snapshot().nextPoll).toBeNull()
  })

  test("keeps polling when what runs after a poll fails", async () => {
    const s = scripted([GOOD])
    const lines: string[] = []
    const p = new DemandPoller({
      source: s.source,
      sourceName: "condor_q",
      delayMs: 1,
      log: (l) => lines.push(l),
      onPoll: () => {
        throw new Error("disk I/O error")
      },
    })
    await p.poll()
    await p.poll()
    expect(s.calls()).toBe(2)
    expect(p.snapshot().rows).toEqual(GOOD.rows)
    expect(lines.filter((l) => l === "demand: after the poll: disk I/O error")).toHaveLength(2)
  })

  test("shares one run between overlapping poll() calls", async () => {
    const s = scripted([GOOD])
    const p = poller(s)
    await Promise.all([p.poll(), p.poll(), p.poll()])
    expect(s.calls()).toBe(1)
  })
})
