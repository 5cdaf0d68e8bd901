/**
 * @module
 * One submit run per config at a time. An exclusive, non-blocking `flock(2)` on a file in the
 * state dir: the kernel drops it when the process ends however it ends, so a crashed run never
 * leaves a stale lock behind (a pid file would).
 */

import { closeSync, constants, fstatSync, ftruncateSync, openSync, writeSync } from "node:fs"
import { errorCode, errorReason, GlideinError } from "../../errors.ts"

const LOCK_EX = 2
const LOCK_NB = 4
const LOCK_UN = 8
const EWOULDBLOCK = 11

type Libc = { flock: (fd: number, op: number) => number; errno: () => number }
let libc: Libc | undefined

// bun:ffi is imported when a lock is first taken: a static import of a built-in module is
// evaluated at start-up by every command of the single-file executable.
async function loadLibc(): Promise<Libc> {
  if (libc) return libc
  const { dlopen, FFIType, read } = await import("bun:ffi")
  const lib = dlopen("libc.so.6", {
    flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
  })
  libc = {
    flock: (fd, op) => lib.symbols.flock(fd, op),
    errno: () => {
      const where = lib.symbols.__errno_location()
      return where === null ? 0 : read.i32(where, 0)
    },
  }
  return libc
}

/** A held lock; `release()` is idempotent. */
export interface ConfigLock {
  path: string
  release(): void
}

/**
 * Takes the lock at `path` without waiting. Returns undefined when another process holds it;
 * throws when the file system cannot lock at all (an NFS mount without lock support).
 */
export async function tryLock(path: string): Promise<ConfigLock | undefined> {
  let c: Libc
  try {
    c = await loadLibc()
  } catch (error) {
    throw new GlideinError(
      `cannot lock ${path}: flock(2) is unavailable (${(error as Error).message})`,
    )
  }
  let fd: number
  // Never blocks and never follows: a FIFO planted as the lock would hang an open for writing
  // until someone reads it, and a symlink would lock (and write into) another file.
  const flags =
    constants.O_WRONLY |
    constants.O_CREAT |
    constants.O_APPEND |
    constants.O_NONBLOCK |
    constants.O_NOFOLLOW
  try {
    fd = openSync(path, flags, 0o600)
  } catch (error) {
    const code = errorCode(error)
    const why =
      code === "ELOOP"
        ? "it is a symbolic link"
        : code === "ENXIO"
          ? "it is a FIFO"
          : errorReason(error)
    throw new GlideinError(`cannot open the lock file ${path} (${why}); remove it and run again`)
  }
  if (!fstatSync(fd).isFile()) {
    closeSync(fd)
    throw new GlideinError(
      `cannot use the lock file ${path} (it is not a regular file); remove it and run again`,
    )
  }
  if (c.flock(fd, LOCK_EX | LOCK_NB) !== 0) {
    const errno = c.errno()
    closeSync(fd)
    if (errno === EWOULDBLOCK) return undefined
    throw new GlideinError(
      `cannot lock ${path} (errno ${errno}); set GLIDEIN_STATE_DIR to a directory on a local disk`,
    )
  }
  // For people looking at the file: who holds it. The lock itself is the flock, not this text,
  // so a full disk that refuses the text does not stop the run.
  try {
    ftruncateSync(fd, 0)
    writeSync(fd, `${process.pid} ${new Date().toISOString()}\n`)
  } catch {
    // The file may be left empty; it says nothing the lock depends on.
  }
  let held = true
  return {
    path,
    release() {
      if (!held) return
      held = false
      c.flock(fd, LOCK_UN)
      closeSync(fd)
    },
  }
}
