/**
 * `glidein tarball inspect`: what a glidein tarball holds, whether it carries a pool credential
 * (described by size, mode and token expiry, never by content), and whether its SHA256SUMS
 * manifest matches the files. One streaming pass; nothing is written.
 */
import { createHash, type Hash } from "node:crypto"
import { summarizeTokens } from "./credentials.ts"
import {
  isCredentialPath,
  MANIFEST_PATH,
  PASSWORD_PATH,
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
}

/** The key HTCondor XORs pool password files with (condor_store_cred). */
const PASSWORD_SCRAMBLE_KEY = [0xde, 0xad, 0xbe, 0xef]
/** Credentials are read only for the checks above; larger members are not buffered. */
const MAX_CREDENTIAL_BYTES = 1 << 20
const MAX_MANIFEST_BYTES = 16 << 20

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
  }
  const hashes = new Map<string, string>()
  const present = new Set<string>()
  let manifestText: string | undefined
  let current: { name: string; entry: TarEntry; hash?: Hash; keep?: Uint8Array[] } | undefined

  const finish = () => {
    if (!current) return
    const { name, entry, hash, keep } = current
    if (hash) hashes.set(name, hash.digest("hex"))
    if (keep) {
      const content = Buffer.concat(keep)
      if (name === MANIFEST_PATH) manifestText = content.toString("utf8")
      else describeCredential(report, name, entry, content)
    }
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
        continue
      }
      if (event.kind !== "entry") continue
      finish()
      const { entry } = event
      if (entry.type === "global-header") continue
      const name = memberPath(entry.name)
      report.members++
      present.add(name)
      const top = name.split("/")[0] ?? ""
      if (top && !report.topLevel.includes(top)) report.topLevel.push(top)
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
          if (!isCredentialPath(name)) {
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
      if (!secret) current.hash = createHash("sha256")
      const limit = secret ? MAX_CREDENTIAL_BYTES : MAX_MANIFEST_BYTES
      if ((secret || name === MANIFEST_PATH) && entry.size <= limit) current.keep = []
      else if (secret) describeCredential(report, name, entry, new Uint8Array(0))
    }
    finish()
  } catch (error) {
    throw describeReadFailure(error, file)
  } finally {
    archive?.close()
  }

  report.missing = REQUIRED_FILES.filter((f) => !present.has(f))
  if (manifestText !== undefined) verifyManifest(report, manifestText, hashes)
  return report
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
