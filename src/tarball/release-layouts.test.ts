/**
 * `tarball build`, `inspect` and glidein_start.sh on every HTCondor release layout, made of
 * real ELF programs and libraries (elfRelease, compiled with cc) with the RPATHs HTCondor's
 * releases carry, so the dynamic loader really has to find the libraries in the archive.
 */
import { afterAll, describe, expect, test } from "bun:test"
import { chmodSync, openSync, readFileSync, rmSync, symlinkSync, writeSync } from "node:fs"
import path from "node:path"
import { GLIDEIN_START_SH } from "../runtime/index.ts"
import { buildTarball } from "./build-tarball.ts"
import { injectCredentials } from "./inject-credentials.ts"
import { inspectTarball } from "./inspect-tarball.ts"
import {
  elfRelease,
  HAVE_CC,
  put,
  type ReleaseLayout,
  removeTempDirs,
  run,
  tempDir,
} from "./test-support.ts"

afterAll(removeTempDirs)

const PASSWORD = Uint8Array.of(0x8e, 0xc4, 0x10, 0xd2)
const COLLECTOR = "pool.example.org:9618"
const ARCH = process.arch === "arm64" ? "aarch64" : "x86_64"
const LAYOUTS: ReleaseLayout[] = ["rpm-24", "rpm-23", "deb", "pre-9", "make-install"]

if (!HAVE_CC) {
  test.skip("release layouts: skipped, no C compiler (cc) to make the ELF fixtures", () => {})
}

/** The release in `layout`, as a directory and as its release tarball. */
function release(layout: ReleaseLayout) {
  const dir = tempDir()
  const name = `condor-24.0.1-${ARCH}_${layout}-stripped`
  const root = elfRelease(path.join(dir, name), layout)
  const tarball = path.join(dir, `${name}.tar.gz`)
  run(["tar", "czf", tarball, "-C", dir, name])
  return { root, tarball }
}

async function build(condor: string, collector?: string): Promise<string> {
  const output = path.join(tempDir(), "glidein.tar.gz")
  await buildTarball({
    condor,
    output,
    credentials: { password: PASSWORD },
    ...(collector === undefined ? {} : { collector }),
    version: "test",
  })
  return output
}

/** Runs glidein_start.sh on `tarball` under `env -i`, with no CLUSTER. */
function startGlidein(tarball: string) {
  const scratch = tempDir("glidein-scratch-")
  put(path.join(scratch, "glidein_start.sh"), GLIDEIN_START_SH)
  const vars = {
    CPUS: "1",
    MEMORY: "1000",
    DISK: "1000000",
    WALLTIME: "3600",
    SITE: "Test",
    GLIDEIN_TARBALL: tarball,
  }
  const pairs = Object.entries(vars).map(([k, v]) => `${k}=${v}`)
  const result = Bun.spawnSync(["/usr/bin/env", "-i", ...pairs, "sh", "./glidein_start.sh"], {
    cwd: scratch,
  })
  return { code: result.exitCode, out: result.stdout.toString(), err: result.stderr.toString() }
}

/** Unpacks `tarball`, lets `change` alter the tree, and packs it again. */
function repack(tarball: string, change: (dir: string) => void): string {
  const dir = tempDir()
  run(["tar", "xzf", tarball, "-C", dir])
  change(dir)
  const output = path.join(tempDir(), "changed.tar.gz")
  run(["tar", "czf", output, "-C", dir, "."])
  return output
}

function inspectExit(tarball: string): { code: number; out: string } {
  const main = path.join(import.meta.dir, "..", "main.ts")
  const result = Bun.spawnSync([process.execPath, main, "tarball", "inspect", tarball])
  return { code: result.exitCode, out: result.stdout.toString() + result.stderr.toString() }
}

describe.if(HAVE_CC)("tarball build on HTCondor's release layouts", () => {
  for (const layout of LAYOUTS) {
    test(`${layout}: the archive is checked, inspected and started by glidein_start.sh`, async () => {
      const { root, tarball } = release(layout)
      const fromTarball = await build(tarball, COLLECTOR)
      const fromDir = await build(root, COLLECTOR)
      expect(readFileSync(fromDir).equals(readFileSync(fromTarball))).toBe(true)

      const report = await inspectTarball(fromTarball)
      expect(report.problems).toEqual([])
      expect(report.foreign).toBeUndefined()
      expect(report.collector).toBe(COLLECTOR)
      expect(report.condorVersion).toBe("24.0.1 2024-10-31 BuildID: 0")
      expect(report.run?.arch).toBe(ARCH)
      expect(report.run?.glibc?.version).toMatch(/^2\.\d+/)
      expect(report.run?.cLibrary).toContain("libc.so.6")
      expect(report.manifest.status).toBe("verified")

      const started = startGlidein(fromTarball)
      expect(started.err).not.toContain("error while loading shared libraries")
      expect(started.out).toContain(`collector ${COLLECTOR} from the tarball`)
      expect(started.out).toMatch(
        new RegExp(`stand-in \\S+/condor_master: libraries loaded, collector ${COLLECTOR}`),
      )
      expect(started.code).toBe(0)
    })
  }

  test("a release whose library is missing is refused by build, naming the library", async () => {
    const { root } = release("rpm-24")
    for (const name of ["libcondorext.so.1", "libcondorext.so.1.0.0"]) {
      rmSync(path.join(root, "usr/lib64/condor", name))
    }
    await expect(build(root)).rejects.toThrow(
      "needs libcondorext.so.1 (for glideinExec/usr/lib64/libcondor_utils_24_0_1.so), which is neither in the archive nor a base library of the node",
    )
  })

  test("a package install (a tree with the system's C library) is refused with the tarball to get", async () => {
    const { root } = release("make-install")
    put(path.join(root, "lib/x86_64-linux-gnu/libc.so.6"), "libc")
    await expect(build(root)).rejects.toThrow(
      `is a system-wide package install, whose programs take their libraries from this machine's system; download HTCondor's release tarball for the cluster's OS instead (condor-24.0.1-${ARCH}_`,
    )
  })
})

describe.if(HAVE_CC)("tarball inspect on an archive that cannot run", () => {
  let good: string
  const goodTarball = async () => {
    good ??= await build(release("rpm-24").tarball)
    return good
  }

  test("a missing library: exit 1, naming it", async () => {
    const broken = repack(await goodTarball(), (dir) =>
      rmSync(path.join(dir, "glideinExec/usr/lib64/condor/libcondorext.so.1.0.0")),
    )
    const report = await inspectTarball(broken)
    expect(report.problems.join("\n")).toContain(
      "glideinExec/usr/sbin/condor_master needs libcondorext.so.1",
    )
    expect(report.problems.join("\n")).toContain(
      "the link glideinExec/usr/lib64/condor/libcondorext.so.1 dangles",
    )
    const cli = inspectExit(broken)
    expect(cli.out).toContain(
      "CANNOT RUN: glideinExec/usr/sbin/condor_master needs libcondorext.so.1",
    )
    expect(cli.code).toBe(1)
  })

  test("a link that leaves the archive, and one that dangles: exit 1", async () => {
    const broken = repack(await goodTarball(), (dir) => {
      symlinkSync("../../../../../etc/passwd", path.join(dir, "glideinExec/usr/lib64/escape"))
      symlinkSync("nothing.so", path.join(dir, "glideinExec/usr/lib64/libgone.so"))
    })
    const report = await inspectTarball(broken)
    expect(report.problems).toEqual([
      "the link glideinExec/usr/lib64/escape dangles: leaves the tree",
      'the link glideinExec/usr/lib64/libgone.so dangles: "glideinExec/usr/lib64/nothing.so" does not exist',
    ])
    expect(inspectExit(broken).code).toBe(1)
  })

  test("an ELF file of another architecture: exit 1", async () => {
    const other =
      ARCH === "x86_64" ? { machine: 183, name: "aarch64" } : { machine: 62, name: "x86_64" }
    const broken = repack(await goodTarball(), (dir) => {
      const file = path.join(dir, "glideinExec/usr/lib64/libcondor_utils_24_0_1.so")
      chmodSync(file, 0o644)
      const fd = openSync(file, "r+")
      writeSync(fd, Uint8Array.of(other.machine & 0xff, other.machine >> 8), 0, 2, 18)
    })
    const report = await inspectTarball(broken)
    expect(report.problems).toContain(
      `glideinExec/usr/lib64/libcondor_utils_24_0_1.so is built for ${other.name}, the programs for ${ARCH}`,
    )
    expect(inspectExit(broken).code).toBe(1)
  })

  test("a pyglidein tarball: inspect says so and exits 1, inject-password warns", async () => {
    const dir = tempDir()
    put(path.join(dir, "glideinExec/sbin/condor_master"), "#!/bin/sh\n", 0o755)
    put(path.join(dir, "glidein_condor_config"), "COLLECTOR_HOST = pool\n")
    const foreign = path.join(tempDir(), "pyglidein.tar.gz")
    run(["tar", "czf", foreign, "-C", dir, "."])
    const report = await inspectTarball(foreign)
    expect(report.foreign).toBe(
      "its glidein_condor_config was not written by glidein tarball build (pyglidein's?)",
    )
    const cli = inspectExit(foreign)
    expect(cli.out).toContain("NOT a glidein tarball: its glidein_condor_config was not written")
    expect(cli.code).toBe(1)
    const injected = await injectCredentials({
      input: foreign,
      output: path.join(tempDir(), "out.tar.gz"),
      credentials: { password: PASSWORD },
    })
    expect(injected.foreign).toBe(report.foreign as string)
  })
})
