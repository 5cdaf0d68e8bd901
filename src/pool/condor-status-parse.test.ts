import { describe, expect, test } from "bun:test"
import { readFileSync } from "node:fs"
import path from "node:path"
import {
  GlideinAdParser,
  MAX_LINE,
  parseGlideinAds,
  STARTD_COLUMNS,
} from "./condor-status-parse.ts"

/** condor_status -af:tV of two glideins (4 and 2 cores) each running one job, from HTCondor 25. */
const CLAIMED = readFileSync(
  path.join(import.meta.dir, "testdata/condor-status-claimed.txt"),
  "utf8",
)
const LINES = CLAIMED.split("\n").filter(Boolean)

describe("parseGlideinAds()", () => {
  test("parseGlideinAds() reads real condor_status output into slots", () => {
    const { slots, badLines } = parseGlideinAds(CLAIMED)
    expect(badLines).toBe(0)
    expect(slots).toHaveLength(4)
    expect(slots[0]).toEqual({
      name: "slot1@glidein_7001_1796673960_0ebf9577@vm",
      glidein: "glidein_7001_1796673960_0ebf9577@vm",
      slotType: "Partitionable",
      state: "Unclaimed",
      activity: "Idle",
      cpus: 3,
      memoryMb: 1872,
      gpus: 0,
      site: "Test Site",
      resourceName: "test-cluster",
      client: "ice@login1/test",
      batchJobId: "7001",
      version: "0.1.0-dev",
      tarballDigest:
        "manifest-sha256:26e95245acce25acff2dd4ce77b6740bafee763003ae69bd2266cd353af572b0",
      tarballVersion: "1.2.3",
      daemonStart: 1796673960,
      enteredState: 1796673961,
      collectorTime: 1796673981,
      jobStarts: 3,
      unclaimedIdleS: 21,
    })
    expect(slots[2]).toMatchObject({ slotType: "Dynamic", state: "Claimed", cpus: 1 })
    expect(slots[2]?.unclaimedIdleS).toBeUndefined()
  })

  test("parseGlideinAds() unquotes ClassAd strings and keeps a tab inside one from splitting the line", () => {
    const fields = (LINES[0] as string).split("\t")
    fields[7] = '"Site \\"A\\"\\tB\\\\"'
    const { slots, badLines } = parseGlideinAds(`${fields.join("\t")}\n`)
    expect(badLines).toBe(0)
    expect(slots[0]?.site).toBe('Site "A"\tB\\')
  })

  test("parseGlideinAds() counts lines with the wrong fields or values and keeps the good ones", () => {
    const fields = (LINES[0] as string).split("\t")
    const bad = [
      fields.slice(1).join("\t"),
      [...fields.slice(0, 4), '"four"', ...fields.slice(5)].join("\t"),
      [...fields.slice(0, 4), "-1", ...fields.slice(5)].join("\t"),
      [...fields.slice(0, 7), "Test Site", ...fields.slice(8)].join("\t"),
      ['"no-at-sign"', ...fields.slice(1)].join("\t"),
      "-- Failed to fetch ads from: <192.0.2.7:9618> : cm.example.org",
    ]
    const result = parseGlideinAds(`${[LINES[1], ...bad, LINES[2]].join("\n")}\n`)
    expect(result.slots.map((s) => s.name)).toEqual([
      "slot1@glidein_7002_1796673960_18f03a25@vm",
      "slot1_1@glidein_7001_1796673960_0ebf9577@vm",
    ])
    expect(result.badLines).toBe(6)
    expect(result.firstBad).toMatchObject({
      line: 2,
      reason: `expected ${STARTD_COLUMNS.length} tab-separated values, got ${STARTD_COLUMNS.length - 1}`,
    })
    const reasons = bad.map((line) => parseGlideinAds(`${line}\n`).firstBad?.reason)
    expect(reasons.slice(1)).toEqual([
      "Cpus: expected a number",
      "Cpus: expected a number of at least 0",
      "GLIDEIN_Site: expected a string, a number, a boolean or undefined",
      "Name: expected slot@startd",
      `expected ${STARTD_COLUMNS.length} tab-separated values, got 1`,
    ])
  })

  test("GlideinAdParser counts an endless line once, across chunks, and reads the next", () => {
    const parser = new GlideinAdParser()
    const chunk = new TextEncoder().encode("x".repeat(MAX_LINE / 2))
    for (let i = 0; i < 8; i++) parser.push(chunk)
    parser.push(new TextEncoder().encode(`\n${LINES[0]}\n`))
    const result = parser.finish()
    expect(result.badLines).toBe(1)
    expect(result.firstBad?.reason).toBe(`longer than ${MAX_LINE} characters`)
    expect(result.firstBad?.text).toHaveLength(200)
    expect(result.slots).toHaveLength(1)
  })

  test("GlideinAdParser counts a last line cut off without its newline", () => {
    const parser = new GlideinAdParser()
    parser.push(new TextEncoder().encode(`${LINES[0]}\n${(LINES[1] as string).slice(0, 40)}`))
    const result = parser.finish()
    expect(result.slots).toHaveLength(1)
    expect(result.firstBad?.reason).toBe("line ends without a newline (output cut short)")
  })

  test("GlideinAdParser marks an answer with more slots than it may hold as cut short", () => {
    const parser = new GlideinAdParser(3)
    parser.push(new TextEncoder().encode(CLAIMED))
    const result = parser.finish()
    expect(result.slots).toHaveLength(3)
    expect(result.cutShort).toBe(true)
    expect(parseGlideinAds(CLAIMED).cutShort).toBeUndefined()
  })
})
