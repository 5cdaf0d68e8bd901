/**
 * Unpacking a release tarball (`tarball build --condor X.tar.gz`) without trusting it: a
 * tampered download must not write, link or read anything outside the unpack root. Every member
 * lands at its own path below the root; no member is written through, linked through or placed
 * over something already unpacked; a hard link names a regular file unpacked before it; and every
 * symlink resolves inside the root, so the steps that read the unpacked tree later may follow
 * links. Anything else refuses the whole archive in one sentence that names the member. The
 * archive's members and unpacked bytes are bounded too (archive-limits.ts), so a gzip bomb is
 * refused before it fills the disk.
 */
import { constants } from "node:fs"
import { type FileHandle, link, lstat, mkdir, open, symlink } from "node:fs/promises"
import path from "node:path"
import { quote } from "../config/text.ts"
import { errorReason, GlideinError } from "../errors.ts"
import { MAX_UNPACKED_BYTES } from "./archive-limits.ts"
import {
  describeReadFailure,
  type OpenArchive,
  openArchive,
  type ReadOptions,
} from "./read-archive.ts"
import type { TarEntry } from "./tar-header.ts"

/** Longest member name or link target quoted in a message before it is shortened. */
const SHOWN = 200

/** O_NOFOLLOW with O_EXCL: a file is only ever created, never opened through a link. */
const CREATE_FILE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW

/** Directories known to be real directories below the root; cleared when this large. */
const MAX_KNOWN_DIRS = 4096

/** A member the archive must not hold; `name` is the member as stored. */
class RefusedMember extends Error {
  constructor(
    readonly member: string,
    readonly reason: string,
  ) {
    super(reason)
  }
}

/**
 * Unpacks every member of the release tarball `tarball` into the empty directory `dest`.
 * Throws a GlideinError naming the member when the archive holds one it must not, or naming
 * the bound it goes past (at most MAX_UNPACKED_BYTES of content unless `options.limits` says
 * otherwise); the caller removes `dest` then.
 */
export async function unpackRelease(
  tarball: string,
  dest: string,
  options: ReadOptions = {},
): Promise<void> {
  const dirs = new KnownDirs(dest)
  let file: FileHandle | undefined
  let archive: OpenArchive | undefined
  let member = ""
  try {
    archive = await openArchive(tarball, {
      ...options,
      limits: { maxContentBytes: MAX_UNPACKED_BYTES, ...options.limits },
    })
    for await (const event of archive.events) {
      if (event.kind === "data") {
        if (file) await file.write(event.bytes)
        continue
      }
      if (event.kind !== "entry") continue
      await file?.close()
      file = undefined
      member = event.entry.name
      file = await unpackMember(event.entry, dest, dirs)
    }
  } catch (error) {
    if (error instanceof RefusedMember) {
      throw new GlideinError(
        `"${tarball}": refusing member ${quote(error.member, SHOWN)}: ${error.reason}`,
      )
    }
    if (isSystemError(error)) {
      throw new GlideinError(
        `"${tarball}": cannot unpack member ${quote(member, SHOWN)}: ${errorReason(error)}`,
        1,
        { cause: error },
      )
    }
    throw describeReadFailure(error, tarball)
  } finally {
    await file?.close()
    archive?.close()
  }
}

/** Creates one member below `dest`; for a file, returns the handle its payload goes to. */
async function unpackMember(
  entry: TarEntry,
  dest: string,
  dirs: KnownDirs,
): Promise<FileHandle | undefined> {
  const refuse = (reason: string) => new RefusedMember(entry.name, reason)
  switch (entry.type) {
    case "global-header":
      return undefined
    case "character-device":
    case "block-device":
    case "fifo":
      throw refuse(`it is a ${entry.type.replace("-", " ")}, which no release tarball holds`)
    case "sparse":
      throw refuse("it is a sparse file, which no release tarball holds")
    default:
      break
  }
  const parts = memberParts(entry.name, (why) => refuse(`its name ${why}`))
  if (parts.length === 0) return undefined // the root itself ("./")
  const target = path.join(dest, ...parts)
  if (entry.type === "directory") {
    await dirs.make(parts, parts.length, refuse)
    return undefined
  }
  await dirs.make(parts, parts.length - 1, refuse)
  const twice = (error: unknown): never => {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") {
      throw refuse("that path is already unpacked (the archive holds it twice)")
    }
    throw error
  }
  switch (entry.type) {
    case "file":
      if (entry.realSize !== entry.size) {
        throw refuse("it is a sparse file, which no release tarball holds")
      }
      return await open(target, CREATE_FILE, entry.mode & 0o755).catch(twice)
    case "symlink": {
      const way = linkEscape(parts, entry.linkname)
      if (way) throw refuse(`its target ${quote(entry.linkname, SHOWN)} ${way}`)
      await symlink(entry.linkname, target).catch(twice)
      return undefined
    }
    case "link": {
      const wrong = (why: string) => refuse(`its target ${quote(entry.linkname, SHOWN)} ${why}`)
      const linked = memberParts(entry.linkname, wrong)
      await checkHardLinkTarget(dest, linked, wrong)
      await link(path.join(dest, ...linked), target).catch(twice)
      return undefined
    }
    default:
      // other types (GNU volume labels, vendor extensions) hold nothing a glidein uses
      return undefined
  }
}

/** The components of a member name or hard-link target: relative, no "." or "", never "..". */
function memberParts(name: string, refuse: (why: string) => Error): string[] {
  if (name.includes("\0")) throw refuse("holds a NUL byte")
  if (name.startsWith("/")) throw refuse("is an absolute path")
  const parts = name.split("/").filter((p) => p !== "" && p !== ".")
  if (parts.includes("..")) throw refuse(`has a ".." component, which leaves the archive root`)
  return parts
}

/**
 * Why a symlink at `parts` (below the root) pointing at `target` could lead outside the root,
 * or undefined when it cannot. A target may climb with leading ".." as far as the root, then
 * only descend: a ".." after a name could climb back out through a symlink the name is (or
 * becomes), as `a/u/..` does when `a/u` points at the root. Targets of real releases
 * (`usr/bin`, `../lib64`, `libfoo.so.1`) all have this form.
 */
export function linkEscape(parts: string[], target: string): string | undefined {
  if (target === "") return "is empty"
  if (target.includes("\0")) return "holds a NUL byte"
  if (target.startsWith("/")) return "points outside the archive"
  let depth = parts.length - 1
  let descended = false
  for (const part of target.split("/")) {
    if (part === "" || part === ".") continue
    if (part !== "..") descended = true
    else if (descended)
      return `has ".." after a name, which could climb out of the archive through a symlink`
    else if (--depth < 0) return "points outside the archive"
  }
  return undefined
}

/** Refuses a hard-link target that is not a regular file reached through real directories. */
async function checkHardLinkTarget(
  dest: string,
  linked: string[],
  refuse: (reason: string) => Error,
): Promise<void> {
  if (linked.length === 0) throw refuse("is not a file unpacked before it")
  let at = dest
  for (const [i, part] of linked.entries()) {
    at = path.join(at, part)
    const info = await lstat(at).catch(() => undefined)
    if (info?.isSymbolicLink()) {
      throw refuse(`goes through the symlink ${quote(linked.slice(0, i + 1).join("/"), SHOWN)}`)
    }
    const last = i === linked.length - 1
    if (!info || (last ? !info.isFile() : !info.isDirectory())) {
      throw refuse("is not a file unpacked before it")
    }
  }
}

/**
 * Directories below the root, made as members need them. A path is only ever created, never
 * replaced, so one found to be a real directory (by lstat, not through a link) stays one.
 */
class KnownDirs {
  private readonly known = new Set<string>()
  constructor(private readonly root: string) {}

  /** Makes the first `count` components of `parts` real directories, or refuses. */
  async make(parts: string[], count: number, refuse: (reason: string) => Error): Promise<void> {
    let dir = this.root
    for (let i = 0; i < count; i++) {
      dir = path.join(dir, parts[i] as string)
      if (this.known.has(dir)) continue
      const info = await lstat(dir).catch(() => undefined)
      if (info?.isSymbolicLink()) {
        throw refuse(`it goes through the symlink ${quote(parts.slice(0, i + 1).join("/"), SHOWN)}`)
      }
      if (info && !info.isDirectory()) {
        throw refuse(`it goes through ${quote(parts.slice(0, i + 1).join("/"), SHOWN)}, a file`)
      }
      // mkdir never follows a link at `dir`: one made since the lstat fails with EEXIST
      if (!info) await mkdir(dir)
      if (this.known.size >= MAX_KNOWN_DIRS) this.known.clear()
      this.known.add(dir)
    }
  }
}

/** A failed system call (it has an errno code), as opposed to a bug or a format error. */
function isSystemError(error: unknown): boolean {
  return typeof (error as NodeJS.ErrnoException | null)?.code === "string"
}
