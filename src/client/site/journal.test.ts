import { afterEach, describe, expect, test } from "bun:test"
import { appendFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { cleanUp, tempDir } from "../../test-support.ts"
import {
  appendJournal,
  type JournalRecord,
  outstandingJobs,
  readJournal,
  type SubmitRecord,
  withoutIds,
} from "./journal.ts"

afterEach(cleanUp)
function journalPath(): string {
  return join(tempDir("glidein-journal-"), "journal.jsonl")
}

const resources = { cpus: 1, memoryMb: 2100, diskKb: 11264000, gpus: 0, walltimeS: 3600 }
const submit = (partition: string, jobIds: string[]): SubmitRecord => ({
  kind: "submit",
  time: "2026-01-01T00:00:00.000Z",
  partition,
  scheduler: "slurm",
  count: jobIds.length,
  resources,
  jobIds,
})

describe("journal", () => {
  test("readJournal() reads back what appendJournal() wrote, in order, from a private file", () => {
    const path = journalPath()
    expect(readJournal(path)).toEqual([])
    appendJournal(path, submit("a", ["1", "2"]))
    appendJournal(path, {
      kind: "cancel",
      time: "2026-01-02T00:00:00.000Z",
      partition: "a",
      jobIds: ["1"],
    })
    expect(readJournal(path).map((r) => r.kind)).toEqual(["submit", "cancel"])
    expect(statSync(path).mode & 0o777).toBe(0o600)
  })

  test("readJournal() skips a line cut short and keeps the rest", () => {
    const path = journalPath()
    appendJournal(path, submit("a", ["1"]))
    appendFileSync(path, '{"kind":"submit","partition":"a","jobI\n')
    appendJournal(path, submit("a", ["2"]))
    expect(readJournal(path)).toHaveLength(2)
  })

  test("outstandingJobs() lists submitted ids per partition minus cancelled ones", () => {
    const records: JournalRecord[] = [
      submit("a", ["1", "2"]),
      submit("b", ["3"]),
      { kind: "cancel", time: "t", partition: "a", jobIds: ["1"] },
      submit("a", ["4"]),
    ]
    expect(outstandingJobs(records)).toEqual(
      new Map([
        ["a", ["2", "4"]],
        ["b", ["3"]],
      ]),
    )
  })

  test("outstandingJobs() drops ids found finished like cancelled ones", () => {
    const records: JournalRecord[] = [
      submit("a", ["1", "2"]),
      { kind: "cancel", time: "t", partition: "a", jobIds: ["2"], finished: true },
    ]
    expect(outstandingJobs(records)).toEqual(new Map([["a", ["1"]]]))
  })

  test("withoutIds() counts glideins submitted without an id, not those of unknown outcome", () => {
    const records: JournalRecord[] = [
      { ...submit("a", []), count: 2 },
      { ...submit("a", []), count: 3, outcome: "unknown" },
    ]
    expect(withoutIds(records)).toEqual(new Map([["a", 2]]))
  })
})
