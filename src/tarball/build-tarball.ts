/**
 * `glidein tarball build`: makes glidein.tar.gz from an HTCondor install. The archive is
 * deterministic: members sorted byte-wise, owner 0:0 without names, one fixed mtime, normalized
 * modes, and gzip by ParallelGzip (independent of the thread count), so the same install,
 * credentials and glidein version (named in the manifest, and the source of the runtime
 * files) give the same bytes. A SHA256SUMS manifest lists every file except the credentials,
 * which `inject-password` may change later.
 */
import { createHash } from "node:crypto"
import { closeSync, createReadStream, fstatSync, openSync, readFileSync, readSync } from "node:fs"
import path from "node:path"
import { pack } from "tar-stream"
import { UsageError } from "../errors.ts"
import { GLIDEIN_CONDOR_CONFIG, USER_JOB_WRAPPER_SH } from "../runtime/index.ts"
import type { ArchiveLimits } from "./archive-limits.ts"
import { openAtomicOutput } from "./atomic-output.ts"
import { checkRunnable, FileTree, type RunCheck, runProblems } from "./check-runnable.ts"
import { listInstall, openCondorInstall } from "./condor-install.ts"
import { condorVersion, VERSION_LIBRARY } from "./condor-version.ts"
import type { Credentials } from "./credentials.ts"
import { type ElfInfo, parseElf } from "./elf.ts"
import { packHeader } from "./encode-entry.ts"
import { InterruptedError } from "./interrupted-error.ts"
import {
  COLLECTOR_PATH,
  CONFIG_PATH,
  ESSENTIAL_PROGRAMS,
  FIXED_MTIME,
  isCredentialPath,
  isSiteSetting,
  MANIFEST_PATH,
  PASSWORD_PATH,
  RELEASE_DIR,
  TOKEN_DIR,
  TOKEN_PATH,
  WRAPPER_PATH,
} from "./layout.ts"
import { ParallelGzip } from "./parallel-gzip.ts"
import { compareNames, type PlannedMember, selectInstall } from "./select-install.ts"

/** Inputs of buildTarball. */
export interface BuildOptions {
  /** Release tarball or unpacked install. */
  condor: string
  output: string
  credentials: Credentials
  /** The pool's collector (HOST[:PORT], checked by the caller), recorded as COLLECTOR. */
  collector?: string
  /** Named in the manifest's first line. */
  version: string
  signal?: AbortSignal
  /** Bounds on a release tarball given as `condor` (archive-limits.ts has the defaults). */
  limits?: Partial<ArchiveLimits>
  /** Progress of the current phase in bytes. */
  onProgress?: (phase: "unpacking" | "checksums" | "writing", done: number, total: number) => void
}

/** What buildTarball wrote. */
export interface BuildReport {
  /** Members in the archive. */
  members: number
  /** Install files left out (python bindings, other daemons, tools). */
  omitted: number
  /** Uncompressed bytes of file content. */
  contentBytes: number
  outputBytes: number
  /** sha256 of the archive file. */
  sha256: string
  /** Credential members written. */
  credentials: string[]
  /** What the check of the archive found: architecture, glibc, libraries from the node. */
  check?: RunCheck
  /** `$CondorVersion` of condor_master. */
  condorVersion?: string
  /** Install symlinks left out because they dangle in the install itself. */
  dangling: string[]
  /** Libraries that only helpers other than the essential ones lack. */
  warnings: string[]
}

/** A member whose content is in memory (runtime files, credentials, the manifest). */
interface MemoryMember extends PlannedMember {
  content?: Uint8Array
}

const text = new TextEncoder()

/** Builds the archive at `options.output`. */
export async function buildTarball(options: BuildOptions): Promise<BuildReport> {
  const { condor, output, credentials, signal } = options
  const progress = options.onProgress
  const install = await openCondorInstall(condor, path.dirname(path.resolve(output)), {
    signal,
    limits: options.limits,
    onProgress: (done, total) => progress?.("unpacking", done, total),
  })
  try {
    const elfOf = diskElf(install.root)
    const selection = selectInstall(await listInstall(install.root), elfOf)
    if (selection.missing.length > 0) {
      throw new UsageError(
        `--condor "${condor}" lacks ${selection.missing.join(", ")}, which a glidein needs`,
      )
    }
    if (selection.escaping.length > 0) {
      throw new UsageError(
        `--condor "${condor}": ${selection.escaping.join(", ")} link${selection.escaping.length > 1 ? "" : "s"} outside the install, so ${selection.escaping.length > 1 ? "they" : "it"} would dangle on the batch node`,
      )
    }
    const members: MemoryMember[] = [
      ...selection.members,
      ...runtimeMembers(credentials, options.collector),
    ]
    members.sort((a, b) => compareNames(a.name, b.name))
    const { check, version } = checkMembers(members, elfOf, install.root)
    const { problems, warnings } = runProblems(check)
    if (problems.length > 0) {
      throw new UsageError(
        `--condor "${condor}" would not run on a batch node: ${problems.join("; ")}`,
      )
    }
    const manifest = await manifestFor(members, install.root, options)
    // the manifest goes into its sorted place: the members are in order already
    const after = members.findIndex((m) => compareNames(m.name, manifest.name) > 0)
    members.splice(after === -1 ? members.length : after, 0, manifest)
    const report = await writeArchive(members, install.root, options)
    report.omitted = selection.omitted
    report.dangling = selection.dangling
    report.check = check
    report.warnings = warnings
    if (version !== undefined) report.condorVersion = version
    return report
  } catch (error) {
    if (error instanceof Error && error.name === "AbortError") throw new InterruptedError()
    throw error
  } finally {
    await install.cleanup()
  }
}

/** The planned members as a tree, checked: can the glidein run from them? */
function checkMembers(
  members: PlannedMember[],
  elfOf: (path: string) => ElfInfo | undefined,
  root: string,
): { check: RunCheck; version: string | undefined } {
  const byName = new Map(members.map((m) => [m.name.replace(/\/$/, ""), m]))
  const sourceOf = (name: string): string | undefined => {
    const member = byName.get(name)
    if (member?.type === "link") return byName.get(member.linkname ?? "")?.source
    return member?.source
  }
  const tree = new FileTree(
    [...byName].map(([name, m]) => [
      name,
      m.type === "link" ? { type: "file" } : { type: m.type, linkTarget: m.linkname ?? "" },
    ]),
  )
  const check = checkRunnable(
    tree,
    (name) => {
      const source = sourceOf(name)
      return source === undefined ? undefined : elfOf(source)
    },
    ESSENTIAL_PROGRAMS.map((p) => `${RELEASE_DIR}/${p}`),
  )
  const master = tree.resolve(`${RELEASE_DIR}/sbin/condor_master`)
  const source = "real" in master ? sourceOf(master.real) : undefined
  const versionOf = (file: string | undefined) =>
    file === undefined ? undefined : condorVersion(readFileSync(path.join(root, file)))
  // Builds since 9.0 keep the version string in libcondor_utils, not in condor_master.
  const library = [...byName.values()].find(
    (m) => m.type === "file" && VERSION_LIBRARY.test(m.name),
  )
  const version = versionOf(source) ?? versionOf(library?.source)
  return { check, version }
}

/** ELF facts of install files, read with positional reads (only the parts the loader reads). */
function diskElf(root: string): (file: string) => ElfInfo | undefined {
  const cache = new Map<string, ElfInfo | undefined>()
  return (file) => {
    if (cache.has(file)) return cache.get(file)
    const fd = openSync(path.join(root, file), "r")
    try {
      const size = fstatSync(fd).size
      const info = parseElf({
        size,
        read(offset, length) {
          const buffer = new Uint8Array(length)
          const n = readSync(fd, buffer, 0, length, offset)
          return n === 0 && length > 0 ? undefined : buffer.subarray(0, n)
        },
      })
      cache.set(file, info)
      return info
    } finally {
      closeSync(fd)
    }
  }
}

/** The runtime files, the collector and the credentials, as members. */
function runtimeMembers(credentials: Credentials, collector?: string): MemoryMember[] {
  const file = (name: string, mode: number, content: Uint8Array): MemoryMember => ({
    name,
    type: "file",
    mode,
    size: content.length,
    content,
  })
  const members = [
    file(CONFIG_PATH, 0o644, text.encode(GLIDEIN_CONDOR_CONFIG)),
    file(WRAPPER_PATH, 0o755, text.encode(USER_JOB_WRAPPER_SH)),
  ]
  if (collector !== undefined)
    members.push(file(COLLECTOR_PATH, 0o644, text.encode(`${collector}\n`)))
  if (credentials.password) members.push(file(PASSWORD_PATH, 0o600, credentials.password))
  if (credentials.token) {
    members.push({ name: `${TOKEN_DIR}/`, type: "directory", mode: 0o700, size: 0 })
    members.push(file(TOKEN_PATH, 0o600, credentials.token))
  }
  return members
}

/** SHA256SUMS over every file and hard link except the credentials and the collector. */
async function manifestFor(
  members: MemoryMember[],
  root: string,
  options: BuildOptions,
): Promise<MemoryMember> {
  const listed = members.filter(
    (m) => (m.type === "file" || m.type === "link") && !isSiteSetting(m.name),
  )
  const total = listed.reduce((sum, m) => sum + m.size, 0)
  let done = 0
  const hashes = new Map<string, string>()
  const lines = [
    `# glidein ${options.version} tarball manifest; after unpacking: sha256sum -c ${MANIFEST_PATH}`,
  ]
  for (const member of listed) {
    options.signal?.throwIfAborted()
    let hex: string
    if (member.type === "link") hex = hashes.get(member.linkname ?? "") ?? ""
    else if (member.content) hex = createHash("sha256").update(member.content).digest("hex")
    else {
      const hash = createHash("sha256")
      for await (const chunk of createReadStream(path.join(root, member.source ?? ""))) {
        hash.update(chunk as Buffer)
        done += (chunk as Buffer).length
        options.onProgress?.("checksums", done, total)
      }
      hex = hash.digest("hex")
    }
    hashes.set(member.name, hex)
    lines.push(`${hex}  ${member.name}`)
  }
  const content = text.encode(`${lines.join("\n")}\n`)
  return { name: MANIFEST_PATH, type: "file", mode: 0o644, size: content.length, content }
}

/** Packs `members` in order through ParallelGzip into the atomic output. */
async function writeArchive(
  members: MemoryMember[],
  root: string,
  options: BuildOptions,
): Promise<BuildReport> {
  const credentialMembers = members.filter((m) => isCredentialPath(m.name) && m.type === "file")
  const out = await openAtomicOutput(options.output, credentialMembers.length > 0 ? 0o600 : 0o644)
  const archiveHash = createHash("sha256")
  const gzip = new ParallelGzip((bytes) => {
    archiveHash.update(bytes)
    return out.write(bytes)
  })
  const packer = pack()
  const total = members.reduce((sum, m) => sum + (m.type === "file" ? m.size : 0), 0)
  let done = 0
  const consumer = (async () => {
    for await (const chunk of packer as AsyncIterable<Uint8Array>) await gzip.write(chunk)
  })()
  // keep a rejection from going unhandled while the producer below is still running
  consumer.catch(() => {})
  try {
    for (const member of members) {
      options.signal?.throwIfAborted()
      const size = member.type === "file" ? member.size : 0
      const header = packHeader(
        {
          name: member.name,
          type: member.type,
          mode: member.mode,
          mtime: FIXED_MTIME,
          ...(member.linkname !== undefined ? { linkname: member.linkname } : {}),
        },
        size,
      )
      if (member.type !== "file") {
        await entry(header)
        continue
      }
      const sink = packer.entry(header)
      const finished = new Promise<void>((resolve, reject) => {
        sink.on("finish", () => resolve())
        sink.on("error", reject)
      })
      const chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array> = member.content
        ? [member.content]
        : createReadStream(path.join(root, member.source ?? ""))
      for await (const chunk of chunks) {
        if (!sink.write(chunk))
          await new Promise<void>((resolve) => sink.once("drain", () => resolve()))
        done += chunk.length
        options.onProgress?.("writing", done, total)
      }
      sink.end(new Uint8Array(0))
      await finished
    }
    packer.finalize()
    await consumer
    await gzip.end()
    const outputBytes = out.size
    await out.commit()
    return {
      members: members.length,
      omitted: 0,
      contentBytes: total,
      outputBytes,
      sha256: archiveHash.digest("hex"),
      credentials: credentialMembers.map((m) => m.name),
      dangling: [],
      warnings: [],
    }
  } catch (error) {
    gzip.destroy()
    packer.destroy()
    await out.discard()
    throw error
  }

  function entry(header: ReturnType<typeof packHeader>): Promise<void> {
    return new Promise((resolve, reject) => {
      packer.entry(header, (error) => (error ? reject(error) : resolve()))
    })
  }
}
