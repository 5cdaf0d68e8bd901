import { afterEach, describe, expect, test } from "bun:test"
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs"
import { join } from "node:path"
import { cleanUp, tempDir } from "../../test-support.ts"
import { pruneOutput } from "./prune-output.ts"

afterEach(cleanUp)

const DAY = 24 * 3600 * 1000

describe("pruneOutput()", () => {
  test("pruneOutput() removes output files older than two weeks, once a day", () => {
    const root = tempDir("glidein-prune-")
    const out = join(root, "out")
    mkdirSync(out)
    const now = new Date("2026-03-01T00:00:00Z")
    const aged = (name: string, days: number) => {
      const path = join(out, name)
      writeFileSync(path, "log")
      const t = new Date(now.getTime() - days * DAY)
      utimesSync(path, t, t)
      return path
    }
    const old = aged("glidein-1.out", 15)
    const recent = aged("glidein-2.out", 10)
    const stamp = join(root, "pruned")
    expect(pruneOutput(out, stamp, now)).toBe(1)
    expect(existsSync(old)).toBe(false)
    expect(existsSync(recent)).toBe(true)
    const older = aged("glidein-3.out", 30)
    expect(pruneOutput(out, stamp, new Date(now.getTime() + DAY / 2))).toBe(0)
    expect(existsSync(older)).toBe(true)
    expect(pruneOutput(out, stamp, new Date(now.getTime() + DAY + 1))).toBe(1)
  })

  test("pruneOutput() does nothing and does not throw before the folder exists", () => {
    const root = tempDir("glidein-prune-")
    expect(pruneOutput(join(root, "out"), join(root, "pruned"), new Date())).toBe(0)
  })

  test("pruneOutput() replaces a symlink planted as its stamp instead of truncating the target", () => {
    const root = tempDir("glidein-prune-")
    writeFileSync(join(root, "precious"), "keep me\n")
    symlinkSync(join(root, "precious"), join(root, "pruned"))
    mkdirSync(join(root, "out"))
    pruneOutput(join(root, "out"), join(root, "pruned"), new Date(Date.now() + 2 * DAY))
    expect(readFileSync(join(root, "precious"), "utf8")).toBe("keep me\n")
    expect(lstatSync(join(root, "pruned")).isFile()).toBe(true)
  })
})
