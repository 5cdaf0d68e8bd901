import { describe, expect, test } from "bun:test"
import { loginName, passwdName, withLoginName } from "./login-name.ts"

const PASSWD = `root:x:0:0:root:/root:/bin/bash
# a comment
broken line
icecube:x:1234:1234:IceCube production,,,:/home/icecube:/bin/bash
other:x:12345:100::/home/other:/bin/sh
`

describe("passwdName()", () => {
  test("passwdName() finds the name of a uid in passwd(5) text, matching the whole uid", () => {
    expect(passwdName(PASSWD, 1234)).toBe("icecube")
    expect(passwdName(PASSWD, 0)).toBe("root")
    expect(passwdName(PASSWD, 123)).toBeUndefined()
  })
})

describe("loginName()", () => {
  test("loginName() takes the name from /etc/passwd by uid, else from id -un", () => {
    let asked = 0
    const idUn = () => {
      asked++
      return "ldapuser\n"
    }
    expect(loginName({ uid: 1234, passwd: () => PASSWD, idUn })).toBe("icecube")
    expect(asked).toBe(0)
    // LDAP and SSSD users of HPC login nodes are not in /etc/passwd.
    expect(loginName({ uid: 5000, passwd: () => PASSWD, idUn })).toBe("ldapuser")
    expect(loginName({ uid: 5000, passwd: () => undefined, idUn })).toBe("ldapuser")
  })

  test("loginName() is undefined when neither knows the uid (never a made-up name)", () => {
    expect(loginName({ uid: 5000, passwd: () => PASSWD, idUn: () => undefined })).toBeUndefined()
    // id -un prints the number for a uid without a name.
    expect(loginName({ uid: 5000, passwd: () => "", idUn: () => "5000\n" })).toBeUndefined()
  })

  test("loginName() of this process does not depend on $USER (cron runs have none)", () => {
    const id = Bun.spawnSync(["id", "-un"]).stdout.toString().trim()
    const child = Bun.spawnSync(
      [process.execPath, "-e", `console.log(require("./login-name.ts").loginName())`],
      { cwd: import.meta.dir, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } },
    )
    expect(child.stdout.toString().trim()).toBe(id)
  })
})

describe("withLoginName()", () => {
  test("withLoginName() gives the site's commands USER and LOGNAME when cron set neither", () => {
    expect(withLoginName({ PATH: "/bin" }, () => "ice")).toEqual({
      PATH: "/bin",
      USER: "ice",
      LOGNAME: "ice",
    })
    expect(withLoginName({ LOGNAME: "lg" }, () => "ice")).toEqual({ LOGNAME: "lg", USER: "lg" })
    const full = { USER: "a", LOGNAME: "b" }
    expect(withLoginName(full, () => "ice")).toBe(full)
    expect(withLoginName({}, () => undefined)).toEqual({})
  })
})
