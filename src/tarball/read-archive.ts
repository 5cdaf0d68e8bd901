/**
 * Opening a .tar.gz for reading: checks that the file is gzip, streams it through gunzip into
 * readTar and limitArchive (at most MAX_MEMBERS members and MAX_NAME_BYTES of names unless told
 * otherwise), reports progress in compressed bytes, stops on abort, and turns decoding failures
 * and bounds passed into one sentence that names the file.
 */
import type { Stats } from "node:fs"
import { type FileHandle, open, stat } from "node:fs/promises"
import { errorReason, GlideinError, UsageError } from "../errors.ts"
import {
  ArchiveLimitError,
  type ArchiveLimits,
  limitArchive,
  MAX_MEMBERS,
  MAX_NAME_BYTES,
} from "./archive-limits.ts"
import { InterruptedError } from "./interrupted-error.ts"
import { TarFormatError } from "./tar-header.ts"
import { readTar, type TarEvent } from "./tar-reader.ts"

/** Options of openArchive. */
export interface ReadOptions {
  /** Aborting makes the event stream throw InterruptedError. */
  signal?: AbortSignal
  /** Called as the file is read: compressed bytes so far and in all. */
  onProgress?: (read: number, total: number) => void
  /** Bounds past which the archive is refused: MAX_MEMBERS and MAX_NAME_BYTES, no size bound. */
  limits?: Partial<ArchiveLimits>
}

/** An archive being read. Always `close()` it (in a finally). */
export interface OpenArchive {
  /** Size of the compressed file. */
  size: number
  /** The file's status when opened: its device and inode tell whether another path names it. */
  stats: Stats
  events: AsyncIterable<TarEvent>
  close(): void
}

/** Bytes read from the file at a time. */
const READ_SIZE = 64 * 1024

/** The gzip layer of an archive cannot be decoded. */
class GzipError extends Error {}

/** Opens `file` (a gzip-compressed tar) as a stream of tar events. */
export async function openArchive(file: string, options: ReadOptions = {}): Promise<OpenArchive> {
  const { handle, stats } = await openGzipFile(file)
  const size = stats.size
  const inflate = new DecompressionStream("gzip")
  const writer = inflate.writable.getWriter()
  const reader = inflate.readable.getReader()
  let closed = false
  // Reads go into fresh small buffers and the web-streams inflater (which also takes files of
  // several gzip members): measured here, this keeps the resident size of a 520 MB rewrite
  // lower than node:zlib's stream classes with their larger internal buffers.
  const pump = (async () => {
    let position = 0
    try {
      while (!closed) {
        if (options.signal?.aborted) throw new InterruptedError()
        const buffer = new Uint8Array(READ_SIZE)
        const { bytesRead } = await handle.read(buffer, 0, READ_SIZE, position)
        if (bytesRead === 0) break
        position += bytesRead
        options.onProgress?.(position, size)
        await writer.write(buffer.subarray(0, bytesRead))
      }
      await writer.close()
    } catch (error) {
      const reason =
        error instanceof GlideinError
          ? error
          : new GlideinError(`cannot read "${file}": ${errorReason(error)}`, 1, { cause: error })
      await writer.abort(reason).catch(() => {})
    }
  })()

  async function* inflated(): AsyncGenerator<Uint8Array> {
    for (;;) {
      let result: Awaited<ReturnType<typeof reader.read>>
      try {
        result = await reader.read()
      } catch (error) {
        if (error instanceof GlideinError) throw error
        throw new GzipError(error instanceof Error ? error.message : String(error))
      }
      if (result.done) break
      if (options.signal?.aborted) throw new InterruptedError()
      yield result.value
    }
    await pump
  }

  return {
    size,
    stats,
    events: limitArchive(readTar(inflated()), {
      maxMembers: MAX_MEMBERS,
      maxNameBytes: MAX_NAME_BYTES,
      maxContentBytes: Number.POSITIVE_INFINITY,
      ...options.limits,
    }),
    close() {
      closed = true
      reader.cancel().catch(() => {})
      handle.close().catch(() => {})
    },
  }
}

/** Opens `file` after checking that it is a regular file that starts as gzip does. */
async function openGzipFile(file: string): Promise<{ handle: FileHandle; stats: Stats }> {
  let handle: FileHandle | undefined
  try {
    // stat before open: opening a FIFO for reading would wait for a writer
    const stats = await stat(file)
    if (!stats.isFile()) throw new UsageError(`"${file}" is not a regular file`)
    handle = await open(file, "r")
    const magic = new Uint8Array(2)
    await handle.read(magic, 0, 2, 0)
    if (magic[0] !== 0x1f || magic[1] !== 0x8b) {
      throw new UsageError(`"${file}" is not a gzip file (a .tar.gz is expected)`)
    }
    return { handle, stats }
  } catch (error) {
    await handle?.close().catch(() => {})
    if (error instanceof GlideinError) throw error
    throw new UsageError(`cannot read "${file}": ${errorReason(error)}`, { cause: error })
  }
}

/** Turns a failure while reading `file` into one sentence naming it. */
export function describeReadFailure(error: unknown, file: string): unknown {
  if (error instanceof GlideinError) return error
  if (error instanceof TarFormatError) {
    return new GlideinError(
      `"${file}": ${error.message} (at byte ${error.offset} of the uncompressed archive)`,
      1,
      { cause: error },
    )
  }
  if (error instanceof ArchiveLimitError) {
    return new GlideinError(`"${file}": ${error.message}`, 1, { cause: error })
  }
  if (error instanceof GzipError) {
    return new GlideinError(`"${file}": the gzip data is damaged (${error.message})`, 1, {
      cause: error,
    })
  }
  return error
}
