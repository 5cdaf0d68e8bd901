import { describe, expect, test } from "bun:test"
import { PollLoop } from "./poll-loop.ts"

describe("PollLoop", () => {
  test("runs once at a time, schedules the next run from the start of the last, and stop() aborts the run under way", async () => {
    let clock = 1000
    let runs = 0
    let release: (() => void) | undefined
    const scheduled: (number | null)[] = []
    let seen: AbortSignal | undefined
    const loop = new PollLoop(
      (signal) => {
        runs++
        seen = signal
        clock += 300
        return new Promise<void>((resolve) => {
          release = resolve
        })
      },
      60_000,
      () => clock,
      (at) => scheduled.push(at),
    )
    const a = loop.once()
    const b = loop.once()
    expect(runs).toBe(1)
    release?.()
    await Promise.all([a, b])
    loop.start()
    expect(runs).toBe(2)
    release?.()
    await Bun.sleep(0)
    // Started at 1300, took 300 ms: the next is due 60 s after the start.
    expect(scheduled).toEqual([61_300])
    loop.once()
    const stopped = loop.stop()
    expect(seen?.aborted).toBe(true)
    release?.()
    await stopped
    expect(scheduled.at(-1)).toBeNull()
  })
})
