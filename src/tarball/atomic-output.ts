/**
 * An output file that appears under its name only when complete: bytes go to a temporary file in
 * the same directory, created with the final mode (so a secret is never readable by others, not
 * even for a moment), which is synced and renamed over the target on commit.
 */
import { randomBytes } from "node:crypto"
import { chmod, type FileHandle, open, rename, unlink } from "node:fs/promises"
import path from "node:path"
import { errorReason, GlideinError } from "../errors.ts"

/** A temporary file that becomes `target` on `commit()` or vanishes on `discard()`. */
export interface AtomicOutput {
  readonly tempPath: string
  /** Appends bytes (calls must not overlap). */
  write(bytes: Uint8Array): Promise<void>
  /** Bytes written so far. */
  readonly size: number
  commit(): Promise<void>
  discard(): Promise<void>
}

/** Creates the temporary file next to `target` with `mode`. */
export async function openAtomicOutput(target: string, mode: number): Promise<AtomicOutput> {
  const dir = path.dirname(path.resolve(target))
  const tempPath = path.join(
    dir,
    `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`,
  )
  let handle: FileHandle
  try {
    handle = await open(tempPath, "wx", mode)
  } catch (error) {
    throw new GlideinError(`cannot write "${target}": ${errorReason(error)} in "${dir}"`, 1, {
      cause: error,
    })
  }
  let done = false
  let position = 0
  async function discard(): Promise<void> {
    if (done) return
    done = true
    await handle.close().catch(() => {})
    await unlink(tempPath).catch(() => {})
  }
  return {
    tempPath,
    discard,
    get size() {
      return position
    },
    async write(bytes) {
      let written = 0
      try {
        while (written < bytes.length) {
          const result = await handle.write(bytes, written, bytes.length - written, position)
          written += result.bytesWritten
          position += result.bytesWritten
        }
      } catch (error) {
        // A full disk is the user's to fix, named like every other output failure.
        throw new GlideinError(`cannot write "${target}": ${errorReason(error)}`, 1, {
          cause: error,
        })
      }
    },
    async commit() {
      try {
        await handle.sync()
        await handle.close()
        await chmod(tempPath, mode) // the umask may have narrowed it
        await rename(tempPath, target)
        done = true
      } catch (error) {
        await discard()
        throw new GlideinError(`cannot write "${target}": ${errorReason(error)}`, 1, {
          cause: error,
        })
      }
    },
  }
}
