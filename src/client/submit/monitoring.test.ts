import { describe, expect, test } from "bun:test"
import { hostname } from "node:os"
import { defaultUuid } from "./monitoring.ts"

describe("defaultUuid()", () => {
  test("defaultUuid() is user@host/config with $LOGNAME, else $USER, as pyglidein's getpass.getuser()", () => {
    expect(defaultUuid("/home/ice/site.ini", { LOGNAME: "ice", USER: "other" })).toBe(
      `ice@${hostname()}/site`,
    )
    expect(defaultUuid("site.ini", { USER: "other" })).toBe(`other@${hostname()}/site`)
  })

  test("defaultUuid() differs for two configs of one account (lido3_cpu and lido3_gpu)", () => {
    const env = { LOGNAME: "ice" }
    const cpu = defaultUuid("/home/ice/lido3_cpu.config", env)
    const gpu = defaultUuid("/home/ice/lido3_gpu.config", env)
    expect(cpu).toBe(`ice@${hostname()}/lido3_cpu`)
    expect(gpu).toBe(`ice@${hostname()}/lido3_gpu`)
  })

  test("defaultUuid() without $LOGNAME and $USER (cron) takes the login name of the uid", () => {
    // Bun's os.userInfo() said "unknown" here.
    const id = Bun.spawnSync(["id", "-un"]).stdout.toString().trim()
    expect(defaultUuid("a.ini", {})).toBe(`${id}@${hostname()}/a`)
    const nameless = { uid: 5000, passwd: () => "", idUn: () => undefined }
    expect(defaultUuid("a.ini", {}, nameless)).toBe(`uid5000@${hostname()}/a`)
  })
})
