import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { readdirSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs"
import path from "node:path"
import { GLIDEIN_CONDOR_CONFIG, USER_JOB_WRAPPER_SH } from "../runtime/index.ts"
import { buildTarball } from "./build-tarball.ts"
import { encodeEntry } from "./encode-entry.ts"
import { inspectTarball } from "./inspect-tarball.ts"
import {
  put,
  removeTempDirs,
  run,
  standInInstall,
  tarListing,
  tarMember,
  tarMemberOf,
  tarNames,
  tarNamesOf,
  tempDir,
} from "./test-support.ts"

const PASSWORD = Uint8Array.of(0x8e, 0xc4, 0x00, 0xd2, 0xde, 0xad)
const TOKEN = new TextEncoder().encode("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJnbGlkZWluIn0.c2ln\n")

let dir: string
let condor: string
beforeAll(() => {
  dir = tempDir()
  condor = standInInstall(path.join(dir, "condor-23.0.0-x86_64_Stand-stripped"))
})
afterAll(removeTempDirs)

function build(name: string, options: { condor?: string; password?: boolean; token?: boolean }) {
  const output = path.join(dir, name)
  return buildTarball({
    condor: options.condor ?? condor,
    output,
    credentials: {
      ...(options.password ? { password: PASSWORD } : {}),
      ...(options.token ? { token: TOKEN } : {}),
    },
    version: "0.0.0-test",
  }).then((report) => ({ output, report }))
}

describe("buildTarball()", () => {
  test("keeps what a startd needs under glideinExec/, adds the runtime and the password", async () => {
    const { output, report } = await build("pw.tar.gz", { password: true })
    expect(tarNames(output)).toEqual([
      "SHA256SUMS",
      "glideinExec/",
      "glideinExec/bin/",
      "glideinExec/bin/condor_config_val",
      "glideinExec/bin/condor_status",
      "glideinExec/bin/condor_tool",
      "glideinExec/lib/",
      "glideinExec/lib/condor/",
      "glideinExec/lib/condor/libssl.so.3",
      "glideinExec/lib/libcondor_utils.so",
      "glideinExec/lib/libcondor_utils_23_0_0.so",
      "glideinExec/libexec/",
      "glideinExec/libexec/condor_gpu_discovery",
      "glideinExec/libexec/curl_plugin",
      "glideinExec/libexec/data_plugin",
      "glideinExec/sbin/",
      "glideinExec/sbin/condor_master",
      "glideinExec/sbin/condor_procd",
      "glideinExec/sbin/condor_startd",
      "glideinExec/sbin/condor_starter",
      "glidein_condor_config",
      "passwdfile",
      "user_job_wrapper.sh",
    ])
    expect(report.credentials).toEqual(["passwdfile"])
    expect(report.omitted).toBe(4) // schedd, condor_submit, the static library, the bindings
    expect(statSync(output).mode & 0o777).toBe(0o600)
    expect(tarMember(output, "passwdfile").equals(Buffer.from(PASSWORD))).toBe(true)
    expect(tarMember(output, "glidein_condor_config").toString()).toBe(GLIDEIN_CONDOR_CONFIG)
    expect(tarMember(output, "user_job_wrapper.sh").toString()).toBe(USER_JOB_WRAPPER_SH)
  })

  test("writes fixed owners and times and normalized modes", async () => {
    const { output } = await build("modes.tar.gz", { password: true })
    const lines = tarListing(output).map((l) => l.split(/\s+/))
    for (const [, owner, , day, time] of lines) {
      expect(owner).toBe("0/0")
      expect(`${day} ${time}`).toBe("2020-01-01 00:00:00")
    }
    const mode = (name: string) => lines.find((l) => l[5] === name)?.[0]
    expect(mode("glideinExec/sbin/condor_master")).toBe("-rwxr-xr-x")
    expect(mode("glideinExec/lib/condor/libssl.so.3")).toBe("-rw-r--r--")
    expect(mode("glideinExec/lib/libcondor_utils.so")).toBe("lrwxrwxrwx")
    expect(mode("glideinExec/libexec/data_plugin")).toBe("hrwxr-xr-x")
    expect(mode("passwdfile")).toBe("-rw-------")
    expect(mode("user_job_wrapper.sh")).toBe("-rwxr-xr-x")
  })

  test("is reproducible, from the install or from its release tarball alike", async () => {
    const one = await build("one.tar.gz", { password: true })
    const two = await build("two.tar.gz", { password: true })
    const release = path.join(dir, "condor-23.0.0-x86_64_Stand-stripped.tar.gz")
    run(["tar", "czf", release, "-C", dir, path.basename(condor)])
    const three = await build("three.tar.gz", { password: true, condor: release })
    const bytes = readFileSync(one.output)
    expect(readFileSync(two.output).equals(bytes)).toBe(true)
    expect(readFileSync(three.output).equals(bytes)).toBe(true)
    expect(three.report.sha256).toBe(one.report.sha256)
  })

  test("accepts the directory an unpacked release tarball sits in", async () => {
    const { output } = await build("parent.tar.gz", { condor: dir })
    expect(tarNames(output)).toContain("glideinExec/sbin/condor_startd")
  })

  test("writes a manifest that sha256sum -c and inspectTarball both verify", async () => {
    const { output } = await build("manifest.tar.gz", { token: true })
    const unpacked = tempDir()
    run(["tar", "xzf", output, "-C", unpacked])
    expect(run(["sha256sum", "-c", "SHA256SUMS"], { cwd: unpacked })).toContain(
      "glideinExec/sbin/condor_master: OK",
    )
    const report = await inspectTarball(output)
    const files = tarListing(output).filter(
      (l) => /^[-h]/.test(l) && !/ (SHA256SUMS|tokens\.d\/.*)$/.test(l),
    )
    expect(files.length).toBe(13)
    expect(report.manifest).toEqual({
      status: "verified",
      listed: files.length,
      mismatched: [],
      missing: [],
      unlisted: [],
    })
    expect(report.missing).toEqual([])
  })

  test("without a credential the archive is mode 0644; a token goes into tokens.d/", async () => {
    const plain = await build("plain.tar.gz", {})
    expect(statSync(plain.output).mode & 0o777).toBe(0o644)
    expect(tarNames(plain.output)).not.toContain("passwdfile")
    const token = await build("token.tar.gz", { token: true })
    const lines = tarListing(token.output)
    expect(lines.find((l) => l.endsWith(" tokens.d/"))?.startsWith("drwx------")).toBe(true)
    expect(lines.find((l) => l.endsWith(" tokens.d/glidein.token"))?.startsWith("-rw-------")).toBe(
      true,
    )
    expect(tarMember(token.output, "tokens.d/glidein.token").equals(Buffer.from(TOKEN))).toBe(true)
    // the same archive read from memory through tar's stdin
    const bytes = readFileSync(token.output)
    expect(tarNamesOf(bytes)).toEqual(tarNames(token.output))
    expect(tarMemberOf(bytes, "tokens.d/glidein.token").equals(Buffer.from(TOKEN))).toBe(true)
  })

  for (const phase of ["checksums", "writing"] as const) {
    test(`stops when aborted while ${phase === "writing" ? "writing" : "computing checksums"}, leaving no output`, async () => {
      const where = tempDir()
      const output = path.join(where, "aborted.tar.gz")
      const controller = new AbortController()
      await expect(
        buildTarball({
          condor,
          output,
          credentials: { password: PASSWORD },
          version: "0.0.0-test",
          signal: controller.signal,
          onProgress: (current) => {
            if (current === phase) controller.abort()
          },
        }),
      ).rejects.toThrow("interrupted; no output was written")
      expect(readdirSync(where)).toEqual([])
    })
  }

  test("finds the HTCondor version in libcondor_utils when condor_master lacks it (9.0 and later)", async () => {
    // A 25.14 make install keeps `$CondorVersion` in libcondor_utils only; condor_master has
    // the marker once, for something else.
    const install = standInInstall(path.join(dir, "condor-25-make-install"), {
      "sbin/condor_master": "#!/bin/sh\n# MemoryAverageUsa$CondorVersion: \n",
    })
    put(
      path.join(install, "lib/libcondor_utils_23_0_0.so"),
      "ELF...$CondorVersion: 25.14.0 2026-12-07 PRE-RELEASE-UWCS $...",
      0o755,
    )
    const { output, report } = await build("version.tar.gz", { condor: install, password: true })
    expect(report.condorVersion).toBe("25.14.0 2026-12-07 PRE-RELEASE-UWCS")
    expect((await inspectTarball(output)).condorVersion).toBe("25.14.0 2026-12-07 PRE-RELEASE-UWCS")
  })

  test("refuses a directory that is not an HTCondor install", async () => {
    const empty = tempDir()
    put(path.join(empty, "README"), "nothing here")
    await expect(build("x.tar.gz", { condor: empty })).rejects.toThrow(
      `--condor "${empty}" is not an HTCondor install: no sbin/condor_master`,
    )
  })

  test("names the daemons an install lacks", async () => {
    const partial = standInInstall(path.join(tempDir(), "partial"))
    rmSync(path.join(partial, "sbin/condor_startd"))
    await expect(build("x.tar.gz", { condor: partial })).rejects.toThrow(
      "lacks sbin/condor_startd, which a glidein needs",
    )
  })

  test("refuses symlinks that leave the install", async () => {
    const leaky = standInInstall(path.join(tempDir(), "leaky"))
    symlinkSync("/usr/lib/x86_64-linux-gnu/libz.so.1", path.join(leaky, "lib/libz.so.1"))
    await expect(build("x.tar.gz", { condor: leaky })).rejects.toThrow(
      "lib/libz.so.1 links outside the install",
    )
  })

  test("refuses a release tarball member that would land outside the unpack directory", async () => {
    const hostile = path.join(tempDir(), "hostile.tar.gz")
    const parts = [
      await encodeEntry(
        { name: "condor-1/sbin/../../../escape", type: "file", mode: 0o644, mtime: 0 },
        new Uint8Array(1),
      ),
      new Uint8Array(1024),
    ]
    await Bun.write(hostile, Bun.gzipSync(Buffer.concat(parts)))
    await expect(build("x.tar.gz", { condor: hostile })).rejects.toThrow("leaves the archive root")
  })
})
