/**
 * `glidein tarball inject-password`: puts a pool credential into an existing glidein tarball as
 * one streaming pass — read, gunzip, rewrite (rewriteCredentials), gzip in worker threads
 * (ParallelGzip), write to a temporary file, rename. Nothing is extracted to disk and memory
 * does not grow with the archive. The result is mode 0600 because it now holds a secret.
 */
import type { Stats } from "node:fs"
import { stat } from "node:fs/promises"
import { UsageError } from "../errors.ts"
import { openAtomicOutput } from "./atomic-output.ts"
import type { Credentials } from "./credentials.ts"
import { ParallelGzip } from "./parallel-gzip.ts"
import { describeReadFailure, openArchive } from "./read-archive.ts"
import { type RewriteReport, rewriteCredentials } from "./rewrite-credentials.ts"

/** Inputs of injectCredentials. */
export interface InjectOptions {
  input: string
  output: string
  credentials: Credentials
  /** Allows `output` to be the input file itself. */
  inPlace?: boolean
  /** Aborting stops the rewrite and removes the temporary file. */
  signal?: AbortSignal
  /** Called as the input is read: compressed bytes so far and in all. */
  onProgress?: (read: number, total: number) => void
}

/** What injectCredentials did. */
export interface InjectReport extends RewriteReport {
  bytesIn: number
  bytesOut: number
}

/** Rewrites `input` into `output` with the credentials swapped in. */
export async function injectCredentials(options: InjectOptions): Promise<InjectReport> {
  const { input, output, credentials } = options
  if (!credentials.password && !credentials.token) {
    throw new UsageError("give --password FILE or --token FILE (or both)")
  }
  // opened before the output so that an unreadable or non-gzip input is refused first
  const archive = await openArchive(input, options)
  try {
    if (!options.inPlace && (await isSameFile(output, archive.stats))) {
      throw new UsageError(
        `the output "${output}" is the input tarball; use --in-place to replace it, or -o to write elsewhere`,
      )
    }
    const report: InjectReport = {
      entries: 0,
      replaced: [],
      added: [],
      dropped: [],
      bytesIn: archive.size,
      bytesOut: 0,
    }
    const out = await openAtomicOutput(output, 0o600)
    const gzip = new ParallelGzip((bytes) => out.write(bytes))
    try {
      for await (const bytes of rewriteCredentials(archive.events, credentials, report)) {
        await gzip.write(bytes)
      }
      await gzip.end()
      report.bytesOut = out.size
      await out.commit()
      return report
    } catch (error) {
      gzip.destroy()
      await out.discard()
      throw describeReadFailure(error, input)
    }
  } finally {
    archive.close()
  }
}

/** True when `path` exists and is the file `stats` describe (same device and inode). */
async function isSameFile(path: string, stats: Stats): Promise<boolean> {
  const other = await stat(path).catch(() => undefined)
  return other !== undefined && other.dev === stats.dev && other.ino === stats.ino
}
