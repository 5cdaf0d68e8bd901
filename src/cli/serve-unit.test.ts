/**
 * configs/glidein-serve.service, the systemd unit docs/serve.md tells admins to install: checked by
 * systemd's own tools where they are (CI is Debian, with systemd installed), and as text
 * everywhere.
 */
import { afterEach, describe, expect, test } from "bun:test"
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { cleanUp, tempDir } from "../test-support.ts"

afterEach(cleanUp)

const UNIT_FILE = resolve(import.meta.dir, "../../configs/glidein-serve.service")
const SERVE_DOC = resolve(import.meta.dir, "../../docs/serve.md")
const UNIT = readFileSync(UNIT_FILE, "utf8")
const ANALYZE = Bun.which("systemd-analyze")
const SYSTEMCTL = Bun.which("systemctl")

/** The values of `key` in the unit, in order. */
function values(key: string): string[] {
  return [...UNIT.matchAll(new RegExp(`^${key}=(.*)$`, "gm"))].map((m) => m[1]!)
}

/** The unit in a fresh directory, its glidein replaced by a script that exists here. */
function installable(): { dir: string; unit: string } {
  const dir = tempDir("glidein-unit-")
  const glidein = join(dir, "glidein")
  writeFileSync(glidein, "#!/bin/sh\nexit 0\n")
  chmodSync(glidein, 0o755)
  const unit = join(dir, "etc/systemd/system/glidein-serve.service")
  mkdirSync(join(dir, "etc/systemd/system"), { recursive: true })
  writeFileSync(unit, UNIT.replaceAll("/usr/local/bin/glidein", glidein))
  return { dir, unit }
}

describe("configs/glidein-serve.service", () => {
  test("can be enabled, has the state directory its database needs, and reloads with SIGHUP", () => {
    expect(values("WantedBy")).toEqual(["multi-user.target"])
    expect(values("StateDirectory")).toEqual(["glidein"])
    expect(values("User")).toEqual(["glidein"])
    const [start] = values("ExecStart")
    expect(start).toStartWith("/usr/local/bin/glidein serve --db /var/lib/glidein/serve.db ")
    expect(start).toContain("--tokens /etc/glidein/tokens")
    expect(values("ExecReload")).toEqual(["/bin/kill -HUP $MAINPID"])
    // condor_q's FS authentication needs the schedd to see its file in /tmp.
    expect(values("PrivateTmp")).toEqual([])
    expect(values("DynamicUser")).toEqual([])
  })

  test("is the unit docs/serve.md shows, word for word", () => {
    // toContain would print the whole page on failure.
    expect(readFileSync(SERVE_DOC, "utf8").includes(UNIT)).toBe(true)
  })

  if (ANALYZE === null) {
    console.warn("skipped: systemd-analyze verify (not installed; apt-get install systemd)")
  }
  test.skipIf(ANALYZE === null)("passes systemd-analyze verify", () => {
    const { unit } = installable()
    const run = Bun.spawnSync([ANALYZE!, "verify", "--man=no", unit])
    expect(run.stderr.toString()).toBe("")
    expect(run.exitCode).toBe(0)
  })

  if (SYSTEMCTL === null) {
    console.warn("skipped: systemctl --root enable (not installed; apt-get install systemd)")
  }
  test.skipIf(SYSTEMCTL === null)("is enabled by systemctl enable", () => {
    const { dir } = installable()
    const run = Bun.spawnSync([SYSTEMCTL!, `--root=${dir}`, "enable", "glidein-serve.service"])
    expect(run.exitCode).toBe(0)
    const wants = join(dir, "etc/systemd/system/multi-user.target.wants/glidein-serve.service")
    expect(existsSync(wants) || lstatSync(wants).isSymbolicLink()).toBe(true)
  })
})
