import { describe, expect, test } from "bun:test"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { slurm } from "../../schedulers/slurm.ts"
import { appendJournal, type JournalRecord, readJournal } from "../site/journal.ts"
import type { PartitionRound } from "./plan-round.ts"
import { longQueued, surplusMargin, tidyQueue } from "./queue-hygiene.ts"

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

/**
 * A state folder whose journal holds glideins 100–103, submitted an hour apart from 08:00,
 * and a scancel that records what it was asked, at noon.
 */
function fourWaiting() {
  const dir = mkdtempSync(join(tmpdir(), "glidein-surplus-"))
  const journal = join(dir, "journal.jsonl")
  const rounds = join(dir, "surplus-rounds")
  for (const [hour, id] of [
    ["08", "100"],
    ["09", "101"],
    ["10", "102"],
    ["11", "103"],
  ] as const) {
    appendJournal(journal, submit(`2026-12-07T${hour}:00:00Z`, [id]))
  }
  const ran: string[] = []
  const deps = {
    run: async (argv: string[]) => {
      ran.push(argv.join(" "))
      return { exitCode: 0, stdout: "", stderr: "", timedOut: false }
    },
    env: {},
    now: () => new Date("2026-12-07T12:00:00Z"),
  }
  return { dir, journal, rounds, ran, deps }
}

describe("tidyQueue()", () => {
  test("tidyQueue() removes the newest waiting glideins beyond the margin after three rounds in a row", async () => {
    const { dir, journal, rounds, ran, deps } = fourWaiting()
    try {
      // 4 waiting (103 is the newest), 1 running: the server says 3 are too many; the margin
      // keeps 1, so 2 go — but only on the third round in a row.
      const counted = [
        {
          partition: { name: "cpu", settings: {}, scheduler: slurm },
          counts: { running: 1, idle: 4 },
          idleIds: ["100", "101", "102", "103"],
        },
      ] as unknown as PartitionRound[]
      for (let round = 1; round <= 2; round++) {
        expect(await tidyQueue(journal, rounds, counted, 3, deps)).toEqual({
          said: [],
          failed: false,
        })
      }
      // A round without a surplus starts the count again.
      await tidyQueue(journal, rounds, counted, undefined, deps)
      for (let round = 1; round <= 2; round++) await tidyQueue(journal, rounds, counted, 3, deps)
      expect(ran).toEqual([])
      const third = await tidyQueue(journal, rounds, counted, 3, deps)
      expect(ran).toEqual(["scancel 103 102"])
      expect(third.said).toEqual([
        "[cpu] removed 2 queued glideins beyond this site's share (the server's allotment said so 3 rounds in a row): 103 102",
      ])
      const cancelled = readJournal(journal).filter((r) => r.kind === "cancel")
      expect(cancelled.map((r) => r.jobIds)).toEqual([["103", "102"]])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test("tidyQueue() never removes a glidein twice: the long-queued go first, the surplus from the rest", async () => {
    const { dir, journal, rounds, ran, deps } = fourWaiting()
    try {
      writeFileSync(rounds, "2\n")
      const counted = [
        {
          partition: { name: "cpu", settings: { max_queued_hours: 1 }, scheduler: slurm },
          counts: { running: 0, idle: 4 },
          idleIds: ["100", "101", "102", "103"],
        },
      ] as unknown as PartitionRound[]
      await tidyQueue(journal, rounds, counted, 3, deps)
      expect(ran).toEqual(["scancel 100 101 102", "scancel 103"])
      expect(readJournal(journal).flatMap((r) => (r.kind === "cancel" ? r.jobIds : []))).toEqual([
        "100",
        "101",
        "102",
        "103",
      ])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test("surplusMargin() keeps a tenth of the queue, at least one", () => {
    expect(surplusMargin(0)).toBe(1)
    expect(surplusMargin(4)).toBe(1)
    expect(surplusMargin(35)).toBe(4)
  })
})
