/**
 * `glidein tarball inspect`: what a glidein tarball holds, whether it carries a pool credential
 * (described by size, mode and token expiry, never by content), whether its SHA256SUMS
 * manifest matches the files, and whether HTCondor can run from it (checkRunnable over the
 * members, with the ELF facts read from each ELF member's first MAX_ELF_PREFIX bytes). One
 * streaming pass; nothing is written. What is kept per member (its name, hash and tree entry,
 * for the manifest and the link check) is bounded by the reader's limits (archive-limits.ts).
 */
import { createHash, type Hash } from "node:crypto"
import {
  checkRunnable,
  FileTree,
  type RunCheck,
  runProblems,
  type TreeEntry,
} from "./check-runnable.ts"
import { collectorProblem } from "./collector.ts"
import { CondorVersionScanner, VERSION_LIBRARY } from "./condor-version.ts"
import { summarizeTokens } from "./credentials.ts"
import { bytesSource, ElfError, type ElfInfo, isElf, parseElf } from "./elf.ts"
import {
  COLLECTOR_PATH,
  CONFIG_PATH,
  ESSENTIAL_PROGRAMS,
  isCredentialPath,
  isSiteSetting,
  MANIFEST_PATH,
  PASSWORD_PATH,
  RELEASE_DIR,
  REQUIRED_FILES,
  TOKEN_DIR,
} from "./layout.ts"
import {
  describeReadFailure,
  type OpenArchive,
  openArchive,
  type ReadOptions,
} from "./read-archive.ts"
import { memberPath, normalizeName, type TarEntry } from "./tar-header.ts"

/** A credential member, described without its content. */
export interface CredentialFacts {
  name: string
  bytes: number
  /** Permission bits, e.g. 0o600. */
  mode: number
}

/** What inspectTarball found. */
export interface InspectReport {
  compressedBytes: number
  /** Bytes of file content once unpacked. */
  contentBytes: number
  members: number
  counts: { files: number; directories: number; symlinks: number; hardlinks: number; other: number }
  /** First path components, in archive order. */
  topLevel: string[]
  /** REQUIRED_FILES that are absent. */
  missing: string[]
  password?: CredentialFacts & {
    /** False when HTCondor would read an empty password (first byte unscrambles to NUL). */
    usable: boolean
  }
  tokens: (CredentialFacts & { count: number; expires?: number; valid: boolean })[]
  manifest: {
    status: "verified" | "failed" | "absent"
    /** Files the manifest lists. */
    listed: number
    mismatched: string[]
    /** Listed but not in the archive. */
    missing: string[]
    /** Files in the archive the manifest does not list. */
    unlisted: string[]
  }
  /** Why this is not a glidein tarball (pyglidein's, Pegasus's, ...), when it is not one. */
  foreign?: string
  /** The collector recorded in COLLECTOR. */
  collector?: string
  /** `$CondorVersion` of condor_master. */
  condorVersion?: string
  /** The check of the HTCondor under glideinExec/ (absent for a foreign tarball). */
  run?: Pick<RunCheck, "arch" | "glibc" | "cLibrary" | "fromOs">
  /** Why HTCondor cannot run from the archive, one sentence each. */
  problems: string[]
  /** Helpers (not the essential ones) whose libraries are missing. */
  warnings: string[]
}

/** REQUIRED_FILES, looked up for every member. */
const REQUIRED = new Set<string>(REQUIRED_FILES)
/** The key HTCondor XORs pool password files with (condor_store_cred). */
const PASSWORD_SCRAMBLE_KEY = [0xde, 0xad, 0xbe, 0xef]
/** Credentials are read only for the checks above; larger members are not buffered. */
const MAX_CREDENTIAL_BYTES = 1 << 20
const MAX_MANIFEST_BYTES = 16 << 20
/** The part of an ELF member kept for its headers: what the loader reads lies in front. */
const MAX_ELF_PREFIX = 32 << 20
/** glidein_condor_config is read (to tell a foreign tarball) up to this size. */
export const MAX_CONFIG_BYTES = 1 << 20

/** Reads `file` once and reports on it. */
export async function inspectTarball(
  file: string,
  options: ReadOptions = {},
): Promise<InspectReport> {
  const report: InspectReport = {
    compressedBytes: 0,
    contentBytes: 0,
    members: 0,
    counts: { files: 0, directories: 0, symlinks: 0, hardlinks: 0, other: 0 },
    topLevel: [],
    missing: [],
    tokens: [],
    manifest: { status: "absent", listed: 0, mismatched: [], missing: [], unlisted: [] },
    problems: [],
    warnings: [],
  }
  const hashes = new Map<string, string>()
  /** Only what the report looks up: REQUIRED_FILES found, and RELEASE_DIR when it is there. */
  const present = new Set<string>()
  const topLevel = new Set<string>()
  const tree = new Map<string, TreeEntry>()
  const elves = new Map<string, ElfInfo | ElfError>()
  const hardLinks = new Map<string, string>()
  let manifestText: string | undefined
  let configText: string | undefined
  let current:
    | {
        name: string
        entry: TarEntry
        hash?: Hash
        keep?: Uint8Array[]
        elf?: { chunks: Uint8Array[]; bytes: number; confirmed?: boolean }
        version?: CondorVersionScanner
      }
    | undefined

  const finish = () => {
    if (!current) return
    const { name, entry, hash, keep, elf, version } = current
    if (hash) hashes.set(name, hash.digest("hex"))
    if (keep) {
      const content = Buffer.concat(keep)
      if (name === MANIFEST_PATH) manifestText = content.toString("utf8")
      else if (name === CONFIG_PATH) configText = content.toString("utf8")
      else if (name === COLLECTOR_PATH) {
        const value = content.toString("utf8").trim()
        const problem = collectorProblem(value)
        if (problem) report.problems.push(`${COLLECTOR_PATH}: ${problem}`)
        else report.collector = value
      } else describeCredential(report, name, entry, content)
    }
    if (elf && elf.bytes >= 4) {
      try {
        const info = parseElf(bytesSource(Buffer.concat(elf.chunks), entry.size))
        if (info) elves.set(name, info)
      } catch (error) {
        if (!(error instanceof ElfError)) throw error
        elves.set(name, error)
      }
    }
    if (version?.version !== undefined) report.condorVersion ??= version.version
    current = undefined
  }

  let archive: OpenArchive | undefined
  try {
    archive = await openArchive(file, options)
    report.compressedBytes = archive.size
    for await (const event of archive.events) {
      if (event.kind === "data") {
        current?.hash?.update(event.bytes)
        current?.keep?.push(Buffer.from(event.bytes))
        current?.version?.push(event.bytes)
        const open = current
        const elf = open?.elf
        if (open && elf && elf.bytes < MAX_ELF_PREFIX) {
          elf.chunks.push(Buffer.from(event.bytes.subarray(0, MAX_ELF_PREFIX - elf.bytes)))
          elf.bytes = Math.min(MAX_ELF_PREFIX, elf.bytes + event.bytes.length)
          // only ELF files are kept: decided as soon as the magic number is in
          if (!elf.confirmed && elf.bytes >= 4) {
            if (isElf(Buffer.concat(elf.chunks))) elf.confirmed = true
            else delete open.elf
          }
        }
        continue
      }
      if (event.kind !== "entry") continue
      finish()
      const { entry } = event
      if (entry.type === "global-header") continue
      const name = memberPath(entry.name)
      report.members++
      if (REQUIRED.has(name) || name === RELEASE_DIR) present.add(name)
      const top = name.split("/", 1)[0] ?? ""
      if (top) topLevel.add(top)
      tree.set(name, treeEntry(entry))
      // a directory implied by its members counts as present
      if (name.startsWith(`${RELEASE_DIR}/`)) present.add(RELEASE_DIR)
      if (entry.type === "link") hardLinks.set(name, memberPath(entry.linkname))
      switch (entry.type) {
        case "file":
        case "sparse":
          report.counts.files++
          report.contentBytes += entry.realSize
          break
        case "directory":
          report.counts.directories++
          break
        case "symlink":
          report.counts.symlinks++
          break
        case "link":
          report.counts.hardlinks++
          if (!isSiteSetting(name)) {
            hashes.set(name, hashes.get(normalizeName(entry.linkname)) ?? "")
          }
          break
        default:
          report.counts.other++
      }
      if (entry.type !== "file" && entry.type !== "sparse") {
        if (isCredentialPath(name) && entry.type !== "directory") {
          describeCredential(report, name, entry, new Uint8Array(0))
        }
        continue
      }
      current = { name, entry }
      const secret = isCredentialPath(name)
      if (!isSiteSetting(name)) current.hash = createHash("sha256")
      const limit = secret ? MAX_CREDENTIAL_BYTES : MAX_MANIFEST_BYTES
      const small = name === CONFIG_PATH ? MAX_CONFIG_BYTES : name === COLLECTOR_PATH ? 1024 : -1
      if ((secret || name === MANIFEST_PATH) && entry.size <= limit) current.keep = []
      else if (secret) describeCredential(report, name, entry, new Uint8Array(0))
      else if (entry.size <= small) current.keep = []
      if (entry.type === "file" && name.startsWith(`${RELEASE_DIR}/`)) {
        current.elf = { chunks: [], bytes: 0 }
        // Builds since 9.0 keep the version string in libcondor_utils, not in condor_master.
        if (name.endsWith("/condor_master") || VERSION_LIBRARY.test(name))
          current.version = new CondorVersionScanner()
      }
    }
    finish()
  } catch (error) {
    throw describeReadFailure(error, file)
  } finally {
    archive?.close()
  }

  for (const [name, target] of hardLinks) {
    const info = elves.get(target)
    if (info !== undefined) elves.set(name, info)
  }
  report.topLevel = [...topLevel]
  report.missing = REQUIRED_FILES.filter((f) => !present.has(f))
  if (manifestText !== undefined) verifyManifest(report, manifestText, hashes)
  const foreign = foreignReason(present, configText)
  if (foreign !== undefined) report.foreign = foreign
  if (report.foreign === undefined) checkArchive(report, tree, elves)
  return report
}

/**
 * Why an archive is not one `tarball build` made (a pyglidein or Pegasus tarball), if so, from
 * its glidein_condor_config and `present`, which holds RELEASE_DIR when the archive has it.
 */
export function foreignReason(
  present: Set<string>,
  config: string | undefined,
): string | undefined {
  const release = present.has(RELEASE_DIR)
  if (config === undefined) {
    return release
      ? `it has ${RELEASE_DIR}/ but no ${CONFIG_PATH} (a pyglidein tarball?)`
      : `it has neither ${RELEASE_DIR}/ nor ${CONFIG_PATH} (a Pegasus or other glidein tarball?)`
  }
  if (!/^GLIDEIN_RUNTIME_VERSION *= *1 *$/m.test(config)) {
    return `its ${CONFIG_PATH} was not written by glidein tarball build (pyglidein's?)`
  }
  if (!present.has(RELEASE_DIR)) return `it has no ${RELEASE_DIR}/`
  return undefined
}

/** Runs checkRunnable over the members and records what it found. */
function checkArchive(
  report: InspectReport,
  members: Map<string, TreeEntry>,
  elves: Map<string, ElfInfo | ElfError>,
): void {
  const check = checkRunnable(
    new FileTree(members),
    (name) => {
      const info = elves.get(name)
      if (info instanceof ElfError) throw info
      return info
    },
    ESSENTIAL_PROGRAMS.map((p) => `${RELEASE_DIR}/${p}`),
  )
  const { problems, warnings } = runProblems(check)
  report.problems.push(...problems)
  report.warnings.push(...warnings)
  report.run = {
    cLibrary: check.cLibrary,
    fromOs: check.fromOs,
    ...(check.arch === undefined ? {} : { arch: check.arch }),
    ...(check.glibc === undefined ? {} : { glibc: check.glibc }),
  }
}

/** The tree entry of a member: hard links are files of their own. */
function treeEntry(entry: TarEntry): TreeEntry {
  switch (entry.type) {
    case "file":
    case "sparse":
    case "link":
      return { type: "file" }
    case "directory":
      return { type: "directory" }
    case "symlink":
      return { type: "symlink", linkTarget: entry.linkname }
    default:
      return { type: "other" }
  }
}

/** Records the facts about a credential member; `content` is examined, never kept. */
function describeCredential(
  report: InspectReport,
  name: string,
  entry: TarEntry,
  content: Uint8Array,
): void {
  const facts = { name, bytes: entry.realSize, mode: entry.mode }
  if (name === PASSWORD_PATH) {
    const first = content[0]
    report.password = {
      ...facts,
      usable: first !== undefined && (first ^ (PASSWORD_SCRAMBLE_KEY[0] ?? 0)) !== 0,
    }
  } else if (name.startsWith(`${TOKEN_DIR}/`)) {
    const summary = content.length > 0 ? summarizeTokens(content) : undefined
    report.tokens.push({
      ...facts,
      count: summary?.count ?? 0,
      valid: summary !== undefined,
      ...(summary?.expires !== undefined ? { expires: summary.expires } : {}),
    })
  }
}

/** Compares the manifest lines with the hashes of the files read. */
function verifyManifest(report: InspectReport, manifest: string, hashes: Map<string, string>) {
  const result = report.manifest
  const listed = new Set<string>()
  for (const line of manifest.split("\n")) {
    const match = /^([0-9a-f]{64}) [ *](.+)$/.exec(line)
    if (!match) continue
    const [, hex, rawName] = match
    const name = normalizeName(rawName ?? "")
    listed.add(name)
    const actual = hashes.get(name)
    if (actual === undefined) result.missing.push(name)
    else if (actual !== hex) result.mismatched.push(name)
  }
  result.listed = listed.size
  for (const name of hashes.keys()) {
    if (name !== MANIFEST_PATH && !listed.has(name)) result.unlisted.push(name)
  }
  const clean =
    result.mismatched.length === 0 && result.missing.length === 0 && result.unlisted.length === 0
  result.status = clean ? "verified" : "failed"
}
