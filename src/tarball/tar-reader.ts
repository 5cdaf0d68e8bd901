/**
 * A streaming tar reader that keeps every byte. It yields each member's decoded header together
 * with the raw header blocks it came from (pax and GNU long-name headers, GNU sparse extension
 * blocks), then the payload and padding as views into the input chunks, then whatever follows
 * the end-of-archive marker. Writing the raw blocks and the payload back out reproduces the input
 * exactly, which is what lets `inject-password` leave every other member untouched — including
 * formats that tar-stream would re-encode or reject (GNU sparse members, base-256 owners,
 * non-UTF-8 names).
 */
import {
  BLOCK,
  checksumMatches,
  decodeHeader,
  isZeroBlock,
  type PendingMeta,
  paddingFor,
  parsePaxRecords,
  readNumber,
  readString,
  type TarEntry,
  TarFormatError,
} from "./tar-header.ts"

/** What the reader yields, in archive order. */
export type TarEvent =
  | {
      kind: "entry"
      entry: TarEntry
      /** The member's header blocks exactly as read (copies, safe to keep). */
      header: Uint8Array[]
      /** Offset of the first header block in the uncompressed stream. */
      offset: number
    }
  /** Payload of the entry last yielded; views into the input, `entry.size` bytes in all. */
  | { kind: "data"; bytes: Uint8Array }
  /** Zero padding after the payload, up to the next 512-byte boundary. */
  | { kind: "padding"; bytes: Uint8Array }
  /** The end-of-archive marker and anything after it. */
  | { kind: "trailer"; bytes: Uint8Array }

/*
 * The header blocks before one member are kept in memory (to be written back as they were), so
 * a hostile archive could make them any size: a 1.7 MB .tar.gz of chained pax headers held
 * 2 GB. Past these bounds the archive is refused. Real writers come nowhere near them: GNU tar
 * puts at most two metadata headers before a member (`L` and `K`), pax writers one `x`; a path
 * of PATH_MAX (4096 bytes) takes about 4 KiB of pax records; and 1 MiB of GNU sparse extension
 * blocks maps 43,000 extents, while HTCondor releases and glidein tarballs hold no sparse file.
 * Global (`g`) headers need no bound: their payload is streamed like a file's, never kept.
 */
/** Pax (`x`) and GNU long-name (`L`, `K`) headers allowed before one member. */
const MAX_META_HEADERS = 8
/** Bytes of header blocks (with pax and long-name payloads) kept for one member. */
const MAX_META_BYTES = 1 << 20

type State = "header" | "meta" | "extension" | "data" | "padding" | "trailer"

/** Reads a tar stream; throws TarFormatError on a corrupt, truncated or non-tar input. */
export async function* readTar(source: AsyncIterable<Uint8Array>): AsyncGenerator<TarEvent> {
  // assigned from startPayload() too, which flow analysis cannot see
  let state = "header" as State
  const block = new Uint8Array(BLOCK)
  let filled = 0
  let remaining = 0
  let position = 0 // offset in the stream of the byte at chunk[pos]
  let entryOffset = 0
  let headerBlocks: Uint8Array[] = []
  let meta: PendingMeta = {}
  let metaFlag = ""
  let metaBuffer = new Uint8Array(0)
  let metaFilled = 0
  let pending: TarEntry | undefined
  let sawHeader = false
  let metaHeaders = 0 // x, L and K headers before the pending member
  let keptBytes = 0 // bytes in headerBlocks

  for await (const chunk of source) {
    let pos = 0
    while (pos < chunk.length) {
      if (state === "data" || state === "padding" || state === "trailer") {
        const n = state === "trailer" ? chunk.length - pos : Math.min(remaining, chunk.length - pos)
        const bytes = chunk.subarray(pos, pos + n)
        pos += n
        position += n
        if (state === "trailer") {
          yield { kind: "trailer", bytes }
          continue
        }
        remaining -= n
        yield state === "data" ? { kind: "data", bytes } : { kind: "padding", bytes }
        if (remaining === 0) {
          if (state === "data" && pending) {
            remaining = paddingFor(pending.size)
            state = remaining > 0 ? "padding" : "header"
          } else state = "header"
        }
        continue
      }

      if (state === "meta") {
        const n = Math.min(metaBuffer.length - metaFilled, chunk.length - pos)
        metaBuffer.set(chunk.subarray(pos, pos + n), metaFilled)
        metaFilled += n
        pos += n
        position += n
        if (metaFilled === metaBuffer.length) {
          headerBlocks.push(metaBuffer)
          applyMeta(meta, metaFlag, metaBuffer, position)
          state = "header"
        }
        continue
      }

      // "header" and "extension" both consume whole 512-byte blocks
      const n = Math.min(BLOCK - filled, chunk.length - pos)
      block.set(chunk.subarray(pos, pos + n), filled)
      filled += n
      pos += n
      position += n
      if (filled < BLOCK) continue
      filled = 0
      const blockOffset = position - BLOCK

      if (state === "extension") {
        keep(BLOCK)
        headerBlocks.push(block.slice())
        if (block[504] === 0) {
          yield* startPayload()
        }
        continue
      }

      if (isZeroBlock(block)) {
        state = "trailer"
        yield { kind: "trailer", bytes: block.slice() }
        continue
      }
      if (headerBlocks.length === 0) entryOffset = blockOffset
      const flag = String.fromCharCode(block[156] ?? 0)
      if (flag === "x" || flag === "L" || flag === "K") {
        if (!sawHeader && !checksumMatches(block)) throw notTar(blockOffset)
        sawHeader = true
        const size = readNumber(block, 124, 12)
        if (!Number.isSafeInteger(size) || size < 0 || size > MAX_META_BYTES) {
          throw new TarFormatError(`extended header of ${size} bytes is too large`, blockOffset)
        }
        if (++metaHeaders > MAX_META_HEADERS) {
          throw new TarFormatError(
            `more than ${MAX_META_HEADERS} pax or GNU long-name headers before one member`,
            entryOffset,
          )
        }
        keep(BLOCK + size + paddingFor(size))
        headerBlocks.push(block.slice())
        metaFlag = flag
        metaBuffer = new Uint8Array(size + paddingFor(size))
        metaFilled = 0
        state = "meta"
        if (metaBuffer.length === 0) {
          headerBlocks.push(metaBuffer)
          applyMeta(meta, metaFlag, metaBuffer, position)
          state = "header"
        }
        continue
      }
      let entry: TarEntry
      try {
        entry = decodeHeader(block, meta, blockOffset)
      } catch (error) {
        if (!sawHeader) throw notTar(blockOffset)
        throw error
      }
      sawHeader = true
      keep(BLOCK)
      headerBlocks.push(block.slice())
      pending = entry
      if (flag === "S" && block[482] !== 0) {
        state = "extension"
        continue
      }
      yield* startPayload()
    }
  }

  if (state === "trailer") return
  if (state === "header" && filled === 0 && headerBlocks.length === 0) return // no end marker: tolerated
  throw new TarFormatError("the archive is truncated", position)

  /** Counts `bytes` more of header blocks for the pending member; refuses past the bound. */
  function keep(bytes: number): void {
    keptBytes += bytes
    if (keptBytes > MAX_META_BYTES) {
      throw new TarFormatError("the headers before one member hold more than 1 MiB", entryOffset)
    }
  }

  /** Yields the pending entry and moves to its payload. */
  function* startPayload(): Generator<TarEvent> {
    const entry = pending as TarEntry
    const header = headerBlocks
    headerBlocks = []
    meta = {}
    metaHeaders = 0
    keptBytes = 0
    yield { kind: "entry", entry, header, offset: entryOffset }
    remaining = entry.size
    if (remaining > 0) state = "data"
    else {
      remaining = 0
      state = "header"
    }
  }
}

function notTar(offset: number): TarFormatError {
  return new TarFormatError(
    offset === 0 ? "it does not contain a tar archive" : "bad header checksum",
    offset,
  )
}

function applyMeta(meta: PendingMeta, flag: string, data: Uint8Array, offset: number): void {
  if (flag === "x") meta.pax = parsePaxRecords(data, offset)
  else if (flag === "L") meta.longName = readString(data, 0, data.length)
  else meta.longLink = readString(data, 0, data.length)
}
