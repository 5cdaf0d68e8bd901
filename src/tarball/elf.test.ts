import { describe, expect, test } from "bun:test"
import { readFileSync } from "node:fs"
import path from "node:path"
import { collectorProblem } from "./collector.ts"
import { bytesSource, ElfError, parseElf } from "./elf.ts"
import { glibcFloor } from "./system-libraries.ts"
import { elfRelease, HAVE_CC, tempDir } from "./test-support.ts"

/** A 64-bit little-endian ELF header with `phnum` program headers at 64, and room after. */
function header(phnum: number, size = 64 + 56 * 2): Uint8Array {
  const bytes = new Uint8Array(size)
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1])
  const view = new DataView(bytes.buffer)
  view.setUint16(16, 3, true)
  view.setUint16(18, 62, true)
  view.setBigUint64(32, 64n, true)
  view.setUint16(54, 56, true)
  view.setUint16(56, phnum, true)
  return bytes
}

describe("parseElf()", () => {
  test.if(HAVE_CC)(
    "reads DT_NEEDED, DT_SONAME, DT_RPATH or DT_RUNPATH and the newest GLIBC_",
    () => {
      const rpm = elfRelease(path.join(tempDir(), "rpm"), "rpm-24")
      const master = parseElf(bytesSource(readFileSync(path.join(rpm, "usr/sbin/condor_master"))))
      expect(master?.needed).toEqual(["libcondor_utils_24_0_1.so", "libc.so.6"])
      expect(master?.rpath).toEqual(["$ORIGIN/../lib64", "$ORIGIN/../lib64/condor"])
      expect(master?.runpath).toBeUndefined()
      expect(master?.interpreter).toMatch(/ld-linux/)
      expect(master?.glibc).toMatch(/^2\.\d+$/)
      const deb = elfRelease(path.join(tempDir(), "deb"), "deb")
      const utils = parseElf(
        bytesSource(readFileSync(path.join(deb, "usr/lib/libcondor_utils_24_0_1.so"))),
      )
      expect(utils?.soname).toBe("libcondor_utils_24_0_1.so")
      expect(utils?.runpath).toEqual(["$ORIGIN", "$ORIGIN/condor"])
      expect(utils?.rpath).toBeUndefined()
    },
  )

  test("says undefined for what is not ELF, and refuses damaged or oversized headers", () => {
    expect(parseElf(bytesSource(new TextEncoder().encode("#!/bin/sh\necho hi\n")))).toBeUndefined()
    expect(parseElf(bytesSource(header(0)))?.arch).toBe("x86_64")
    expect(() => parseElf(bytesSource(header(2, 100)))).toThrow(ElfError)
    expect(() => parseElf(bytesSource(header(60000)))).toThrow("60000 program headers")
    const dynamic = header(1)
    const view = new DataView(dynamic.buffer)
    view.setUint32(64, 2, true) // PT_DYNAMIC
    view.setBigUint64(64 + 8, 0n, true)
    view.setBigUint64(64 + 32, 1n << 40n, true)
    expect(() => parseElf(bytesSource(dynamic))).toThrow("a dynamic section of")
    view.setBigUint64(64 + 32, 1n << 62n, true)
    expect(() => parseElf(bytesSource(dynamic))).toThrow("too large")
  })
})

describe("glibcFloor()", () => {
  test("names the oldest EL, Debian and Ubuntu releases with that glibc", () => {
    expect(glibcFloor("2.17")).toBe("EL7 (CentOS 7), Debian 10, Ubuntu 18.04 and later")
    expect(glibcFloor("2.34")).toBe("EL9, Debian 12, Ubuntu 22.04 and later")
    expect(glibcFloor("2.28")).toBe("EL8, Debian 10, Ubuntu 20.04 and later")
  })
})

describe("collectorProblem()", () => {
  test("takes host[:port] and HTCondor's ?sock=, nothing a shell would read", () => {
    for (const ok of [
      "cm.example.org",
      "cm.example.org:9618",
      "10.0.0.1:9618",
      "[::1]:9618",
      "cm:9618?sock=collector",
    ]) {
      expect(collectorProblem(ok)).toBeUndefined()
    }
    for (const bad of ["", "cm;rm -rf ~", "$(id)", "cm:99999", "-cm", "cm example", "cm:9618\n"]) {
      expect(collectorProblem(bad)).toBeDefined()
    }
  })
})
