/**
 * Reading what the dynamic loader reads from an ELF file, in our own code (a login node has no
 * readelf): the class, byte order and machine; the interpreter; and from the dynamic section
 * DT_NEEDED, DT_RPATH, DT_RUNPATH, DT_SONAME, and from .gnu.version_r the newest `GLIBC_x.y`
 * the file needs. Pure over a byte source, so it works on a file on disk (positional reads)
 * and on an archive member seen once as a stream (a kept prefix). Every size, count and offset
 * read from the file is checked against the file and bounded: the input may be hostile.
 */

/**
 * Bytes of an ELF file: `read` returns up to `length` bytes from `offset` (fewer where the
 * available part ends), or undefined when `offset` itself is unavailable.
 */
export interface ElfSource {
  size: number
  read(offset: number, length: number): Uint8Array | undefined
}

/** What parseElf found. */
export interface ElfInfo {
  /** 32 or 64. */
  bits: 32 | 64
  littleEndian: boolean
  /** e_machine. */
  machine: number
  /** The architecture as `uname -m` names it, e.g. "x86_64", "aarch64", "ppc64le". */
  arch: string
  /** e_type: 2 executable, 3 shared object (or position-independent executable). */
  type: number
  /** PT_INTERP: present for dynamically linked programs. */
  interpreter?: string
  /** False for a statically linked file (no PT_DYNAMIC). */
  dynamic: boolean
  needed: string[]
  /** DT_RPATH split at ':'; ignored by the loader when DT_RUNPATH is present. */
  rpath?: string[]
  runpath?: string[]
  soname?: string
  /** The newest GLIBC_x.y[.z] in .gnu.version_r, e.g. "2.34". */
  glibc?: string
}

/** The file is not a well-formed ELF file; the message says what is wrong. */
export class ElfError extends Error {}

const MAX_PROGRAM_HEADERS = 512
const MAX_DYNAMIC_BYTES = 256 * 1024
const MAX_STRING = 4096
const MAX_NEEDED = 1024
const MAX_VERSION_RECORDS = 8192

const PT_LOAD = 1
const PT_DYNAMIC = 2
const PT_INTERP = 3
const DT_NULL = 0
const DT_NEEDED = 1
const DT_STRTAB = 5
const DT_STRSZ = 10
const DT_SONAME = 14
const DT_RPATH = 15
const DT_RUNPATH = 29
const DT_VERNEED = 0x6ffffffe
const DT_VERNEEDNUM = 0x6fffffff

/** True when `head` starts with the ELF magic number. */
export function isElf(head: Uint8Array): boolean {
  return head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46
}

/** Parses `source`; undefined when it is not an ELF file, ElfError when it is a damaged one. */
export function parseElf(source: ElfSource): ElfInfo | undefined {
  const ident = source.read(0, Math.min(16, source.size))
  if (!ident || ident.length < 16 || !isElf(ident)) return undefined
  const bits = ident[4] === 1 ? 32 : ident[4] === 2 ? 64 : undefined
  const little = ident[5] === 1 ? true : ident[5] === 2 ? false : undefined
  if (bits === undefined || little === undefined) {
    throw new ElfError("unknown ELF class or byte order")
  }
  const reader = new Reader(source, bits, little)
  const header = reader.bytes(0, bits === 64 ? 64 : 52, "the ELF header")
  const h = new DataView(header.buffer, header.byteOffset, header.byteLength)
  const type = h.getUint16(16, little)
  const machine = h.getUint16(18, little)
  const phoff = bits === 64 ? reader.u64(h, 32) : h.getUint32(28, little)
  const phentsize = h.getUint16(bits === 64 ? 54 : 42, little)
  const phnum = h.getUint16(bits === 64 ? 56 : 44, little)
  const info: ElfInfo = {
    bits,
    littleEndian: little,
    machine,
    arch: archName(machine, bits, little),
    type,
    dynamic: false,
    needed: [],
  }
  if (phnum === 0) return info
  if (phnum > MAX_PROGRAM_HEADERS)
    throw new ElfError(`${phnum} program headers (at most ${MAX_PROGRAM_HEADERS} are read)`)
  if (phentsize < (bits === 64 ? 56 : 32))
    throw new ElfError(`program header size ${phentsize} is too small`)

  const loads: Segment[] = []
  let dynamic: Segment | undefined
  const table = reader.bytes(phoff, phnum * phentsize, "the program headers")
  const t = new DataView(table.buffer, table.byteOffset, table.byteLength)
  for (let i = 0; i < phnum; i++) {
    const at = i * phentsize
    const ptype = t.getUint32(at, little)
    const segment: Segment =
      bits === 64
        ? {
            offset: reader.u64(t, at + 8),
            vaddr: reader.u64(t, at + 16),
            filesz: reader.u64(t, at + 32),
          }
        : {
            offset: t.getUint32(at + 4, little),
            vaddr: t.getUint32(at + 8, little),
            filesz: t.getUint32(at + 16, little),
          }
    if (ptype === PT_LOAD) loads.push(segment)
    else if (ptype === PT_DYNAMIC) dynamic = segment
    else if (ptype === PT_INTERP)
      info.interpreter = reader.string(segment.offset, "the interpreter")
  }
  if (!dynamic) return info
  info.dynamic = true
  if (dynamic.filesz > MAX_DYNAMIC_BYTES) {
    throw new ElfError(
      `a dynamic section of ${dynamic.filesz} bytes (at most ${MAX_DYNAMIC_BYTES} are read)`,
    )
  }
  const entrySize = bits === 64 ? 16 : 8
  const dyn = reader.bytes(
    dynamic.offset,
    dynamic.filesz - (dynamic.filesz % entrySize),
    "the dynamic section",
  )
  const d = new DataView(dyn.buffer, dyn.byteOffset, dyn.byteLength)
  const entries: [number, number][] = []
  for (let at = 0; at + entrySize <= dyn.length; at += entrySize) {
    const tag = bits === 64 ? reader.u64(d, at, true) : d.getUint32(at, little)
    if (tag === DT_NULL) break
    const value = bits === 64 ? reader.u64(d, at + 8, true) : d.getUint32(at + 4, little)
    entries.push([tag, value])
  }
  const dynValue = (tag: number) => entries.find(([t]) => t === tag)?.[1]
  const strtab = dynValue(DT_STRTAB)
  if (strtab === undefined) {
    if (entries.some(([t]) => t === DT_NEEDED))
      throw new ElfError("DT_NEEDED without a string table")
    return info
  }
  const strOffset = fileOffset(loads, strtab, "the string table")
  const strSize = dynValue(DT_STRSZ) ?? Number.MAX_SAFE_INTEGER
  const dynString = (index: number, what: string) => {
    if (index >= strSize) throw new ElfError(`${what} lies outside the string table`)
    return reader.string(strOffset + index, what)
  }
  for (const [tag, value] of entries) {
    if (tag === DT_NEEDED) {
      if (info.needed.length >= MAX_NEEDED)
        throw new ElfError(`more than ${MAX_NEEDED} needed libraries`)
      info.needed.push(dynString(value, "a DT_NEEDED name"))
    } else if (tag === DT_SONAME) info.soname = dynString(value, "DT_SONAME")
    else if (tag === DT_RPATH) info.rpath = dynString(value, "DT_RPATH").split(":")
    else if (tag === DT_RUNPATH) info.runpath = dynString(value, "DT_RUNPATH").split(":")
  }
  const verneed = dynValue(DT_VERNEED)
  if (verneed !== undefined) {
    const glibc = newestGlibc(
      reader,
      fileOffset(loads, verneed, "the version needs"),
      dynValue(DT_VERNEEDNUM) ?? 0,
      dynString,
    )
    if (glibc !== undefined) info.glibc = glibc
  }
  return info
}

/** The newest GLIBC_x.y in the Elfxx_Verneed chain at `offset` (`count` files). */
function newestGlibc(
  reader: Reader,
  offset: number,
  count: number,
  dynString: (index: number, what: string) => string,
): string | undefined {
  let newest: number[] | undefined
  let records = 0
  let file = offset
  for (let i = 0; i < count; i++) {
    const vn = reader.view(file, 16, "a version need")
    const cnt = vn.getUint16(2, reader.little)
    let aux = file + vn.getUint32(8, reader.little)
    for (let j = 0; j < cnt; j++) {
      if (++records > MAX_VERSION_RECORDS)
        throw new ElfError(`more than ${MAX_VERSION_RECORDS} version records`)
      const vna = reader.view(aux, 16, "a version need")
      const name = dynString(vna.getUint32(8, reader.little), "a version name")
      const match = /^GLIBC_(\d{1,4})\.(\d{1,4})(?:\.(\d{1,4}))?$/.exec(name)
      if (match) {
        const version = match
          .slice(1)
          .filter((p) => p !== undefined)
          .map(Number)
        if (!newest || compareVersions(version, newest) > 0) newest = version
      }
      const next = vna.getUint32(12, reader.little)
      if (next === 0) break
      aux += next
    }
    const next = vn.getUint32(12, reader.little)
    if (next === 0) break
    file += next
  }
  return newest?.join(".")
}

/** Compares dotted versions given as numbers ([2, 34] < [2, 34, 1] < [2, 35]). */
export function compareVersions(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const diff = (a[i] ?? -1) - (b[i] ?? -1)
    if (diff !== 0) return diff
  }
  return 0
}

interface Segment {
  offset: number
  vaddr: number
  filesz: number
}

/** The file offset of virtual address `vaddr`, through the PT_LOAD segment that maps it. */
function fileOffset(loads: Segment[], vaddr: number, what: string): number {
  const load = loads.find((l) => vaddr >= l.vaddr && vaddr < l.vaddr + l.filesz)
  if (!load) throw new ElfError(`${what} is not in a loaded segment`)
  return load.offset + (vaddr - load.vaddr)
}

/** Bounds-checked reads from the source. */
class Reader {
  constructor(
    private readonly source: ElfSource,
    readonly bits: 32 | 64,
    readonly little: boolean,
  ) {}

  bytes(offset: number, length: number, what: string): Uint8Array {
    if (offset < 0 || length < 0 || offset + length > this.source.size) {
      throw new ElfError(`${what} run past the end of the file`)
    }
    const bytes = this.source.read(offset, length)
    if (!bytes || bytes.length < length)
      throw new ElfError(`${what} lie beyond the part of the file that was read`)
    return bytes
  }

  view(offset: number, length: number, what: string): DataView {
    const bytes = this.bytes(offset, length, what)
    return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  /** An unsigned 64-bit field; `signedOk` treats values past 2^53 as "unknown tag" (-1). */
  u64(view: DataView, at: number, signedOk = false): number {
    const value = view.getBigUint64(at, this.little)
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
      if (signedOk) return -1
      throw new ElfError("an offset or size is too large")
    }
    return Number(value)
  }

  /** A NUL-terminated string of at most MAX_STRING bytes. */
  string(offset: number, what: string): string {
    if (offset < 0 || offset >= this.source.size)
      throw new ElfError(`${what} lies past the end of the file`)
    const bytes = this.source.read(offset, Math.min(MAX_STRING, this.source.size - offset))
    if (!bytes) throw new ElfError(`${what} lies beyond the part of the file that was read`)
    const end = bytes.indexOf(0)
    if (end === -1) throw new ElfError(`${what} is not a terminated string`)
    return new TextDecoder().decode(bytes.subarray(0, end))
  }
}

/** `uname -m`'s name for an ELF machine. */
export function archName(machine: number, bits: 32 | 64, little: boolean): string {
  switch (machine) {
    case 3:
      return "i386"
    case 62:
      return "x86_64"
    case 183:
      return "aarch64"
    case 40:
      return "arm"
    case 20:
      return "ppc"
    case 21:
      return little ? "ppc64le" : "ppc64"
    case 22:
      return bits === 64 ? "s390x" : "s390"
    case 243:
      return bits === 64 ? "riscv64" : "riscv32"
    case 258:
      return "loongarch64"
    default:
      return `ELF machine ${machine} (${bits}-bit ${little ? "little" : "big"}-endian)`
  }
}

/** An ElfSource over bytes in memory (a whole file, or the part of one that was kept). */
export function bytesSource(bytes: Uint8Array, size = bytes.length): ElfSource {
  return {
    size,
    read: (offset, length) =>
      offset < bytes.length
        ? bytes.subarray(offset, Math.min(bytes.length, offset + length))
        : undefined,
  }
}
