import { describe, expect, test } from "bun:test"
import { hostname } from "node:os"
import { defaultUuid } from "./monitoring.ts"

describe("defaultUuid()", () => {
  test("defaultUuid() is user@host with the login name of this process's uid, whatever $USER says", () => {
    const id = Bun.spawnSync(["id", "-un"]).stdout.toString().trim()
    expect(defaultUuid({})).toBe(`${id}@${hostname()}`)
    expect(defaultUuid({ USER: "someone-else", LOGNAME: "someone-else" })).toBe(
      `${id}@${hostname()}`,
    )
  })

  test("defaultUuid() falls back to $LOGNAME, $USER, then the uid when the uid has no name", () => {
    const nameless = { uid: 5000, passwd: () => "", idUn: () => undefined }
    expect(defaultUuid({ LOGNAME: "ice", USER: "other" }, nameless)).toBe(`ice@${hostname()}`)
    expect(defaultUuid({ USER: "other" }, nameless)).toBe(`other@${hostname()}`)
    expect(defaultUuid({}, nameless)).toBe(`uid5000@${hostname()}`)
  })
})
