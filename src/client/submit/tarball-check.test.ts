import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { chmodSync, readFileSync, utimesSync, writeFileSync } from "node:fs"
import path from "node:path"
import {
  POOL_PASSWORD as PASSWORD,
  removeTempDirs,
  run,
  standInTarball,
  tempDir,
} from "../../tarball/test-support.ts"
import { tarballCheck, tarballProblems } from "./tarball-check.ts"

const NOW = new Date("2026-12-07T12:00:00Z")

/** An IDTOKEN whose `exp` claim is `exp` (seconds). */
function token(exp: number): Uint8Array {
  const claims = Buffer.from(JSON.stringify({ sub: "glidein@pool", exp })).toString("base64url")
  return new TextEncoder().encode(`eyJhbGciOiJIUzI1NiJ9.${claims}.c2lnbmF0dXJl\n`)
}

let dir: string
beforeAll(() => {
  dir = tempDir()
})
afterAll(removeTempDirs)

async function build(name: string, credentials: { password?: Uint8Array; token?: Uint8Array }) {
  const output = path.join(dir, name)
  await standInTarball(output, credentials)
  return output
}

describe("tarballProblems()", () => {
  test("tarballProblems() finds nothing wrong with a tarball built with a credential", async () => {
    expect(
      await tarballProblems(await build("pw.tar.gz", { password: PASSWORD }), undefined, NOW),
    ).toEqual([])
    const later = NOW.getTime() / 1000 + 3600
    expect(
      await tarballProblems(await build("tok.tar.gz", { token: token(later) }), undefined, NOW),
    ).toEqual([])
  })

  test("tarballCheck() gives the newest valid token's expiry, from a kept verdict too, nothing for a password", async () => {
    const later = NOW.getTime() / 1000 + 3600
    const tok = await build("tok-exp.tar.gz", { token: token(later) })
    const cache = path.join(dir, "tok-exp.verdict")
    expect(await tarballCheck(tok, cache, NOW)).toEqual({ problems: [], tokenExpires: later })
    // The second run reads the kept verdict, and says the same.
    expect(await tarballCheck(tok, cache, NOW)).toEqual({ problems: [], tokenExpires: later })
    const pw = await build("pw-exp.tar.gz", { password: PASSWORD })
    const pwCache = path.join(dir, "pw-exp.verdict")
    expect(await tarballCheck(pw, pwCache, NOW)).toEqual({ problems: [] })
    expect((await tarballCheck(pw, pwCache, NOW)).tokenExpires).toBeUndefined()
  })

  test("tarballProblems() says when the tarball does not exist", async () => {
    const missing = path.join(dir, "nope.tar.gz")
    expect(await tarballProblems(missing, undefined, NOW)).toEqual([
      `the glidein tarball ${missing} does not exist (make it with glidein tarball build)`,
    ])
  })

  test("tarballProblems() refuses a tarball without a credential, or whose token has expired", async () => {
    const bare = await build("bare.tar.gz", {})
    expect(await tarballProblems(bare, undefined, NOW)).toEqual([
      `${bare} carries no pool credential, so no glidein could join the pool (add one with glidein tarball inject-password)`,
    ])
    const expired = await build("expired.tar.gz", { token: token(NOW.getTime() / 1000 - 60) })
    expect(await tarballProblems(expired, undefined, NOW)).toEqual([
      `the token in ${expired} expired at 2026-12-07T11:59:00.000Z, so no glidein could join the pool (inject a new one with glidein tarball inject-password)`,
    ])
  })

  test("tarballProblems() refuses a pool password HTCondor would read as empty", async () => {
    // HTCondor XORs the file with 0xdeadbeef: a first byte of 0xde is an empty password.
    const empty = await build("empty.tar.gz", { password: Uint8Array.of(0xde, 0x01, 0x02) })
    expect(await tarballProblems(empty, undefined, NOW)).toEqual([
      `the pool password in ${empty} is empty as HTCondor reads it (its first byte unscrambles to NUL), so no glidein could join the pool (write it with condor_store_cred -c add -f FILE, then glidein tarball inject-password)`,
    ])
  })

  test("tarballProblems() refuses a pyglidein-style tarball with a password, and the password file itself", async () => {
    const tree = path.join(dir, "pyglidein")
    run(["mkdir", "-p", path.join(tree, "glideinExec/sbin")])
    writeFileSync(path.join(tree, "passwdfile"), PASSWORD)
    writeFileSync(path.join(tree, "glideinExec/sbin/condor_master"), "#!/bin/sh\n")
    const foreign = path.join(dir, "pyglidein.tar.gz")
    run(["tar", "czf", foreign, "-C", tree, "."])
    const problems = await tarballProblems(foreign, undefined, NOW)
    expect(problems).toHaveLength(1)
    expect(problems[0]).toStartWith(`${foreign} is not a glidein tarball (`)
    const password = path.join(tree, "passwdfile")
    const notGzip = await tarballProblems(password, undefined, NOW)
    expect(notGzip).toHaveLength(1)
    expect(notGzip[0]).toContain(password)
  })

  test("tarballProblems() reads a tarball once per change, keeping its verdict in the cache file", async () => {
    const tarball = await build("cached.tar.gz", { password: PASSWORD })
    const cache = path.join(dir, "tarball-check.json")
    expect(await tarballProblems(tarball, cache, NOW)).toEqual([])
    // The verdict is taken from the cache while the file is the same file...
    const kept = JSON.parse(readFileSync(cache, "utf8"))
    writeFileSync(cache, JSON.stringify({ ...kept, problems: ["from the cache"] }))
    expect(await tarballProblems(tarball, cache, NOW)).toEqual(["from the cache"])
    // ...and the tarball is read again once it changes.
    utimesSync(tarball, new Date(), new Date(Date.now() + 5000))
    expect(await tarballProblems(tarball, cache, NOW)).toEqual([])
  })

  // Root reads every file whatever its mode: there is no unreadable tarball to make.
  const root = process.getuid?.() === 0
  if (root) console.warn("tarball-check: the unreadable-tarball test is skipped as root")
  test.skipIf(root)(
    "tarballProblems() never keeps a verdict of a tarball it could not read",
    async () => {
      const tarball = await build("unreadable.tar.gz", { password: PASSWORD })
      const cache = path.join(dir, "unreadable-check.json")
      chmodSync(tarball, 0o000)
      expect(await tarballProblems(tarball, cache, NOW)).toEqual([
        `cannot read the glidein tarball ${tarball} (permission denied)`,
      ])
      // Fixed by a chmod, which leaves the file's key as it was: read, and fine.
      chmodSync(tarball, 0o644)
      expect(await tarballProblems(tarball, cache, NOW)).toEqual([])
    },
  )
})
