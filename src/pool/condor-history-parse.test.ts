import { describe, expect, test } from "bun:test"
import { readFileSync } from "node:fs"
import path from "node:path"
import { MAX_LINE } from "./af-lines.ts"
import {
  EndedJobParser,
  HISTORY_COLUMNS,
  lastRunS,
  parseEndedJobs,
  startdOf,
} from "./condor-history-parse.ts"

/**
 * condor_history -af:tV over HISTORY_COLUMNS from HTCondor 25: five 3-second jobs completed on
 * a glidein whose client the schedd recorded in two of them (job_machine_attrs), and a job
 * removed before it ran, as HTCondor 25 writes one (no CompletionDate).
 */
const COMPLETED = readFileSync(
  path.join(import.meta.dir, "testdata/condor-history-completed.txt"),
  "utf8",
)
const LINES = COMPLETED.split("\n").filter(Boolean)

/** LINES[i] with column `c` set to `value`. */
function withValue(i: number, c: (typeof HISTORY_COLUMNS)[number], value: string): string {
  const fields = (LINES[i] as string).split("\t")
  fields[HISTORY_COLUMNS.indexOf(c)] = value
  return fields.join("\t")
}

describe("parseEndedJobs()", () => {
  test("parseEndedJobs() reads real condor_history output into jobs", () => {
    const { jobs, badLines } = parseEndedJobs(COMPLETED)
    expect(badLines).toBe(0)
    expect(jobs).toHaveLength(6)
    expect(jobs[1]).toEqual({
      id: "1.0",
      status: "completed",
      glidein: "glidein_5001_1796675569_60e507ed@vm",
      client: "ice@login1/test",
      startedAt: 1796675577,
      endedAt: 1796675582,
      exitCode: 0,
      bySignal: false,
      wallS: 5,
    })
    expect(jobs[0]?.client).toBeUndefined()
    expect(jobs[5]).toEqual({ id: "6.0", status: "removed", endedAt: 1796675590, wallS: 0 })
  })

  test("parseEndedJobs() counts lines with wrong values and keeps the good ones", () => {
    const bad = [
      withValue(0, "JobStatus", "2"),
      withValue(0, "ClusterId", "-1"),
      withValue(0, "CompletionDate", "undefined"),
      withValue(0, "CompletionDate", "17966.5"),
      withValue(0, "LastRemoteHost", '""'),
      withValue(0, "MachineAttrGLIDEIN_Client0", "7"),
      withValue(0, "ExitCode", "1.5"),
      withValue(0, "ExitBySignal", "0"),
      withValue(0, "RemoteWallClockTime", '"5"'),
      withValue(5, "EnteredCurrentStatus", "0"),
      withValue(0, "LastRemoteHost", "slot1@x"),
      (LINES[0] as string).split("\t").slice(1).join("\t"),
    ]
    const result = parseEndedJobs(`${[LINES[1], ...bad, LINES[2]].join("\n")}\n`)
    expect(result.jobs.map((j) => j.id)).toEqual(["1.0", "1.1"])
    expect(result.badLines).toBe(bad.length)
    expect(result.firstBad).toMatchObject({ line: 2 })
    expect(bad.map((line) => parseEndedJobs(`${line}\n`).firstBad?.reason)).toEqual([
      "JobStatus: expected 3 (removed) or 4 (completed)",
      "ClusterId: expected a job id",
      "CompletionDate: expected a time",
      "CompletionDate: expected a whole number of at least 0",
      "LastRemoteHost: expected a slot name",
      "MachineAttrGLIDEIN_Client0: expected a string",
      "ExitCode: expected a whole number",
      "ExitBySignal: expected true or false",
      "RemoteWallClockTime: expected a number of at least 0",
      "EnteredCurrentStatus: expected a time",
      "LastRemoteHost: expected a string, a number, a boolean or undefined",
      `expected ${HISTORY_COLUMNS.length} tab-separated values, got ${HISTORY_COLUMNS.length - 1}`,
    ])
  })

  test("EndedJobParser counts an endless line once and marks more jobs than it may hold as cut short", () => {
    const parser = new EndedJobParser(2)
    parser.push(new TextEncoder().encode("x".repeat(MAX_LINE + 1)))
    parser.push(new TextEncoder().encode(`\n${COMPLETED}`))
    const result = parser.finish()
    expect(result.badLines).toBe(1)
    expect(result.firstBad?.reason).toBe(`longer than ${MAX_LINE} characters`)
    expect(result.jobs).toHaveLength(2)
    expect(result.cutShort).toBe(true)
  })
})

describe("startdOf() and lastRunS()", () => {
  test("startdOf() takes the slot off a slot name, and leaves a startd without one", () => {
    expect(startdOf("slot1_3@glidein_5001_1796675569_60e507ed@vm")).toBe(
      "glidein_5001_1796675569_60e507ed@vm",
    )
    expect(startdOf("slot12@node.example.org")).toBe("node.example.org")
    expect(startdOf("node.example.org")).toBe("node.example.org")
    expect(startdOf("slotx@node")).toBe("slotx@node")
  })

  test("lastRunS() is the last run's span, else the wall-clock time, else unknown", () => {
    const [job] = parseEndedJobs(`${LINES[0]}\n`).jobs
    expect(lastRunS(job!)).toBe(5)
    expect(lastRunS({ ...job!, startedAt: undefined, wallS: 7 })).toBe(7)
    expect(lastRunS({ id: "1.0", status: "completed", endedAt: 10 })).toBeUndefined()
  })
})
