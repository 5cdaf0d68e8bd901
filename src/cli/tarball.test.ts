import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { existsSync, statSync } from "node:fs"
import path from "node:path"
import type { InspectReport } from "../tarball/index.ts"
import { put, removeTempDirs, run, standInInstall, tempDir } from "../tarball/test-support.ts"
import { runGlidein } from "../test-support.ts"
import { describeInspection } from "./tarball.ts"

/** Runs `bun src/main.ts ...argv` with an empty environment, in `cwd`. */
const glidein = (cwd: string, ...argv: string[]) => runGlidein(argv, { cwd })

let dir: string
beforeAll(() => {
  dir = tempDir()
  standInInstall(path.join(dir, "condor"))
  put(path.join(dir, "pool_password"), Uint8Array.of(1, 2, 3, 0, 4), 0o600)
  put(path.join(dir, "empty"), "", 0o600)
})
afterAll(removeTempDirs)

describe("glidein tarball", () => {
  test("build, inject-password and inspect work together", () => {
    const built = glidein(dir, "tarball", "build", "--condor", "condor")
    expect(built.stderr).toBe("")
    expect(built.code).toBe(0)
    expect(built.stdout).toStartWith('wrote "glidein.tar.gz" in ')
    expect(built.stdout).toContain("add the pool credential with: glidein tarball inject-password")

    const injected = glidein(
      dir,
      "tarball",
      "inject-password",
      "glidein.tar.gz",
      "--password",
      "pool_password",
      "-o",
      "with-password.tar.gz",
    )
    expect(injected.code).toBe(0)
    expect(injected.stdout).toContain("added passwdfile; 22 other members unchanged")
    expect(statSync(path.join(dir, "with-password.tar.gz")).mode & 0o777).toBe(0o600)

    const inspected = glidein(dir, "tarball", "inspect", "with-password.tar.gz")
    expect(inspected.code).toBe(0)
    expect(inspected.stdout).toContain("credential: pool password passwdfile (5 bytes, mode 0600)")
    expect(inspected.stdout).toContain("manifest: verified")
  })

  test("inspect exits 1 when the manifest does not match", () => {
    glidein(dir, "tarball", "build", "--condor", "condor", "-o", "good.tar.gz")
    const unpacked = tempDir()
    run(["tar", "xzf", path.join(dir, "good.tar.gz"), "-C", unpacked])
    put(path.join(unpacked, "glideinExec/sbin/condor_master"), "#!/bin/sh\necho changed\n", 0o755)
    run(["tar", "czf", path.join(dir, "bad.tar.gz"), "-C", unpacked, "."])
    const r = glidein(dir, "tarball", "inspect", "bad.tar.gz")
    expect(r.code).toBe(1)
    expect(r.stdout).toContain("manifest: FAILED (changed: glideinExec/sbin/condor_master)")
  })

  const usage: [string, string[], string][] = [
    ["build without --condor", ["build"], "glidein tarball build: missing --condor PATH"],
    [
      "inject-password without -o or --in-place",
      ["inject-password", "in.tar.gz", "--password", "pool_password"],
      'glidein tarball inject-password: give -o OUT for the result, or --in-place to replace "in.tar.gz"',
    ],
    [
      "inject-password with both -o and --in-place",
      ["inject-password", "in.tar.gz", "--password", "pool_password", "-o", "x", "--in-place"],
      "glidein tarball inject-password: give either -o OUT or --in-place, not both",
    ],
    [
      "inject-password without a credential",
      ["inject-password", "in.tar.gz", "-o", "out.tar.gz"],
      "glidein tarball inject-password: give --password FILE, --token FILE or --collector HOST[:PORT]",
    ],
    [
      "an empty password file",
      ["inject-password", "in.tar.gz", "--password", "empty", "-o", "out.tar.gz"],
      'glidein: --password "empty" is empty',
    ],
    [
      "an input that is not a tarball",
      ["inject-password", "pool_password", "--password", "pool_password", "-o", "out.tar.gz"],
      'glidein: "pool_password" is not a gzip file (a .tar.gz is expected)',
    ],
  ]
  for (const [label, argv, message] of usage) {
    test(`exits 2 with one line for ${label}`, () => {
      const r = glidein(dir, "tarball", ...argv)
      expect(r.stderr).toBe(`${message}\n`)
      expect(r.code).toBe(2)
      expect(existsSync(path.join(dir, "out.tar.gz"))).toBe(false)
    })
  }
})

describe("describeInspection()", () => {
  test("says what is missing and when a token expired, never more", () => {
    const report: InspectReport = {
      compressedBytes: 2_500_000,
      contentBytes: 9_000_000,
      members: 3,
      counts: { files: 2, directories: 1, symlinks: 0, hardlinks: 0, other: 0 },
      topLevel: ["glideinExec", "tokens.d"],
      missing: ["glidein_condor_config"],
      tokens: [
        { name: "tokens.d/a", bytes: 300, mode: 0o600, count: 1, valid: true, expires: 100 },
        { name: "tokens.d/b", bytes: 12, mode: 0o644, count: 0, valid: false },
      ],
      manifest: { status: "absent", listed: 0, mismatched: [], missing: [], unlisted: [] },
      problems: [],
      warnings: [],
    }
    expect(describeInspection("g.tar.gz", report, 200)).toBe(
      [
        "g.tar.gz: 2.5 MB compressed, 9.0 MB of content",
        "  members: 3 (2 files, 1 directories, 0 symlinks, 0 hard links)",
        "  top level: glideinExec tokens.d",
        "  layout: MISSING glidein_condor_config",
        "  credential: IDTOKEN tokens.d/a (1 token, mode 0600, EXPIRED 1970-01-01T00:01:40.000Z); tokens.d/b (12 bytes, mode 0644; NOT an IDTOKEN)",
        "  collector: none recorded (glideins need CLUSTER from the site config)",
        "  HTCondor: version not found in condor_master",
        "  manifest: none (not built by glidein tarball build)",
        "",
      ].join("\n"),
    )
  })
})
