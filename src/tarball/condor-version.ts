/**
 * The HTCondor version a program was built as: every HTCondor binary carries the string
 * `$CondorVersion: 24.0.1 2024-10-31 BuildID: 765651 PackageID: 24.0.1-1 $` (what
 * `condor_version` prints), found here by searching its bytes, in one piece or as a stream.
 */

const MARKER = Buffer.from("$CondorVersion: ")

/** HTCondor's utility library: builds since 9.0 keep `$CondorVersion` there, not in
 *  condor_master (found so in a 25.14 `make install`). */
export const VERSION_LIBRARY = /\/libcondor_utils[^/]*\.so[^/]*$/
/** The longest version string kept; the rest of the file is not searched for its end. */
const MAX_VERSION = 200

/** Finds the version string in chunks of one file fed in order; `version` once found. */
export class CondorVersionScanner {
  version: string | undefined
  private tail: Buffer = Buffer.alloc(0)

  push(chunk: Uint8Array): void {
    if (this.version !== undefined) return
    // keep enough of the previous chunk for a string that spans the boundary
    const bytes = Buffer.concat([this.tail, chunk])
    for (let from = 0; ; ) {
      const at = bytes.indexOf(MARKER, from)
      if (at === -1) break
      const rest = bytes.subarray(at + MARKER.length, at + MARKER.length + MAX_VERSION)
      const end = rest.indexOf("$")
      if (end === -1 && rest.length < MAX_VERSION) {
        this.tail = Buffer.from(bytes.subarray(at))
        return
      }
      const text = rest.subarray(0, Math.max(0, end)).toString("latin1").trim()
      if (/^\d+\.\d+\.\d+[ -~]*$/.test(text)) {
        this.version = text
        return
      }
      from = at + 1
    }
    this.tail = Buffer.from(bytes.subarray(Math.max(0, bytes.length - MARKER.length + 1)))
  }
}

/** The version string in `bytes` (a whole program), e.g. "24.0.1 2024-10-31 BuildID: 765651". */
export function condorVersion(bytes: Uint8Array): string | undefined {
  const scanner = new CondorVersionScanner()
  scanner.push(bytes)
  return scanner.version
}
