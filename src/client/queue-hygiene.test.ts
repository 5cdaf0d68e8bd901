import { describe, expect, test } from "bun:test"
import type { JournalRecord } from "./journal.ts"
import { longQueued } from "./queue-hygiene.ts"

const resources = { cpus: 1, memoryMb: 2000, diskKb: 1000, gpus: 0, walltimeS: 3600 }
const submit = (time: string, jobIds: string[], partition = "cpu"): JournalRecord => ({
  kind: "submit",
  time,
  partition,
  scheduler: "slurm",
  count: jobIds.length,
  resources,
  jobIds,
})

describe("longQueued()", () => {
  const now = new Date("2026-12-07T12:00:00Z")
  const records = [
    submit("2026-12-07T08:00:00Z", ["100"]),
    submit("2026-12-07T11:30:00Z", ["101"]),
    submit("2026-12-07T08:00:00Z", ["200"]),
    submit("2026-12-07T07:00:00Z", ["300"], "gpu"),
  ]

  test("longQueued() picks the waiting glideins submitted longer ago than the limit", () => {
    expect(longQueued(records, "cpu", ["100", "101"], now, 2)).toEqual(["100"])
    // Waiting glideins only: 200 is old but not waiting (the caller lists the waiting ones).
    expect(longQueued(records, "cpu", ["101"], now, 2)).toEqual([])
  })

  test("longQueued() takes an array task by its job's entry, and leaves jobs no journal names", () => {
    expect(longQueued(records, "cpu", ["200_3", "999", "100"], now, 2)).toEqual(["200_3", "100"])
  })

  test("longQueued() keeps to the partition", () => {
    expect(longQueued(records, "cpu", ["300"], now, 2)).toEqual([])
    expect(longQueued(records, "gpu", ["300"], now, 2)).toEqual(["300"])
  })
})
