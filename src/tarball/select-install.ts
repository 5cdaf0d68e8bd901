/**
 * Which files of an HTCondor install go into a glidein tarball, and as what members. Pure: it
 * takes a listing of the install (paths relative to its root) and returns the members in archive
 * order. What a startd needs is in notes/htcondor.md: the daemons in sbin/, every shared library
 * in lib/, the helpers in libexec/, and a few tools from bin/ that help when debugging a glidein.
 */
import { RELEASE_DIR, REQUIRED_DAEMONS } from "./layout.ts"

/** One path of the install as found on disk. */
export interface InstallFile {
  /** Relative to the install root, "/"-separated, no leading "./". */
  path: string
  type: "file" | "directory" | "symlink" | "other"
  mode: number
  size: number
  /** Symlink target as stored. */
  linkTarget?: string
  /** Device and inode ("dev:ino") of files with more than one link, to keep hard links. */
  inode?: string
}

/** A member to write, in archive order. */
export interface PlannedMember {
  /** Path inside the archive. */
  name: string
  type: "file" | "directory" | "symlink" | "link"
  mode: number
  size: number
  /** For files: the install path to read the content from. */
  source?: string
  /** For symlinks the target as stored; for hard links the archive path linked to. */
  linkname?: string
}

/** The result of selectInstall. */
export interface InstallSelection {
  members: PlannedMember[]
  /** Required daemons that are missing, as install paths. */
  missing: string[]
  /** Symlinks whose target leaves the install (they would dangle on the batch node). */
  escaping: string[]
  /** Install paths left out. */
  omitted: number
}

/** Daemons from sbin/: the required ones, then what they start when present. */
export const SBIN_KEEP = [...REQUIRED_DAEMONS, "condor_procd", "condor_shared_port"]

/** Tools from bin/ worth their few kilobytes on a batch node. */
export const BIN_KEEP = [
  "condor_config_val", // what the glidein's configuration resolved to
  "condor_nsenter", // condor_ssh_to_job into a running payload
  "condor_ping", // does the credential authenticate to the collector?
  "condor_status",
  "condor_token_list",
  "condor_version",
  "condor_who",
]

/** True for install paths a glidein needs (before following symlinks). */
export function isWanted(path: string): boolean {
  const [top, ...rest] = path.split("/")
  if (rest.length === 0) return false
  const name = rest[rest.length - 1] ?? ""
  switch (top) {
    case "sbin":
      return rest.length === 1 && SBIN_KEEP.includes(name)
    case "bin":
      return rest.length === 1 && BIN_KEEP.includes(name)
    case "lib":
      // the Python bindings and static libraries are for building things, not for a startd
      return !rest[0]?.startsWith("python") && !name.endsWith(".a") && !name.endsWith(".la")
    case "libexec":
      return true
    default:
      return false
  }
}

/** Resolves `target` relative to the directory of `link`; undefined when it leaves the root. */
export function resolveLink(link: string, target: string): string | undefined {
  if (target.startsWith("/")) return undefined
  const parts = link.split("/").slice(0, -1)
  for (const part of target.split("/")) {
    if (part === "" || part === ".") continue
    if (part === "..") {
      if (parts.length === 0) return undefined
      parts.pop()
    } else parts.push(part)
  }
  return parts.join("/")
}

/** Byte-wise comparison of UTF-8 paths, the order `tar` tools and `sort` (C locale) use. */
export function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b))
}

/** Chooses and orders the members for the install listing `files`. */
export function selectInstall(files: InstallFile[]): InstallSelection {
  const byPath = new Map(files.map((f) => [f.path, f]))
  const kept = new Set<string>()
  const escaping: string[] = []
  const queue = files.filter((f) => f.type !== "directory" && isWanted(f.path)).map((f) => f.path)
  while (queue.length > 0) {
    const path = queue.pop() as string
    const file = byPath.get(path)
    if (!file || kept.has(path) || file.type === "other") continue
    kept.add(path)
    if (file.type !== "symlink") continue
    // a kept symlink brings its target along, wherever in the install it is
    const target = resolveLink(path, file.linkTarget ?? "")
    if (target === undefined) escaping.push(path)
    else if (byPath.get(target)?.type === "directory") {
      for (const f of files) if (f.path.startsWith(`${target}/`)) queue.push(f.path)
    } else queue.push(target)
  }

  const missing = REQUIRED_DAEMONS.map((name) => `sbin/${name}`).filter((p) => !kept.has(p))
  const directories = new Set<string>()
  for (const path of kept) {
    const parts = path.split("/")
    for (let i = 1; i < parts.length; i++) directories.add(parts.slice(0, i).join("/"))
  }

  const members: PlannedMember[] = [
    { name: `${RELEASE_DIR}/`, type: "directory", mode: 0o755, size: 0 },
  ]
  for (const dir of directories) {
    members.push({ name: `${RELEASE_DIR}/${dir}/`, type: "directory", mode: 0o755, size: 0 })
  }
  for (const path of kept) {
    const file = byPath.get(path) as InstallFile
    const name = `${RELEASE_DIR}/${path}`
    if (file.type === "symlink") {
      members.push({
        name,
        type: "symlink",
        mode: 0o777,
        size: 0,
        linkname: file.linkTarget ?? "",
      })
    } else {
      const mode = file.mode & 0o111 ? 0o755 : 0o644
      members.push({ name, type: "file", mode, size: file.size, source: path })
    }
  }
  members.sort((a, b) => compareNames(a.name, b.name))
  // in archive order, so that a hard link always comes after the member it names
  const firstOfInode = new Map<string, string>()
  for (const [i, member] of members.entries()) {
    const inode = member.source === undefined ? undefined : byPath.get(member.source)?.inode
    if (inode === undefined) continue
    const first = firstOfInode.get(inode)
    if (first === undefined) {
      firstOfInode.set(inode, member.name)
    } else {
      members[i] = { name: member.name, type: "link", mode: member.mode, size: 0, linkname: first }
    }
  }
  return {
    members,
    missing,
    escaping: escaping.sort(compareNames),
    omitted: files.filter((f) => f.type !== "directory").length - kept.size,
  }
}
