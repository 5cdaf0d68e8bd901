/**
 * Bounds on what one archive may hold, so that a small hostile .tar.gz cannot make a reader
 * keep unbounded per-member state (`inspect` keeps each member's name for the manifest and
 * the link check) or fill the disk next to the output (`build --condor X.tar.gz` unpacks).
 * The counts come from the headers, so a bound is enforced before the member past it is
 * yielded, and nothing of it is read, kept or written.
 */
import type { TarEvent } from "./tar-reader.ts"

/** What limitArchive enforces; every bound is inclusive. */
export interface ArchiveLimits {
  /** Members of any type, metadata headers not counted. */
  maxMembers: number
  /** Bytes of member names and link targets, summed over the archive. */
  maxNameBytes: number
  /** Bytes of member content as stored (header sizes), summed over the archive. */
  maxContentBytes: number
}

/**
 * The glidein tarballs the tests build hold 22 to 27 members; an HTCondor release (with its
 * Python bindings and man pages) a few thousand. 100,000 leaves a wide margin and keeps
 * `inspect`'s per-member state (a name, a hash, a tree entry) to tens of MB.
 */
export const MAX_MEMBERS = 100_000
/**
 * Real names average under 100 bytes (`condor-24.0.1-x86_64_AlmaLinux9-stripped/usr/lib64/
 * condor/libfoo.so`); 16 MiB is 100,000 names of 160 bytes. Without it, names of PATH_MAX
 * (4 KiB) each, which gzip packs into a few bytes, had `inspect` of a 1.2 MB archive of
 * 60,000 members take 1.5 GB.
 */
export const MAX_NAME_BYTES = 16 << 20
/**
 * For unpacking a release to disk: an HTCondor release unpacks to a few hundred MB, so 8 GiB
 * (ten times the largest, and less than the output's file system usually has free) refuses a
 * gzip bomb before it fills the disk next to the output, yet never a real release.
 */
export const MAX_UNPACKED_BYTES = 8 * 2 ** 30

/** An archive past one of its bounds; the message says which and names the bound. */
export class ArchiveLimitError extends Error {}

/** Passes `events` on, throwing ArchiveLimitError at the first member past a bound. */
export async function* limitArchive(
  events: AsyncIterable<TarEvent>,
  limits: ArchiveLimits,
): AsyncGenerator<TarEvent> {
  let members = 0
  let nameBytes = 0
  let contentBytes = 0
  for await (const event of events) {
    if (event.kind === "entry") {
      const { entry } = event
      if (++members > limits.maxMembers) {
        throw new ArchiveLimitError(
          `more than ${limits.maxMembers.toLocaleString("en-US")} members (no glidein tarball or HTCondor release has that many); refusing it`,
        )
      }
      nameBytes += Buffer.byteLength(entry.name) + Buffer.byteLength(entry.linkname)
      if (nameBytes > limits.maxNameBytes) {
        throw new ArchiveLimitError(
          `member names and link targets of more than ${size(limits.maxNameBytes)} in all (no glidein tarball or HTCondor release has that much); refusing it`,
        )
      }
      contentBytes += entry.size
      if (contentBytes > limits.maxContentBytes) {
        throw new ArchiveLimitError(
          `it would unpack to more than ${size(limits.maxContentBytes)} (an HTCondor release unpacks to a few hundred MB; a gzip bomb?); refusing it`,
        )
      }
    }
    yield event
  }
}

/** A bound for a message: whole GiB, MiB or KiB where it is one, else bytes. */
function size(bytes: number): string {
  for (const [unit, scale] of [
    ["GiB", 2 ** 30],
    ["MiB", 2 ** 20],
    ["KiB", 2 ** 10],
  ] as const) {
    if (bytes >= scale && bytes % scale === 0) return `${bytes / scale} ${unit}`
  }
  return `${bytes} bytes`
}
