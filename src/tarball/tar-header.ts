/**
 * Decoding of tar header blocks (ustar, GNU and pax), kept apart from the streaming reader so
 * it can be tested on single blocks. Only what the tarball commands need is decoded; the raw
 * blocks are always kept by the reader, so nothing here has to round-trip.
 */

/** Size of a tar block. */
export const BLOCK = 512

/** What an archive member is. `sparse` is GNU's old sparse type `S`. */
export type TarEntryType =
  | "file"
  | "link"
  | "symlink"
  | "character-device"
  | "block-device"
  | "directory"
  | "fifo"
  | "sparse"
  | "global-header"
  | "other"

/** One archive member as listed by `tar tv`. */
export interface TarEntry {
  /** Path with pax `path` or GNU long name applied. */
  name: string
  /** Link target for symlinks and hard links, "" otherwise. */
  linkname: string
  type: TarEntryType
  /** The typeflag character as found (e.g. "0", "S", "x"). */
  typeflag: string
  /** Permission bits including setuid/setgid/sticky. */
  mode: number
  uid: number
  gid: number
  uname: string
  gname: string
  /** Seconds since the epoch. */
  mtime: number
  /** Bytes of payload stored after the header blocks. */
  size: number
  /** Size of the file once extracted (differs from `size` for sparse members). */
  realSize: number
}

/** A header block that cannot be decoded; `offset` is its position in the tar stream. */
export class TarFormatError extends Error {
  readonly offset: number
  constructor(message: string, offset: number) {
    super(message)
    this.offset = offset
  }
}

const TYPES: Record<string, TarEntryType> = {
  "0": "file",
  "\0": "file",
  "7": "file",
  "1": "link",
  "2": "symlink",
  "3": "character-device",
  "4": "block-device",
  "5": "directory",
  "6": "fifo",
  S: "sparse",
  g: "global-header",
}

/** Types whose size field does not announce payload (POSIX: links, devices, fifos). */
const NO_PAYLOAD = new Set(["1", "2", "3", "4", "6"])

const decoder = new TextDecoder("utf-8")

/** True when every byte of the 512-byte block is zero (end-of-archive marker). */
export function isZeroBlock(block: Uint8Array): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false
  return true
}

/** A NUL-terminated string field. */
export function readString(block: Uint8Array, offset: number, length: number): string {
  let end = offset
  const limit = offset + length
  while (end < limit && block[end] !== 0) end++
  return decoder.decode(block.subarray(offset, end))
}

/** A numeric field: octal text (space or NUL terminated) or GNU base-256 (high bit set). */
export function readNumber(block: Uint8Array, offset: number, length: number): number {
  const first = block[offset] ?? 0
  if (first & 0x80) {
    // base-256: the remaining bits of the first byte and the following bytes, big-endian
    let value = first === 0xff ? -1 : first & 0x7f
    for (let i = offset + 1; i < offset + length; i++) value = value * 256 + (block[i] ?? 0)
    return value
  }
  let value = 0
  let i = offset
  const end = offset + length
  while (i < end && (block[i] === 0x20 || block[i] === 0)) i++
  for (; i < end; i++) {
    const c = block[i] ?? 0
    if (c < 0x30 || c > 0x37) break
    value = value * 8 + (c - 0x30)
  }
  return value
}

/** Verifies the header checksum; old tars summed signed bytes, so both sums are accepted. */
export function checksumMatches(block: Uint8Array): boolean {
  const stored = readNumber(block, 148, 8)
  let unsigned = 0
  let signed = 0
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0)
    unsigned += b
    signed += b > 127 ? b - 256 : b
  }
  return stored === unsigned || stored === signed
}

/** Parses pax extended-header records (`<len> <key>=<value>\n`). Malformed input throws. */
export function parsePaxRecords(data: Uint8Array, offset: number): Map<string, string> {
  const records = new Map<string, string>()
  let i = 0
  while (i < data.length) {
    if (data[i] === 0) break // some writers pad the record area with NULs
    let j = i
    let length = 0
    while (j < data.length && data[j] !== 0x20) {
      const c = data[j] ?? 0
      if (c < 0x30 || c > 0x39) throw new TarFormatError("malformed pax header record", offset)
      length = length * 10 + (c - 0x30)
      j++
    }
    if (length <= j - i + 1 || i + length > data.length || data[i + length - 1] !== 0x0a) {
      throw new TarFormatError("malformed pax header record", offset)
    }
    const record = data.subarray(j + 1, i + length - 1)
    const eq = record.indexOf(0x3d)
    if (eq < 0) throw new TarFormatError("malformed pax header record", offset)
    records.set(decoder.decode(record.subarray(0, eq)), decoder.decode(record.subarray(eq + 1)))
    i += length
  }
  return records
}

/** Overrides gathered from pax (`x`) and GNU long-name (`L`, `K`) headers before an entry. */
export interface PendingMeta {
  pax?: Map<string, string>
  longName?: string
  longLink?: string
}

/** Decodes a main header block (not a pax/GNU meta header) with the pending overrides. */
export function decodeHeader(block: Uint8Array, meta: PendingMeta, offset: number): TarEntry {
  if (!checksumMatches(block)) {
    throw new TarFormatError("bad header checksum", offset)
  }
  const flag = String.fromCharCode(block[156] ?? 0)
  const magic = readString(block, 257, 6)
  let name = readString(block, 0, 100)
  if (magic === "ustar" && block[345] !== 0) {
    // POSIX ustar splits long paths into prefix + name
    name = `${readString(block, 345, 155)}/${name}`
  }
  let type: TarEntryType = TYPES[flag] ?? "other"
  if (type === "file" && name.endsWith("/")) type = "directory" // pre-POSIX directories
  let size = NO_PAYLOAD.has(flag) ? 0 : readNumber(block, 124, 12)
  let realSize = flag === "S" ? readNumber(block, 483, 12) : size
  let linkname = readString(block, 157, 100)
  let uid = readNumber(block, 108, 8)
  let gid = readNumber(block, 116, 8)
  let uname = readString(block, 265, 32)
  let gname = readString(block, 297, 32)
  let mtime = readNumber(block, 136, 12)
  if (meta.longName !== undefined) name = meta.longName
  if (meta.longLink !== undefined) linkname = meta.longLink
  const pax = meta.pax
  if (pax) {
    name = pax.get("GNU.sparse.name") ?? pax.get("path") ?? name
    linkname = pax.get("linkpath") ?? linkname
    const number = (key: string, fallback: number): number => {
      const text = pax.get(key)
      if (text === undefined) return fallback
      const value = Number(text)
      if (!Number.isFinite(value)) throw new TarFormatError(`bad pax ${key} "${text}"`, offset)
      return value
    }
    if (!NO_PAYLOAD.has(flag)) size = number("size", size)
    realSize = number("GNU.sparse.realsize", number("GNU.sparse.size", size))
    uid = number("uid", uid)
    gid = number("gid", gid)
    mtime = Math.floor(number("mtime", mtime))
    uname = pax.get("uname") ?? uname
    gname = pax.get("gname") ?? gname
  }
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new TarFormatError(`impossible member size ${size}`, offset)
  }
  checkPathLength("name", name, offset)
  checkPathLength("link target", linkname, offset)
  return {
    name,
    linkname,
    type,
    typeflag: flag,
    mode: readNumber(block, 100, 8) & 0o7777,
    uid,
    gid,
    uname,
    gname,
    mtime,
    size,
    realSize,
  }
}

/**
 * Linux's PATH_MAX. Pax and GNU long-name headers allow names of any length, and the commands
 * keep names (inspect keeps every member's), so a hostile archive of a few thousand members
 * with megabyte names would take gigabytes; no file with a longer name can be opened by path.
 */
const PATH_MAX = 4096

function checkPathLength(what: string, value: string, offset: number): void {
  const bytes = Buffer.byteLength(value)
  if (bytes > PATH_MAX) {
    throw new TarFormatError(
      `member ${what} of ${bytes} bytes is longer than PATH_MAX (${PATH_MAX})`,
      offset,
    )
  }
}

/** Bytes of zero padding that follow `size` bytes of payload. */
export function paddingFor(size: number): number {
  const rest = size % BLOCK
  return rest === 0 ? 0 : BLOCK - rest
}

/** Strips a leading "./" (any number of times) so `./passwdfile` and `passwdfile` compare equal. */
export function normalizeName(name: string): string {
  let n = name
  while (n.startsWith("./")) n = n.slice(2)
  while (n.startsWith("/")) n = n.slice(1)
  return n
}

/** A member's path for comparing with a layout path: normalized, without trailing slashes. */
export function memberPath(name: string): string {
  return normalizeName(name).replace(/\/+$/, "")
}
