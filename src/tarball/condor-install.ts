/**
 * Finding the HTCondor install behind `tarball build --condor PATH`: an unpacked install (a
 * directory with sbin/condor_master, or a directory holding exactly one such directory, as a
 * release tarball unpacks), or a release tarball (`condor-*-stripped.tar.gz`), unpacked whole
 * into a private temporary directory first (see unpack-release.ts for what it refuses).
 */
import { lstat, mkdtemp, readdir, readlink, rm } from "node:fs/promises"
import path from "node:path"
import { GlideinError, UsageError } from "../errors.ts"
import type { InstallFile } from "./select-install.ts"
import { systemReason } from "./system-reason.ts"
import { unpackRelease } from "./unpack-release.ts"

/** An install ready to be listed; `cleanup` removes what was unpacked for it. */
export interface CondorInstall {
  root: string
  cleanup(): Promise<void>
}

const INSTALL_DIRS = new Set(["bin", "sbin", "lib", "libexec"])

/** Locates (or unpacks) the install named by `--condor`. */
export async function openCondorInstall(
  condor: string,
  workDir: string,
  signal?: AbortSignal,
  onProgress?: (read: number, total: number) => void,
): Promise<CondorInstall> {
  let info: Awaited<ReturnType<typeof lstat>>
  try {
    info = await lstat(path.resolve(condor, "."))
  } catch (error) {
    throw new UsageError(`--condor "${condor}": ${systemReason(error)}`, { cause: error })
  }
  if (info.isDirectory()) {
    return { root: await findRoot(condor, condor), cleanup: async () => {} }
  }
  const temp = await mkdtemp(path.join(workDir, ".glidein-condor-")).catch((error: unknown) => {
    throw new GlideinError(`cannot unpack "${condor}" in "${workDir}": ${systemReason(error)}`, 1, {
      cause: error,
    })
  })
  const cleanup = () => rm(temp, { recursive: true, force: true })
  try {
    await unpackRelease(condor, temp, signal, onProgress)
    return { root: await findRoot(temp, condor), cleanup }
  } catch (error) {
    await cleanup()
    throw error
  }
}

/** The directory holding sbin/condor_master: `dir` itself or its only subdirectory that has it. */
async function findRoot(dir: string, shown: string): Promise<string> {
  if (await exists(path.join(dir, "sbin", "condor_master"))) return dir
  const candidates: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (
      entry.isDirectory() &&
      (await exists(path.join(dir, entry.name, "sbin", "condor_master")))
    ) {
      candidates.push(path.join(dir, entry.name))
    }
  }
  if (candidates.length === 1) return candidates[0] as string
  if (candidates.length > 1) {
    throw new UsageError(
      `--condor "${shown}" holds ${candidates.length} HTCondor installs; name one of them`,
    )
  }
  throw new UsageError(
    `--condor "${shown}" is not an HTCondor install: no sbin/condor_master in it or in a directory inside it`,
  )
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
      throw new GlideinError(`cannot list "${dir}": ${systemReason(error)}`, 1, { cause: error })
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
  for (const top of INSTALL_DIRS) {
    const info = await lstat(path.join(root, top)).catch(() => undefined)
    if (info?.isDirectory()) {
      files.push({ path: top, type: "directory", mode: info.mode, size: 0 })
      await walk(top)
    }
  }
  return files
}
