/**
 * `glidein tarball build` and `inject-password` writing to a disk that fills up (a 512 KiB
 * tmpfs): one line on stderr, exit 1, no temporary file and no half-written archive left, an
 * archive being replaced in place kept as it was, and the credential's bytes in no message.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { randomBytes } from "node:crypto"
import { readdirSync, readFileSync } from "node:fs"
import path from "node:path"
import { SMALL_DISK_SKIP, type SmallDisk, smallDisk } from "../client/lib/small-disk.ts"
import { runGlidein } from "../test-support.ts"
import { put, removeTempDirs, standInInstall, tempDir } from "./test-support.ts"

if (SMALL_DISK_SKIP) console.warn(`tarball disk-full: skipped: ${SMALL_DISK_SKIP}`)

/** Bytes of the pool password; they must never show up in output. */
const SECRET = "SECRET-pool-password-7f3a"

const glidein = (cwd: string, ...argv: string[]) => runGlidein(argv, { cwd })

describe.skipIf(SMALL_DISK_SKIP !== undefined)("glidein tarball on a full disk", () => {
  let dir: string
  let disk: SmallDisk
  beforeAll(() => {
    dir = tempDir()
    standInInstall(path.join(dir, "condor"))
    // 1 MiB that gzip cannot shrink: the archive does not fit on the small disk.
    put(path.join(dir, "condor/lib/libcondor_utils_23_0_0.so"), randomBytes(1024 * 1024), 0o755)
    put(path.join(dir, "pool_password"), SECRET, 0o600)
    disk = smallDisk(512)!
  })
  afterAll(() => {
    disk?.remove()
    removeTempDirs()
  })

  /** Exit 1, one line naming the output and the full disk, nothing of the secret. */
  function expectOneLine(r: ReturnType<typeof runGlidein>) {
    expect(r.code).toBe(1)
    const lines = r.stderr.trimEnd().split("\n")
    expect(lines).toHaveLength(1)
    expect(lines[0]).toStartWith(`glidein: cannot write "${disk.dir}/`)
    expect(lines[0]!.toLowerCase()).toContain("no space left")
    expect(r.stdout + r.stderr).not.toContain(SECRET)
  }

  test("tarball build to a full disk leaves no archive and no temporary file", () => {
    const r = glidein(
      dir,
      "tarball",
      "build",
      "--condor",
      "condor",
      "--password",
      "pool_password",
      "-o",
      path.join(disk.dir, "glidein.tar.gz"),
    )
    expectOneLine(r)
    expect(readdirSync(disk.dir)).toEqual([])
  })

  test("tarball inject-password to a full disk leaves no archive and no temporary file", () => {
    expect(glidein(dir, "tarball", "build", "--condor", "condor", "-o", "big.tar.gz").code).toBe(0)
    const r = glidein(
      dir,
      "tarball",
      "inject-password",
      "big.tar.gz",
      "--password",
      "pool_password",
      "-o",
      path.join(disk.dir, "with-password.tar.gz"),
    )
    expectOneLine(r)
    expect(readdirSync(disk.dir)).toEqual([])
  })

  test("tarball inject-password --in-place without room for the copy keeps the original", () => {
    // A small archive that fits once but not twice.
    const small = tempDir()
    standInInstall(path.join(small, "condor"))
    put(path.join(small, "condor/lib/libcondor_utils_23_0_0.so"), randomBytes(300 * 1024), 0o755)
    const target = path.join(disk.dir, "glidein.tar.gz")
    expect(glidein(small, "tarball", "build", "--condor", "condor", "-o", target).code).toBe(0)
    const before = readFileSync(target)
    const r = glidein(
      dir,
      "tarball",
      "inject-password",
      target,
      "--password",
      "pool_password",
      "--in-place",
    )
    expectOneLine(r)
    expect(readdirSync(disk.dir)).toEqual(["glidein.tar.gz"])
    expect(readFileSync(target).equals(before)).toBe(true)
  })
})
