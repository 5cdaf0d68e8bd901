import { describe, expect, test } from "bun:test"
import { hostname } from "node:os"
import { defaultUuid } from "./monitoring.ts"

describe("defaultUuid()", () => {
  test("defaultUuid() is user@host with $LOGNAME, else $USER, as pyglidein's getpass.getuser()", () => {
    expect(defaultUuid({ LOGNAME: "ice", USER: "other" })).toBe(`ice@${hostname()}`)
    expect(defaultUuid({ USER: "other" })).toBe(`other@${hostname()}`)
  })

  test("defaultUuid() without $LOGNAME and $USER (cron) takes the login name of the uid", () => {
    // Bun's os.userInfo() said "unknown" here.
    const id = Bun.spawnSync(["id", "-un"]).stdout.toString().trim()
    expect(defaultUuid({})).toBe(`${id}@${hostname()}`)
    const nameless = { uid: 5000, passwd: () => "", idUn: () => undefined }
    expect(defaultUuid({}, nameless)).toBe(`uid5000@${hostname()}`)
  })
})
