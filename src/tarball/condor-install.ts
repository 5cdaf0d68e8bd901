/**
 * Finding the HTCondor install behind `tarball build --condor PATH`: an unpacked install (a
 * directory with sbin/condor_master, or a directory holding exactly one such directory, as a
 * release tarball unpacks), or a release tarball (`condor-*-stripped.tar.gz`), whose bin/, sbin/,
 * lib/ and libexec/ are unpacked into a private temporary directory first.
 */
import {
  type FileHandle,
  link,
  lstat,
  mkdir,
  mkdtemp,
  open,
  readdir,
  readlink,
  rm,
  symlink,
} from "node:fs/promises"
import path from "node:path"
import { GlideinError, UsageError } from "../errors.ts"
import { describeReadFailure, type OpenArchive, openArchive } from "./read-archive.ts"
import type { InstallFile } from "./select-install.ts"
import { systemReason } from "./system-reason.ts"
import { memberPath, normalizeName } from "./tar-header.ts"

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

/**
 * Unpacks the members of a release tarball under bin/, sbin/, lib/ and libexec/ (at the top or
 * one directory down) into `dest`. Paths that would leave `dest` are refused, and no member is
 * ever written through a symlink the archive created.
 */
async function unpackRelease(
  tarball: string,
  dest: string,
  signal?: AbortSignal,
  onProgress?: (read: number, total: number) => void,
): Promise<void> {
  const madeDirs = new Set<string>([dest])
  let file: FileHandle | undefined
  let archive: OpenArchive | undefined
  try {
    archive = await openArchive(tarball, { signal, onProgress })
    for await (const event of archive.events) {
      if (event.kind === "data") {
        if (file) await file.write(event.bytes)
        continue
      }
      if (event.kind !== "entry") continue
      await file?.close()
      file = undefined
      const { entry } = event
      const parts = memberPath(entry.name).split("/")
      const dirIndex = INSTALL_DIRS.has(parts[0] ?? "") ? 0 : 1
      if (!INSTALL_DIRS.has(parts[dirIndex] ?? "") || parts.length <= dirIndex + 1) continue
      if (parts.some((p) => p === ".." || p === "")) {
        throw new GlideinError(`"${tarball}": member "${entry.name}" leaves the archive root`)
      }
      const target = path.join(dest, ...parts)
      await makeParents(dest, parts, madeDirs, tarball)
      switch (entry.type) {
        case "directory":
          await mkdir(target).catch(() => {})
          madeDirs.add(target)
          break
        case "file":
          file = await open(target, "wx", entry.mode & 0o755)
          break
        case "symlink":
          await symlink(entry.linkname, target)
          break
        case "link": {
          const linked = normalizeName(entry.linkname).split("/")
          if (linked.some((p) => p === ".." || p === "")) {
            throw new GlideinError(
              `"${tarball}": hard link "${entry.name}" leaves the archive root`,
            )
          }
          await link(path.join(dest, ...linked), target).catch((error: unknown) => {
            throw new GlideinError(
              `"${tarball}": hard link "${entry.name}" to "${entry.linkname}": ${systemReason(error)}`,
            )
          })
          break
        }
        default:
          break
      }
    }
  } catch (error) {
    throw describeReadFailure(error, tarball)
  } finally {
    await file?.close()
    archive?.close()
  }
}

/** Creates the parent directories of `parts` under `dest`, refusing to pass through a symlink. */
async function makeParents(
  dest: string,
  parts: string[],
  made: Set<string>,
  tarball: string,
): Promise<void> {
  let dir = dest
  for (const part of parts.slice(0, -1)) {
    dir = path.join(dir, part)
    if (made.has(dir)) continue
    const info = await lstat(dir).catch(() => undefined)
    if (info && !info.isDirectory()) {
      throw new GlideinError(`"${tarball}": member path "${parts.join("/")}" passes through a link`)
    }
    if (!info) await mkdir(dir)
    made.add(dir)
  }
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
