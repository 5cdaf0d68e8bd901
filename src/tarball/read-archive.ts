/**
 * Opening a .tar.gz for reading: checks that the file is gzip, streams it through gunzip into
 * readTar, reports progress in compressed bytes, stops on abort, and turns decoding failures
 * into one sentence that names the file.
 */
import { createReadStream } from "node:fs"
import { open, stat } from "node:fs/promises"
import { createGunzip } from "node:zlib"
import { GlideinError, UsageError } from "../errors.ts"
import { systemReason } from "./credentials.ts"
import { TarFormatError } from "./tar-header.ts"
import { readTar, type TarEvent } from "./tar-reader.ts"

/** Options of openArchive. */
export interface ReadOptions {
  /** Aborting makes the event stream throw InterruptedError. */
  signal?: AbortSignal
  /** Called as the file is read: compressed bytes so far and in all. */
  onProgress?: (read: number, total: number) => void
}

/** An archive being read. Always `close()` it (in a finally). */
export interface OpenArchive {
  /** Size of the compressed file. */
  size: number
  events: AsyncIterable<TarEvent>
  close(): void
}

/** Thrown when a signal stops a command. */
export class InterruptedError extends GlideinError {
  constructor() {
    super("interrupted; no output was written")
  }
}

/** Opens `file` (a gzip-compressed tar) as a stream of tar events. */
export async function openArchive(file: string, options: ReadOptions = {}): Promise<OpenArchive> {
  const size = await checkGzipFile(file)
  const source = createReadStream(file, { highWaterMark: 1 << 20 })
  const gunzip = createGunzip({ chunkSize: 256 * 1024 })
  let read = 0
  source.on("data", (chunk) => {
    read += chunk.length
    options.onProgress?.(read, size)
  })
  source.on("error", (error) => gunzip.destroy(error))
  source.pipe(gunzip)
  const abort = () => gunzip.destroy(new InterruptedError())
  if (options.signal?.aborted) abort()
  options.signal?.addEventListener("abort", abort, { once: true })
  return {
    size,
    events: readTar(gunzip),
    close() {
      options.signal?.removeEventListener("abort", abort)
      source.destroy()
      gunzip.destroy()
    },
  }
}

/** Checks that `file` is a readable gzip file; returns its size. */
export async function checkGzipFile(file: string): Promise<number> {
  let size: number
  const magic = new Uint8Array(2)
  try {
    const info = await stat(file)
    if (!info.isFile()) throw new UsageError(`"${file}" is not a regular file`)
    size = info.size
    const handle = await open(file, "r")
    try {
      await handle.read(magic, 0, 2, 0)
    } finally {
      await handle.close()
    }
  } catch (error) {
    if (error instanceof GlideinError) throw error
    throw new UsageError(`cannot read "${file}": ${systemReason(error)}`, { cause: error })
  }
  if (magic[0] !== 0x1f || magic[1] !== 0x8b) {
    throw new UsageError(`"${file}" is not a gzip file (a .tar.gz is expected)`)
  }
  return size
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
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === "string" && code.startsWith("Z_")) {
    const message = error instanceof Error ? error.message : String(error)
    return new GlideinError(`"${file}": the gzip data is damaged (${message})`, 1, {
      cause: error,
    })
  }
  return error
}
