/**
 * gzip output for the tarball commands. Compression is the slow step of every rewrite, so it is
 * done in parallel: by a `pigz` subprocess when one is on PATH, otherwise by ParallelGzip's worker
 * threads (the same method in-process). Either way the compressed bytes go straight to the file.
 */
import { type ChildProcess, spawn } from "node:child_process"
import type { FileHandle } from "node:fs/promises"
import os from "node:os"
import { GlideinError } from "../errors.ts"
import { ParallelGzip } from "./parallel-gzip.ts"

/** How to compress: `auto` uses pigz when found on PATH. */
export type CompressionMethod = "auto" | "pigz" | "threads"

/** A byte sink that gzips into a file. */
export interface Compressor {
  /** `pigz` or `threads`, for reports. */
  readonly method: "pigz" | "threads"
  write(bytes: Uint8Array): Promise<void>
  /** Flushes and finishes the gzip stream; the file is complete when this resolves. */
  end(): Promise<void>
  /** Abandons the output (after an error or an interrupt). */
  destroy(): void
}

const COALESCE = 256 * 1024

/** Opens a compressor that writes gzip to `file` from its current position. */
export function openCompressor(
  file: FileHandle,
  options: { method?: CompressionMethod; level?: number } = {},
): Compressor {
  const level = options.level ?? 6
  const method = options.method ?? "auto"
  const pigz = method === "threads" ? null : Bun.which("pigz")
  if (method === "pigz" && !pigz) throw new GlideinError("pigz was asked for but is not on PATH")
  if (pigz) return pigzCompressor(pigz, file, level)
  let position = 0
  const gzip = new ParallelGzip(
    async (bytes) => {
      let done = 0
      while (done < bytes.length) {
        const { bytesWritten } = await file.write(bytes, done, bytes.length - done, position)
        done += bytesWritten
        position += bytesWritten
      }
    },
    { level },
  )
  return {
    method: "threads",
    write: (bytes) => gzip.write(bytes),
    end: () => gzip.end(),
    destroy: () => gzip.destroy(),
  }
}

function pigzCompressor(pigz: string, file: FileHandle, level: number): Compressor {
  const threads = String(Math.max(1, os.availableParallelism()))
  // -n: no name or timestamp in the header, so the output depends on the input only
  const child: ChildProcess = spawn(pigz, ["-c", "-n", `-${level}`, "-p", threads], {
    stdio: ["pipe", file.fd, "pipe"],
  })
  const stdin = child.stdin
  if (!stdin) throw new GlideinError("cannot start pigz")
  let stderr = ""
  child.stderr?.on("data", (chunk: Buffer) => {
    if (stderr.length < 4096) stderr += chunk.toString()
  })
  let failure: Error | undefined
  const exited = new Promise<void>((resolve) => {
    child.on("error", (error) => {
      failure ??= new GlideinError(`cannot run "${pigz}": ${error.message}`, 1, { cause: error })
      resolve()
    })
    child.on("close", (code, signal) => {
      if (code !== 0) {
        failure ??= new GlideinError(
          `"${pigz}" failed (${signal ? `signal ${signal}` : `exit ${code}`})${stderr ? `: ${stderr.trim()}` : ""}`,
        )
      }
      resolve()
    })
  })
  stdin.on("error", (error) => {
    failure ??= new GlideinError(`writing to pigz failed: ${error.message}`, 1, { cause: error })
  })
  let buffer = new Uint8Array(COALESCE)
  let fill = 0

  async function flush(): Promise<void> {
    if (fill === 0) return
    const chunk = buffer.subarray(0, fill)
    buffer = new Uint8Array(COALESCE)
    fill = 0
    if (failure) throw failure
    if (!stdin?.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          stdin?.off("drain", done)
          child.off("close", done)
          resolve()
        }
        stdin?.on("drain", done)
        child.on("close", done)
      })
    }
    if (failure) throw failure
  }

  return {
    method: "pigz",
    async write(bytes) {
      let pos = 0
      while (pos < bytes.length) {
        const n = Math.min(COALESCE - fill, bytes.length - pos)
        buffer.set(bytes.subarray(pos, pos + n), fill)
        fill += n
        pos += n
        if (fill === COALESCE) await flush()
      }
    },
    async end() {
      await flush()
      stdin.end()
      await exited
      if (failure) throw failure
    },
    destroy() {
      stdin.destroy()
      if (child.exitCode === null) child.kill()
    },
  }
}
