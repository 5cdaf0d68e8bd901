/**
 * The pool's collector a tarball carries (`tarball build --collector`, `inject-password
 * --collector`): the value's check, and reading it back from the start of a tarball without
 * unpacking the rest, for `glidein submit`. Both commands put COLLECTOR first in the archive.
 */
import { closeSync, openSync, readSync } from "node:fs"
import type * as Zlib from "node:zlib"
import { COLLECTOR_PATH } from "./layout.ts"
import {
  BLOCK,
  checksumMatches,
  isZeroBlock,
  memberPath,
  paddingFor,
  readNumber,
  readString,
} from "./tar-header.ts"

/**
 * host[:port], an IPv6 address in brackets, and HTCondor's `?sock=NAME` for a collector behind
 * a shared port; the characters glidein_start.sh accepts in CLUSTER, nothing a shell reads.
 */
const COLLECTOR =
  /^(\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)(:(\d{1,5}))?(\?sock=[A-Za-z0-9._-]{1,64})?$/

/** Why `value` is not a collector address, or undefined when it is one. */
export function collectorProblem(value: string): string | undefined {
  const match = COLLECTOR.exec(value)
  if (!match) {
    return `expected the pool's collector as HOST[:PORT] (letters, digits, '.', '-'), got "${value}"`
  }
  const port = match[4]
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) {
    return `the port of "${value}" is not between 1 and 65535`
  }
  return undefined
}

/** Compressed bytes read from the start of a tarball to find COLLECTOR. */
const HEAD_BYTES = 64 * 1024
/** Members looked at before giving up (COLLECTOR is the first one). */
const HEAD_MEMBERS = 8

/**
 * The collector recorded in the tarball `file`: undefined when the tarball has none (or is not
 * a gzip file, or cannot be read); a recorded value that fails the check counts as none.
 */
export function tarballCollector(file: string): string | undefined {
  let head: Uint8Array
  try {
    const fd = openSync(file, "r")
    try {
      const buffer = new Uint8Array(HEAD_BYTES)
      head = buffer.subarray(0, readSync(fd, buffer, 0, HEAD_BYTES, 0))
    } finally {
      closeSync(fd)
    }
    // a prefix of a gzip stream: inflate what it holds (no end, no checksum)
    // Loaded here, not at start-up: every submit run imports this module, and only a config
    // without a collector of its own ever reads the tarball's.
    const zlib = require("node:zlib") as typeof Zlib
    head = zlib.gunzipSync(head, { finishFlush: zlib.constants.Z_SYNC_FLUSH })
  } catch {
    return undefined
  }
  let offset = 0
  for (let i = 0; i < HEAD_MEMBERS && offset + BLOCK <= head.length; i++) {
    const block = head.subarray(offset, offset + BLOCK)
    if (isZeroBlock(block) || !checksumMatches(block)) return undefined
    const size = readNumber(block, 124, 12)
    const prefix = readString(block, 345, 155)
    const name = memberPath(
      prefix ? `${prefix}/${readString(block, 0, 100)}` : readString(block, 0, 100),
    )
    const type = String.fromCharCode(block[156] ?? 0)
    offset += BLOCK
    if (name === COLLECTOR_PATH && (type === "0" || type === "\0")) {
      if (size > 1024 || offset + size > head.length) return undefined
      const value = new TextDecoder().decode(head.subarray(offset, offset + size)).trim()
      return collectorProblem(value) === undefined ? value : undefined
    }
    offset += size + paddingFor(size)
  }
  return undefined
}
