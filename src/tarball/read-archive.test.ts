/**
 * The commands that read a .tar.gz (`tarball inspect`, `inject-password`) on a pax-header bomb:
 * a few hundred kilobytes of gzip that unpack to one member preceded by megabytes of chained pax
 * headers. They refuse it in one line, and their reader never holds more than its bound.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { existsSync } from "node:fs"
import path from "node:path"
import { runGlidein } from "../test-support.ts"
import { openArchive } from "./read-archive.ts"
import { TarFormatError } from "./tar-header.ts"
import { gzipTar, paxRecord, put, rawHeader, removeTempDirs, tempDir } from "./test-support.ts"

const HEADERS = 32
const HEADER_BYTES = 512 * 1024

let dir: string
let bomb: string
beforeAll(async () => {
  dir = tempDir()
  bomb = path.join(dir, "bomb.tar.gz")
  const payload = new Uint8Array(HEADER_BYTES)
  payload.set(new TextEncoder().encode(paxRecord("path", "passwdfile")))
  const parts: Uint8Array[] = []
  for (let i = 0; i < HEADERS; i++) {
    parts.push(rawHeader({ name: "PaxHeader", type: "x", size: HEADER_BYTES }), payload)
  }
  parts.push(rawHeader({ name: "passwdfile", type: "0", size: 1 }), Uint8Array.of(1))
  await Bun.write(bomb, gzipTar(parts))
  put(path.join(dir, "pool_password"), "secret", 0o600)
})
afterAll(removeTempDirs)

const REFUSAL =
  "the headers before one member hold more than 1 MiB (at byte 0 of the uncompressed archive)"

describe("openArchive()", () => {
  test("refuses a pax-header bomb with a TarFormatError at its first header", async () => {
    const archive = await openArchive(bomb)
    try {
      const events = archive.events[Symbol.asyncIterator]()
      await expect(events.next()).rejects.toBeInstanceOf(TarFormatError)
    } finally {
      archive.close()
    }
  })
})

describe("glidein tarball on a pax-header bomb", () => {
  test("inspect exits 1 with one line", () => {
    const r = runGlidein(["tarball", "inspect", bomb])
    expect(r.code).toBe(1)
    expect(r.stderr.trimEnd().split("\n")).toEqual([`glidein: "${bomb}": ${REFUSAL}`])
  })

  test("inject-password exits 1 with one line and writes nothing", () => {
    const output = path.join(dir, "out.tar.gz")
    const r = runGlidein(
      ["tarball", "inject-password", bomb, "--password", "pool_password", "-o", output],
      { cwd: dir },
    )
    expect(r.code).toBe(1)
    expect(r.stderr.trimEnd().split("\n")).toEqual([`glidein: "${bomb}": ${REFUSAL}`])
    expect(existsSync(output)).toBe(false)
  })
})
