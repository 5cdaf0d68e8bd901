/**
 * Which files of an HTCondor install go into a glidein tarball, and as what members. Pure: it
 * takes a listing of the install (paths relative to its root) and returns the members in archive
 * order. What a startd needs is in notes/htcondor.md: the daemons in sbin/, every shared library
 * in lib/, the helpers in libexec/, and a few tools from bin/ that help when debugging a glidein.
 */
import { type ElfLookup, FileTree, traceLibraries } from "./check-runnable.ts"
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
  /** Symlinks left out because their target is not in the install. */
  dangling: string[]
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

/** The install's top-level directories a glidein takes files from (through their links). */
const TOPS = ["bin", "sbin", "lib", "lib64", "libexec"]

/**
 * The links HTCondor's release tarballs (9.0 and later) have at the top and inside `usr/`,
 * for a release tree that lacks them: the
 * RPATHs `$ORIGIN/../lib64` of the helpers in usr/libexec/condor resolve through
 * usr/libexec/lib64, those of Debian's usr/lib/condor/libexec through usr/lib/condor/lib.
 */
const RELEASE_LINKS: [link: string, target: string, when: string][] = [
  ["bin", "usr/bin", "usr/bin"],
  ["sbin", "usr/sbin", "usr/sbin"],
  ["lib", "usr/lib", "usr/lib"],
  ["lib64", "usr/lib64", "usr/lib64"],
  ["libexec", "usr/libexec/condor", "usr/libexec/condor"],
  ["libexec", "usr/lib/condor/libexec", "usr/lib/condor/libexec"],
  ["usr/libexec/lib64", "../lib64", "usr/libexec/condor"],
  ["usr/lib/condor/lib", "..", "usr/lib/condor/libexec"],
]

/**
 * True for paths a glidein needs, named through the install's top-level directories
 * (`sbin/condor_master` also when sbin is a link to usr/sbin).
 */
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
    case "lib64":
      // the Python bindings and static libraries are for building things, not for a startd
      return !rest[0]?.startsWith("python") && !name.endsWith(".a") && !name.endsWith(".la")
    case "libexec":
      return true
    default:
      return false
  }
}

/** Byte-wise comparison of UTF-8 paths, the order `tar` tools and `sort` (C locale) use. */
export function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b))
}

/**
 * Chooses and orders the members for the install listing `files`: the wanted files with the
 * release's own relative layout (links included), every library the kept programs load as ld.so
 * would find it (`elfOf` reads their ELF facts), and every link those lookups pass through.
 */
export function selectInstall(listing: InstallFile[], elfOf: ElfLookup): InstallSelection {
  const files = withReleaseLinks(listing)
  const byPath = new Map(files.map((f) => [f.path, f]))
  const tree = new FileTree(files.map((f) => [f.path, f]))
  const kept = new Set<string>()
  const linkedDirs = new Set<string>()
  const escaping: string[] = []
  const dangling: string[] = []
  const queue: string[] = []
  for (const top of TOPS) {
    const found = tree.resolve(top)
    if (!("real" in found) || tree.entry(found.real)?.type !== "directory") continue
    if (byPath.get(top)?.type === "symlink") queue.push(top)
    const prefix = found.real === "" ? "" : `${found.real}/`
    for (const f of files) {
      if (f.type === "directory" || !f.path.startsWith(prefix)) continue
      if (isWanted(`${top}/${f.path.slice(prefix.length)}`)) queue.push(f.path)
    }
  }
  const take = () => {
    while (queue.length > 0) {
      const path = queue.pop() as string
      const file = byPath.get(path)
      if (!file || kept.has(path) || file.type === "other" || file.type === "directory") continue
      if (file.type !== "symlink") {
        kept.add(path)
        continue
      }
      // a kept symlink brings its target along, wherever in the install it is
      if ((file.linkTarget ?? "").startsWith("/")) {
        escaping.push(path)
        kept.add(path)
        continue
      }
      const trail = new Set<string>()
      const found = tree.resolve(path, trail)
      if ("problem" in found) {
        if (found.problem === "leaves the tree") {
          escaping.push(path)
          kept.add(path)
        } else dangling.push(path)
        continue
      }
      kept.add(path)
      queue.push(...trail)
      if (tree.entry(found.real)?.type === "directory") linkedDirs.add(found.real)
      else queue.push(found.real)
    }
  }
  take()
  // what the kept programs load, and the links the loader goes through to find it
  const programs = [...kept].filter((p) => byPath.get(p)?.type === "file" && isProgram(elfOf, p))
  queue.push(...traceLibraries(tree, elfOf, programs))
  take()

  const missing = REQUIRED_DAEMONS.map((name) => `sbin/${name}`).filter((p) => {
    const found = tree.resolve(p)
    return !("real" in found && kept.has(found.real))
  })
  const directories = new Set<string>()
  for (const path of [...kept, ...[...linkedDirs].map((d) => `${d}/`)]) {
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
    dangling: dangling.sort(compareNames),
    omitted: listing.filter((f) => f.type !== "directory" && !kept.has(f.path)).length,
  }
}

/** `files` with the release links it lacks (a 9.0+ release tree unpacked without them). */
function withReleaseLinks(files: InstallFile[]): InstallFile[] {
  const paths = new Set(files.map((f) => f.path))
  if (paths.has("sbin") || !paths.has("usr/sbin/condor_master")) return files
  const added: InstallFile[] = []
  for (const [link, linkTarget, when] of RELEASE_LINKS) {
    const present = (p: string) => paths.has(p) || files.some((f) => f.path.startsWith(`${p}/`))
    if (present(link) || added.some((f) => f.path === link) || !present(when)) continue
    added.push({ path: link, type: "symlink", mode: 0o777, size: 0, linkTarget })
  }
  return [...files, ...added]
}

function isProgram(elfOf: ElfLookup, path: string): boolean {
  try {
    return elfOf(path)?.interpreter !== undefined
  } catch {
    return false // a damaged file is reported by the check of the archive
  }
}
