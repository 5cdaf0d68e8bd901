/**
 * Finding the HTCondor install behind `tarball build --condor PATH`: an unpacked install (a
 * directory with sbin/condor_master — a 9.0+ release's link to usr/sbin, a pre-9.0 release or
 * a `make install` prefix — or usr/sbin/condor_master, or a directory holding exactly one such
 * directory, as a release tarball unpacks), or a release tarball (`condor-*-stripped.tar.gz`), unpacked whole
 * into a private temporary directory first (see unpack-release.ts for what it refuses).
 */
import { lstat, mkdtemp, readdir, readFile, readlink, rm } from "node:fs/promises"
import path from "node:path"
import { errorReason, GlideinError, UsageError } from "../errors.ts"
import { condorVersion } from "./condor-version.ts"
import { bytesSource, parseElf } from "./elf.ts"
import type { ReadOptions } from "./read-archive.ts"
import type { InstallFile } from "./select-install.ts"
import { unpackRelease } from "./unpack-release.ts"

/** An install ready to be listed; `cleanup` removes what was unpacked for it. */
export interface CondorInstall {
  root: string
  cleanup(): Promise<void>
}

/** What is listed of an install: the flat layout's directories, and usr/ of a 9.0+ release. */
const INSTALL_DIRS = new Set(["bin", "sbin", "lib", "lib64", "libexec", "usr"])

/** Where an install's condor_master is: flat layouts and release links, or a bare usr/ tree. */
const MASTER_PATHS = ["sbin/condor_master", "usr/sbin/condor_master"]

/** Locates (or unpacks, with `options`) the install named by `--condor`. */
export async function openCondorInstall(
  condor: string,
  workDir: string,
  options: ReadOptions = {},
): Promise<CondorInstall> {
  let info: Awaited<ReturnType<typeof lstat>>
  try {
    info = await lstat(path.resolve(condor, "."))
  } catch (error) {
    throw new UsageError(`--condor "${condor}": ${errorReason(error)}`, { cause: error })
  }
  if (info.isDirectory()) {
    return { root: await findRoot(condor, condor), cleanup: async () => {} }
  }
  const temp = await mkdtemp(path.join(workDir, ".glidein-condor-")).catch((error: unknown) => {
    throw new GlideinError(`cannot unpack "${condor}" in "${workDir}": ${errorReason(error)}`, 1, {
      cause: error,
    })
  })
  const cleanup = () => rm(temp, { recursive: true, force: true })
  try {
    await unpackRelease(condor, temp, options)
    return { root: await findRoot(temp, condor), cleanup }
  } catch (error) {
    await cleanup()
    throw error
  }
}

/**
 * The directory holding sbin/condor_master (or usr/sbin/condor_master): `dir` itself or its
 * only subdirectory that has it. A system's own package install is refused: its programs take
 * their libraries from the system, not from the install.
 */
async function findRoot(dir: string, shown: string): Promise<string> {
  const hasMaster = async (d: string) => {
    for (const p of MASTER_PATHS) if (await exists(path.join(d, p))) return true
    return false
  }
  let root: string | undefined
  if (await hasMaster(dir)) root = dir
  else {
    const candidates: string[] = []
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (entry.isDirectory() && (await hasMaster(path.join(dir, entry.name)))) {
        candidates.push(path.join(dir, entry.name))
      }
    }
    if (candidates.length > 1) {
      throw new UsageError(
        `--condor "${shown}" holds ${candidates.length} HTCondor installs; name one of them`,
      )
    }
    root = candidates[0]
  }
  if (root === undefined) {
    throw new UsageError(
      `--condor "${shown}" is not an HTCondor install: no sbin/condor_master in it or in a directory inside it`,
    )
  }
  if (await holdsCLibrary(root)) throw await packageInstallError(root, shown)
  return root
}

/** True when `root` holds glibc (libc.so.6): it is a system's /usr or /, not a release. */
async function holdsCLibrary(root: string): Promise<boolean> {
  for (const lib of ["lib", "lib64", "usr/lib", "usr/lib64"]) {
    if (await exists(path.join(root, lib, "libc.so.6"))) return true
    for (const sub of await readdir(path.join(root, lib)).catch(() => [] as string[])) {
      if (/-linux-gnu/.test(sub) && (await exists(path.join(root, lib, sub, "libc.so.6")))) {
        return true
      }
    }
  }
  return false
}

/** The refusal of a package install, naming the release tarball to download instead. */
async function packageInstallError(root: string, shown: string): Promise<UsageError> {
  let version = "VERSION"
  let arch = "ARCH"
  const master = path.join(root, "sbin", "condor_master")
  const bytes = await readFile(master).catch(() => undefined)
  if (bytes) {
    version = condorVersion(bytes)?.split(" ")[0] ?? version
    try {
      arch = parseElf(bytesSource(bytes))?.arch ?? arch
    } catch {
      // the suggestion keeps its placeholder
    }
  }
  const distro = releaseDistro(await readFile("/etc/os-release", "utf8").catch(() => ""))
  return new UsageError(
    `--condor "${shown}" is a system-wide package install, whose programs take their libraries from this machine's system; download HTCondor's release tarball for the cluster's OS instead (condor-${version}-${arch}_${distro ?? "DISTRO"}-stripped.tar.gz${distro ? " if the cluster runs what this machine runs" : ""}, from https://htcondor.org/tarball/) and give that to --condor`,
  )
}

/** The DISTRO part of HTCondor's release tarball names for an /etc/os-release. */
export function releaseDistro(osRelease: string): string | undefined {
  const field = (name: string) =>
    new RegExp(`^${name}="?([^"\n]*)"?$`, "m").exec(osRelease)?.[1] ?? ""
  const id = field("ID")
  const major = field("VERSION_ID").split(".")[0] ?? ""
  if (!/^\d+$/.test(major)) return undefined
  if (["rhel", "centos", "rocky", "almalinux", "ol"].includes(id)) {
    return major === "7" ? "CentOS7" : `AlmaLinux${major}`
  }
  const names: Record<string, string> = {
    debian: "Debian",
    ubuntu: "Ubuntu",
    fedora: "Fedora",
    amzn: "AmazonLinux",
    "opensuse-leap": "openSUSE",
  }
  return names[id] === undefined ? undefined : `${names[id]}${major}`
}

async function exists(file: string): Promise<boolean> {
  return lstat(file).then(
    () => true,
    () => false,
  )
}

/** Lists an install directory for selectInstall (paths relative to `root`). */
export async function listInstall(root: string): Promise<InstallFile[]> {
  const files: InstallFile[] = []
  async function walk(relative: string): Promise<void> {
    const dir = path.join(root, relative)
    let entries: string[]
    try {
      entries = await readdir(dir)
    } catch (error) {
      throw new GlideinError(`cannot list "${dir}": ${errorReason(error)}`, 1, { cause: error })
    }
    for (const name of entries) {
      const rel = relative ? `${relative}/${name}` : name
      const full = path.join(root, rel)
      const info = await lstat(full)
      if (info.isSymbolicLink()) {
        files.push({
          path: rel,
          type: "symlink",
          mode: 0o777,
          size: 0,
          linkTarget: await readlink(full),
        })
      } else if (info.isDirectory()) {
        files.push({ path: rel, type: "directory", mode: info.mode, size: 0 })
        await walk(rel)
      } else if (info.isFile()) {
        const file: InstallFile = { path: rel, type: "file", mode: info.mode, size: info.size }
        if (info.nlink > 1) file.inode = `${info.dev}:${info.ino}`
        files.push(file)
      } else files.push({ path: rel, type: "other", mode: info.mode, size: 0 })
    }
  }
  // only the directories a glidein uses are walked: an install may hold much else (man, include)
  // (the release's top-level links, `sbin -> usr/sbin`, are listed as the links they are)
  for (const top of INSTALL_DIRS) {
    const info = await lstat(path.join(root, top)).catch(() => undefined)
    if (info?.isDirectory()) {
      files.push({ path: top, type: "directory", mode: info.mode, size: 0 })
      await walk(top)
    } else if (info?.isSymbolicLink()) {
      const linkTarget = await readlink(path.join(root, top))
      files.push({ path: top, type: "symlink", mode: 0o777, size: 0, linkTarget })
    }
  }
  return files
}
