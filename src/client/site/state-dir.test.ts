import { describe, expect, test } from "bun:test"
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir, userInfo } from "node:os"
import { join } from "node:path"
import { ensureStateDir, homeDir, safeName, statePaths, stateRoot } from "./state-dir.ts"

describe("stateRoot()", () => {
  test("stateRoot() prefers $GLIDEIN_STATE_DIR, then ~/.glidein", () => {
    expect(stateRoot({ GLIDEIN_STATE_DIR: "/var/tmp/g", HOME: "/home/u" })).toBe("/var/tmp/g")
    expect(stateRoot({ HOME: "/home/u" })).toBe("/home/u/.glidein")
  })

  test("stateRoot() finds the home directory without HOME, as under some crons", () => {
    expect(homeDir({})).toBe(userInfo().homedir)
    expect(stateRoot({})).toBe(`${userInfo().homedir}/.glidein`)
  })
})

describe("statePaths()", () => {
  test("statePaths() gives each config its own readable folder, the same on every run", () => {
    const a = statePaths("/etc/glidein/site.ini", "/s")
    expect(a.dir).toMatch(/^\/s\/site\.ini-[0-9a-f]{12}$/)
    expect(statePaths("/etc/glidein/site.ini", "/s")).toEqual(a)
    expect(statePaths("/other/site.ini", "/s").dir).not.toBe(a.dir)
    expect(a.journal).toBe(`${a.dir}/journal.jsonl`)
  })

  test("statePaths() keys the folder on the config's real path, so a symlinked /home shares it", () => {
    const dir = mkdtempSync(join(tmpdir(), "glidein-state-"))
    try {
      mkdirSync(join(dir, "gpfs/home/u/glidein"), { recursive: true })
      writeFileSync(join(dir, "gpfs/home/u/glidein/site.ini"), "")
      symlinkSync(join(dir, "gpfs/home"), join(dir, "home"))
      const root = join(dir, "state")
      const viaLink = statePaths(join(dir, "home/u/glidein/site.ini"), root)
      const real = statePaths(join(dir, "gpfs/home/u/glidein/site.ini"), root)
      expect(viaLink).toEqual(real)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test("statePaths() keeps using a folder made under the path as typed, found by its note", () => {
    const dir = mkdtempSync(join(tmpdir(), "glidein-state-"))
    try {
      mkdirSync(join(dir, "gpfs/home/u"), { recursive: true })
      writeFileSync(join(dir, "gpfs/home/u/site.ini"), "")
      symlinkSync(join(dir, "gpfs/home"), join(dir, "home"))
      const root = join(dir, "state")
      // An earlier version keyed the crontab's path as typed and noted it in config-path.
      const typed = join(dir, "home/u/site.ini")
      const earlier = join(root, "site.ini-0123456789ab")
      mkdirSync(earlier, { recursive: true, mode: 0o700 })
      writeFileSync(join(earlier, "config-path"), `${typed}\n`)
      expect(statePaths(typed, root).dir).toBe(earlier)
      expect(statePaths(join(dir, "gpfs/home/u/site.ini"), root).dir).toBe(earlier)
      // Another config's folder is never taken for it.
      expect(statePaths(join(dir, "gpfs/home/u/other.ini"), root).dir).not.toBe(earlier)
      // A new folder notes the real path.
      const fresh = statePaths(join(dir, "gpfs/home/u/other.ini"), root)
      ensureStateDir(fresh, join(dir, "home/u/other.ini"))
      expect(Bun.file(join(fresh.dir, "config-path")).size).toBeGreaterThan(0)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test("statePaths() keeps a config's folder when its symlink is re-pointed to a new file", () => {
    const dir = mkdtempSync(join(tmpdir(), "glidein-state-"))
    try {
      writeFileSync(join(dir, "site-v3.ini"), "")
      writeFileSync(join(dir, "site-v4.ini"), "")
      const link = join(dir, "site.ini")
      symlinkSync(join(dir, "site-v3.ini"), link)
      const root = join(dir, "state")
      const first = statePaths(link, root)
      ensureStateDir(first, link)
      rmSync(link)
      symlinkSync(join(dir, "site-v4.ini"), link)
      // The journal of the glideins submitted under v3 is still this config's.
      expect(statePaths(link, root).dir).toBe(first.dir)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test("safeName() keeps names usable as one path component", () => {
    expect(safeName("gpu-shared")).toBe("gpu-shared")
    expect(safeName("../x y")).toBe("__x_y")
    expect(safeName("")).toBe("_")
  })
})
