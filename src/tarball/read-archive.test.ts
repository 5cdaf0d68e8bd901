/**
 * The commands that read a .tar.gz (`tarball inspect`, `inject-password`) on a pax-header bomb
 * (a few hundred kilobytes of gzip that unpack to one member preceded by megabytes of chained
 * pax headers) and on an archive of thousands of long names (70 KB of gzip that would have
 * inspect keep 17 MB of names). They refuse both in one line, and their reader never holds
 * more than its bound.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { existsSync } from "node:fs"
import path from "node:path"
import { runGlidein } from "../test-support.ts"
import { openArchive } from "./read-archive.ts"
import { TarFormatError } from "./tar-header.ts"
import {
  DAMAGED_HEADER,
  gzipTar,
  manyMembers,
  paxRecord,
  put,
  rawHeader,
  removeTempDirs,
  tempDir,
} from "./test-support.ts"

const HEADERS = 32
const HEADER_BYTES = 512 * 1024

let dir: string
let bomb: string
/** 4,200 members with names of 4,000 bytes: past the 16 MiB bound on names at the 4,195th. */
let names: string
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
  names = path.join(dir, "names.tar.gz")
  await Bun.write(names, gzipTar([...manyMembers(4200, 4000), DAMAGED_HEADER]))
  put(path.join(dir, "pool_password"), "secret", 0o600)
})
afterAll(removeTempDirs)

/** Each hostile archive (written in beforeAll) and the line every command refuses it with. */
const HOSTILE: { label: string; file: () => string; refusal: string }[] = [
  {
    label: "a pax-header bomb",
    file: () => bomb,
    refusal:
      "the headers before one member hold more than 1 MiB (at byte 0 of the uncompressed archive)",
  },
  {
    // a damaged header after the last member would be the error had the reader gone on
    label: "4,200 names of 4,000 bytes",
    file: () => names,
    refusal:
      "member names and link targets of more than 16 MiB in all (no glidein tarball or HTCondor release has that much); refusing it",
  },
]

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

for (const { label, file, refusal } of HOSTILE) {
  describe(`glidein tarball on ${label}`, () => {
    test("inspect exits 1 with one line", () => {
      const r = runGlidein(["tarball", "inspect", file()])
      expect(r.code).toBe(1)
      expect(r.stderr.trimEnd().split("\n")).toEqual([`glidein: "${file()}": ${refusal}`])
    })

    test("inject-password exits 1 with one line and writes nothing", () => {
      const output = path.join(dir, "out.tar.gz")
      const r = runGlidein(
        ["tarball", "inject-password", file(), "--password", "pool_password", "-o", output],
        { cwd: dir },
      )
      expect(r.code).toBe(1)
      expect(r.stderr.trimEnd().split("\n")).toEqual([`glidein: "${file()}": ${refusal}`])
      expect(existsSync(output)).toBe(false)
    })
  })
}
