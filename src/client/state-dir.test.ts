import { describe, expect, test } from "bun:test"
import { userInfo } from "node:os"
import { homeDir, safeName, statePaths, stateRoot } from "./state-dir.ts"

describe("stateRoot()", () => {
  test("stateRoot() prefers $GLIDEIN_STATE_DIR, then ~/.glidein", () => {
    expect(stateRoot({ GLIDEIN_STATE_DIR: "/var/tmp/g", HOME: "/home/u" })).toBe("/var/tmp/g")
    expect(stateRoot({ HOME: "/home/u" })).toBe("/home/u/.glidein")
  })

  test("stateRoot() finds the home directory without HOME, as under some crons", () => {
    expect(homeDir({})).toBe(userInfo().homedir)
    expect(stateRoot({})).toBe(`${userInfo().homedir}/.glidein`)
  })
})

describe("statePaths()", () => {
  test("statePaths() gives each config its own readable folder, the same on every run", () => {
    const a = statePaths("/etc/glidein/site.ini", "/s")
    expect(a.dir).toMatch(/^\/s\/site\.ini-[0-9a-f]{12}$/)
    expect(statePaths("/etc/glidein/site.ini", "/s")).toEqual(a)
    expect(statePaths("/other/site.ini", "/s").dir).not.toBe(a.dir)
    expect(a.journal).toBe(`${a.dir}/journal.jsonl`)
  })

  test("safeName() keeps names usable as one path component", () => {
    expect(safeName("gpu-shared")).toBe("gpu-shared")
    expect(safeName("../x y")).toBe("__x_y")
    expect(safeName("")).toBe("_")
  })
})
