import { describe, expect, test } from "bun:test"
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
})
