import { afterEach, describe, expect, test } from "bun:test"
import { utimesSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import type { GlideinSettings } from "../../config/schema.ts"
import { cleanUp, tempDir } from "../../test-support.ts"
import { demandOrigin, fetchDemand, MAX_PUSHED_STATE_AGE_S } from "./demand-origin.ts"
import { S1, S3 } from "./test-site.ts"

afterEach(cleanUp)

const glidein = (g: Partial<GlideinSettings>) => g as GlideinSettings

describe("demandOrigin()", () => {
  test("demandOrigin() completes a config's address without a path with /jsonrpc, as --server", () => {
    expect(demandOrigin({}, glidein({ address: "http://pool:11001" }), {})).toEqual({
      kind: "server",
      url: "http://pool:11001/jsonrpc",
    })
    expect(demandOrigin({}, glidein({ address: "http://pool:11001/" }), {})).toEqual({
      kind: "server",
      url: "http://pool:11001/jsonrpc",
    })
    // A path the admin chose (a reverse proxy's) is kept.
    expect(demandOrigin({}, glidein({ address: "https://pool/glidein/jsonrpc" }), {})).toEqual({
      kind: "server",
      url: "https://pool/glidein/jsonrpc",
    })
  })

  test("demandOrigin() bounds the age of ssh_state's pushed file, not of a --state-file", () => {
    expect(demandOrigin({}, glidein({ ssh_state: true }), { HOME: "/home/u" })).toEqual({
      kind: "file",
      path: "/home/u/glidein_state",
      maxAgeS: MAX_PUSHED_STATE_AGE_S,
    })
    expect(demandOrigin({ stateFile: "s.json" }, glidein({ ssh_state: true }), {})).toEqual({
      kind: "file",
      path: "s.json",
    })
  })
})

describe("fetchDemand() from a state file", () => {
  test("fetchDemand() takes the server's /api/state answer as a state file", async () => {
    const file = join(tempDir(), "glidein_state")
    const updated = new Date().toISOString()
    writeFileSync(file, JSON.stringify({ updated, age_s: 3, error: null, rows: [S1, S3], jobs: 4 }))
    expect((await fetchDemand({ kind: "file", path: file, maxAgeS: 3600 })).rows).toEqual([S1, S3])
    writeFileSync(file, JSON.stringify({ updated: null, rows: null }))
    await expect(fetchDemand({ kind: "file", path: file })).rejects.toThrow(
      "holds no demand table yet",
    )
  })

  test("fetchDemand() refuses pushed demand older than its bound, by the file's time or the server's", async () => {
    const file = join(tempDir(), "glidein_state")
    writeFileSync(file, JSON.stringify([S1]))
    const then = new Date(Date.now() - 3 * 3600 * 1000)
    utimesSync(file, then, then)
    await expect(fetchDemand({ kind: "file", path: file, maxAgeS: 3600 })).rejects.toThrow(
      `state file ${file} was written 3 h ago (${then.toISOString()}); demand older than 60 min is not used: is glidein push-state still running?`,
    )
    // A --state-file given by hand is read whatever its age.
    expect((await fetchDemand({ kind: "file", path: file })).rows).toEqual([S1])
    // A fresh copy of an old /api/state answer is as old as its poll.
    writeFileSync(file, JSON.stringify({ updated: then.toISOString(), rows: [S1] }))
    await expect(fetchDemand({ kind: "file", path: file, maxAgeS: 3600 })).rejects.toThrow(
      "was polled 3 h ago",
    )
  })
})
