/**
 * Can the glidein's HTCondor run from this tree? The dynamic loader's work done ahead of time
 * on a listing (an install on disk, or the members of an archive): every DT_NEEDED library of
 * every program is looked up as glibc's ld.so would — DT_RPATH of the object and of the objects
 * that loaded it up to the program (unless the object has DT_RUNPATH), then DT_RUNPATH,
 * `$ORIGIN` being the directory the object was found in (the program's own: its real path) —
 * transitively; what is not in the tree must be the node's C library (or, reported apart, a
 * library of the distribution the release was built for). Also: every symlink resolves inside
 * the tree, and every ELF file is of one architecture. Pure: ELF facts come from `elfOf`.
 */
import { compareVersions, ElfError, type ElfInfo } from "./elf.ts"
import { C_LIBRARY, OS_LIBRARY } from "./system-libraries.ts"

/** A path of the tree. */
export interface TreeEntry {
  type: "file" | "directory" | "symlink" | "other"
  /** Symlink target as stored. */
  linkTarget?: string
}

/** ELF facts of a regular file of the tree: undefined when it is not ELF; throws ElfError. */
export type ElfLookup = (path: string) => ElfInfo | undefined

/** A library that was found nowhere. */
export interface Unresolved {
  /** The program being loaded, by real path. */
  program: string
  /** The object that needs the library (the program or one of its libraries). */
  by: string
  library: string
}

/** What checkRunnable found. */
export interface RunCheck {
  /** The architecture of the programs (of the first one, when they disagree). */
  arch?: string
  /** ELF files whose architecture is not `arch`. */
  foreignArch: { path: string; arch: string }[]
  /** The newest GLIBC_x.y any loaded object needs, and the first object that needs it. */
  glibc?: { version: string; by: string }
  /** C library names the programs need from the node. */
  cLibrary: string[]
  /** Other libraries the programs need from the node's distribution. */
  fromOs: string[]
  /** Libraries of essential programs found nowhere: the archive cannot run. */
  unresolved: Unresolved[]
  /** Libraries of other programs found nowhere. */
  unresolvedOther: Unresolved[]
  /** Essential programs that are absent (by the path asked for). */
  absent: string[]
  links: { path: string; problem: string }[]
  /** ELF files that could not be read. */
  damaged: { path: string; reason: string }[]
  /** Programs checked, by real path. */
  programs: string[]
  /** Every path the lookups went through: symlinks, directories' links, the objects found. */
  used: Set<string>
}

const MAX_LINK_HOPS = 40

/** A listing to resolve paths in, with physical `..` and symlinks followed as the kernel does. */
export class FileTree {
  private readonly entries = new Map<string, TreeEntry>()
  private readonly dirs = new Set<string>([""])

  constructor(entries: Iterable<[string, TreeEntry]>) {
    for (const [path, entry] of entries) {
      const clean = path.replace(/\/+$/, "")
      this.entries.set(clean, entry)
      const parts = clean.split("/")
      for (let i = 1; i < parts.length; i++) this.dirs.add(parts.slice(0, i).join("/"))
    }
  }

  /** The entry at a resolved path (directories implied by their contents included). */
  entry(path: string): TreeEntry | undefined {
    return this.entries.get(path) ?? (this.dirs.has(path) ? { type: "directory" } : undefined)
  }

  paths(): IterableIterator<[string, TreeEntry]> {
    return this.entries.entries()
  }

  /**
   * The real path `path` names (components may include `..`), following every symlink;
   * a string saying why not otherwise. Symlinks passed are added to `used`.
   */
  resolve(path: string, used?: Set<string>): { real: string } | { problem: string } {
    const real: string[] = []
    const pending = path.split("/")
    let hops = 0
    while (pending.length > 0) {
      const part = pending.shift() as string
      if (part === "" || part === ".") continue
      if (part === "..") {
        if (real.length === 0) return { problem: "leaves the tree" }
        real.pop()
        continue
      }
      const candidate = [...real, part].join("/")
      const entry = this.entry(candidate)
      if (!entry) return { problem: `"${candidate}" does not exist` }
      if (entry.type === "symlink") {
        if (++hops > MAX_LINK_HOPS) return { problem: "too many levels of symlinks" }
        used?.add(candidate)
        const target = entry.linkTarget ?? ""
        if (target.startsWith("/")) return { problem: `"${candidate}" points outside (${target})` }
        pending.unshift(...target.split("/"))
        continue
      }
      if (pending.some((p) => p !== "" && p !== ".") && entry.type !== "directory") {
        return { problem: `"${candidate}" is not a directory` }
      }
      real.push(part)
    }
    return { real: real.join("/") }
  }
}

/** An object loaded for a program: where it was found (for $ORIGIN) and what loaded it. */
interface Loaded {
  /** The path it was found by, as the loader would have written it. */
  foundAs: string
  real: string
  info: ElfInfo
  loader?: Loaded
}

/** Checks the programs under `tree`; `essential` names the paths whose failure is fatal. */
export function checkRunnable(tree: FileTree, elfOf: ElfLookup, essential: string[]): RunCheck {
  const check: RunCheck = {
    foreignArch: [],
    cLibrary: [],
    fromOs: [],
    unresolved: [],
    unresolvedOther: [],
    absent: [],
    links: [],
    damaged: [],
    programs: [],
    used: new Set(),
  }
  const cache = new Map<string, ElfInfo | undefined>()
  const lookup = (path: string): ElfInfo | undefined => {
    if (cache.has(path)) return cache.get(path)
    let info: ElfInfo | undefined
    try {
      info = elfOf(path)
    } catch (error) {
      if (!(error instanceof ElfError)) throw error
      check.damaged.push({ path, reason: error.message })
    }
    cache.set(path, info)
    return info
  }

  const essentialReal = new Set<string>()
  for (const path of essential) {
    const found = tree.resolve(path, check.used)
    if ("real" in found && tree.entry(found.real)?.type === "file") {
      essentialReal.add(found.real)
      check.used.add(found.real)
    } else check.absent.push(path)
  }

  const files = [...tree.paths()].filter(([, e]) => e.type === "file").map(([p]) => p)
  for (const path of files) {
    const info = lookup(path)
    if (info?.interpreter !== undefined || (info && info.type === 2 && info.dynamic)) {
      check.programs.push(path)
    }
  }
  // the architecture of the programs; essential ones first, so a stray file cannot set it
  const ordered = [...check.programs].sort(
    (a, b) => Number(essentialReal.has(b)) - Number(essentialReal.has(a)),
  )
  const first = ordered[0] === undefined ? undefined : cache.get(ordered[0])
  if (first) check.arch = first.arch
  for (const path of files) {
    const info = cache.get(path)
    if (info && first && !sameArch(info, first)) check.foreignArch.push({ path, arch: info.arch })
  }

  const cLibrary = new Set<string>()
  const fromOs = new Set<string>()
  for (const program of ordered) {
    const fatal = essentialReal.has(program)
    for (const object of loadProgram(tree, lookup, program, check.used, (by, library) => {
      if (C_LIBRARY.has(library)) cLibrary.add(library)
      else if (OS_LIBRARY.test(library)) fromOs.add(library)
      else (fatal ? check.unresolved : check.unresolvedOther).push({ program, by, library })
    })) {
      const glibc = object.info.glibc
      if (glibc && (!check.glibc || newer(glibc, check.glibc.version))) {
        check.glibc = { version: glibc, by: object.real }
      }
    }
  }
  check.cLibrary = [...cLibrary].sort()
  check.fromOs = [...fromOs].sort()

  for (const [path, entry] of tree.paths()) {
    if (entry.type !== "symlink") continue
    const found = tree.resolve(path)
    if ("problem" in found) check.links.push({ path, problem: found.problem })
  }
  return check
}

/** The paths (links and libraries) ld.so goes through to load `programs` from `tree`. */
export function traceLibraries(tree: FileTree, elfOf: ElfLookup, programs: string[]): Set<string> {
  const used = new Set<string>()
  for (const program of programs) loadProgram(tree, elfOf, program, used, () => {})
  return used
}

/**
 * Loads `program` as ld.so would, breadth first; calls `missing` for each library found
 * nowhere in the tree, and returns the objects loaded (the program first).
 */
function loadProgram(
  tree: FileTree,
  elfOf: ElfLookup,
  program: string,
  used: Set<string>,
  missing: (by: string, library: string) => void,
): Loaded[] {
  const info = elfOf(program)
  if (!info) return []
  used.add(program)
  const main: Loaded = { foundAs: program, real: program, info }
  const loaded = [main]
  const byName = new Map<string, Loaded>()
  for (let i = 0; i < loaded.length; i++) {
    const object = loaded[i] as Loaded
    for (const name of object.info.needed) {
      if (byName.has(name)) continue
      const found = findLibrary(tree, elfOf, name, object, main, used)
      if (!found) {
        missing(object.real, name)
        continue
      }
      const already = loaded.find((l) => l.real === found.real)
      const library = already ?? found
      byName.set(name, library)
      if (library.info.soname) byName.set(library.info.soname, library)
      if (!already) loaded.push(library)
    }
  }
  return loaded
}

/** The search of glibc's _dl_map_object for `name` needed by `loader`. */
function findLibrary(
  tree: FileTree,
  elfOf: ElfLookup,
  name: string,
  loader: Loaded,
  main: Loaded,
  used: Set<string>,
): Loaded | undefined {
  if (name.includes("/")) return undefined
  const tries: [dirs: string[], origin: Loaded][] = []
  if (loader.info.runpath === undefined) {
    let sawMain = false
    for (let l: Loaded | undefined = loader; l; l = l.loader) {
      if (l.info.rpath && l.info.runpath === undefined) tries.push([l.info.rpath, l])
      sawMain ||= l === main
    }
    if (!sawMain && main.info.rpath && main.info.runpath === undefined) {
      tries.push([main.info.rpath, main])
    }
  } else tries.push([loader.info.runpath, loader])
  for (const [dirs, origin] of tries) {
    for (const dir of dirs) {
      const expanded = dir.replace(/\$(ORIGIN\b|\{ORIGIN\})/g, dirname(origin.foundAs))
      // absolute directories are the node's, other tokens ($LIB, $PLATFORM) are not ours
      if (expanded === "" || expanded.startsWith("/") || expanded.includes("$")) continue
      const foundAs = `${expanded}/${name}`
      const trail = new Set<string>()
      const found = tree.resolve(foundAs, trail)
      if (!("real" in found) || tree.entry(found.real)?.type !== "file") continue
      const info = elfOf(found.real)
      // ld.so skips a library of another class or machine and searches on
      if (!info || !sameArch(info, main.info)) continue
      for (const path of trail) used.add(path)
      used.add(found.real)
      return { foundAs, real: found.real, info, loader }
    }
  }
  return undefined
}

function sameArch(a: ElfInfo, b: ElfInfo): boolean {
  return a.machine === b.machine && a.bits === b.bits && a.littleEndian === b.littleEndian
}

function newer(a: string, b: string): boolean {
  return compareVersions(a.split(".").map(Number), b.split(".").map(Number)) > 0
}

function dirname(path: string): string {
  const slash = path.lastIndexOf("/")
  return slash === -1 ? "." : path.slice(0, slash)
}

/** At most this many of one kind of problem are named; the rest are counted. */
const NAMED = 5

/**
 * What keeps the archive from running, one sentence each (empty when it can run), and what
 * only some helpers lack (`warnings`).
 */
export function runProblems(check: RunCheck): { problems: string[]; warnings: string[] } {
  const problems: string[] = []
  const missing = (u: Unresolved) =>
    `${u.program} needs ${u.library}${u.by === u.program ? "" : ` (for ${u.by})`}, which is neither in the archive nor a base library of the node`
  problems.push(...named(check.unresolved.map(missing)))
  problems.push(...named(check.links.map((l) => `the link ${l.path} dangles: ${l.problem}`)))
  problems.push(
    ...named(
      check.foreignArch.map(
        (f) => `${f.path} is built for ${f.arch}, the programs for ${check.arch}`,
      ),
    ),
  )
  problems.push(...named(check.damaged.map((d) => `${d.path} is a damaged ELF file: ${d.reason}`)))
  return { problems, warnings: named(check.unresolvedOther.map(missing)) }
}

function named(lines: string[]): string[] {
  if (lines.length <= NAMED) return lines
  return [...lines.slice(0, NAMED), `and ${lines.length - NAMED} more like these`]
}
