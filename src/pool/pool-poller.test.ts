import { describe, expect, test } from "bun:test"
import type { EndedJobs } from "./condor-history-parse.ts"
import type { GlideinAds, GlideinSlot } from "./condor-status-parse.ts"
import { PoolPoller } from "./pool-poller.ts"

const slot = (name: string, client: string): GlideinSlot => ({
  name: `slot1@${name}`,
  glidein: name,
  slotType: "Partitionable",
  state: "Unclaimed",
  cpus: 4,
  client,
})

describe("PoolPoller", () => {
  test("keeps the last good glideins through failed polls, logs a failing streak once, and feeds the watch", async () => {
    const answers: (GlideinAds | Error)[] = [
      { slots: [slot("g1", "a")], badLines: 0 },
      new Error("condor_status exited with status 1"),
      new Error("condor_status exited with status 1"),
      { slots: [slot("g1", "a"), slot("g2", "a")], badLines: 0 },
    ]
    let t = 1_000_000
    const logged: string[] = []
    const polls: number[] = []
    const poller = new PoolPoller({
      source: async () => {
        const next = answers.shift()!
        if (next instanceof Error) throw next
        return next
      },
      delayMs: 60_000,
      reports: () => [{ uuid: "a", running: 2 }],
      idleJobs: () => 5,
      log: (l) => logged.push(l),
      onPoll: (view) => polls.push(view.slots?.length ?? -1),
      now: () => t,
    })
    for (let i = 0; i < 4; i++) {
      await poller.poll()
      t += 60_000
    }
    expect(polls).toEqual([1, 1, 1, 2])
    expect(poller.view().error).toBeNull()
    expect(logged).toEqual([
      "pool: condor_status failed: condor_status exited with status 1; keeping the 1 glidein slot seen 60 s ago",
      "pool: condor_status answers again after 2 failed polls",
    ])
    expect(poller.watch.view(0)).toMatchObject([{ client: "a", joined: 2 }])
  })

  test("a failing hook never stops the polling", async () => {
    const logged: string[] = []
    const poller = new PoolPoller({
      source: async () => ({ slots: [], badLines: 0 }),
      delayMs: 60_000,
      reports: () => {
        throw new Error("database gone")
      },
      idleJobs: () => 0,
      log: (l) => logged.push(l),
    })
    await poller.poll()
    await poller.poll()
    expect(logged).toEqual([
      "pool: after the poll: database gone",
      "pool: after the poll: database gone",
    ])
  })

  test("reads the history after each good condor_status poll only, and a failed read costs only that poll's jobs", async () => {
    const done = (id: string, glidein: string): EndedJobs => ({
      jobs: [{ id, status: "completed", glidein, endedAt: 1000, startedAt: 10 }],
      badLines: 0,
    })
    const status: (GlideinAds | Error)[] = [
      { slots: [slot("g1", "a")], badLines: 0 },
      new Error("condor_status exited with status 1"),
      { slots: [slot("g1", "a")], badLines: 0 },
      { slots: [slot("g1", "a")], badLines: 0 },
      { slots: [slot("g1", "a")], badLines: 0 },
    ]
    const history: (EndedJobs | Error)[] = [
      done("1.0", "g1"),
      new Error("condor_history exited with status 1: SECMAN:2010"),
      new Error("condor_history exited with status 1: SECMAN:2010"),
      {
        ...done("2.0", "g1"),
        badLines: 1,
        firstBad: {
          line: 2,
          reason: "JobStatus: expected 3 (removed) or 4 (completed)",
          text: "x",
        },
      },
    ]
    let reads = 0
    const logged: string[] = []
    let t = 1_000_000
    const poller = new PoolPoller({
      source: async () => {
        const next = status.shift()!
        if (next instanceof Error) throw next
        return next
      },
      history: async () => {
        reads++
        const next = history.shift()!
        if (next instanceof Error) throw next
        return next
      },
      delayMs: 60_000,
      reports: () => [],
      idleJobs: () => 0,
      log: (l) => logged.push(l),
      now: () => t,
    })
    for (let i = 0; i < 5; i++) {
      await poller.poll()
      t += 60_000
    }
    // not after the failed condor_status poll
    expect(reads).toBe(4)
    expect(poller.watch.view(0)).toMatchObject([{ client: "a", jobsCompleted: 2 }])
    expect(logged.filter((l) => l.includes("condor_history"))).toEqual([
      "pool: condor_history failed: condor_history exited with status 1: SECMAN:2010; no ended jobs counted this poll",
      "pool: condor_history answers again after 2 failed reads",
      "pool: condor_history: 1 line did not parse (line 2: JobStatus: expected 3 (removed) or 4 (completed))",
    ])
  })
})
