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
import { foreignReason, MAX_CONFIG_BYTES } from "./inspect-tarball.ts"
import { CONFIG_PATH, RELEASE_DIR } from "./layout.ts"
import { ParallelGzip } from "./parallel-gzip.ts"
import { describeReadFailure, openArchive } from "./read-archive.ts"
import { type RewriteReport, rewriteCredentials } from "./rewrite-credentials.ts"
import { memberPath } from "./tar-header.ts"
import type { TarEvent } from "./tar-reader.ts"

/** Inputs of injectCredentials. */
export interface InjectOptions {
  input: string
  output: string
  credentials: Credentials
  /** The pool's collector (HOST[:PORT], checked by the caller), recorded as COLLECTOR. */
  collector?: string
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
  /** Why the input is not a tarball `tarball build` made, when it is not one. */
  foreign?: string
}

/** Rewrites `input` into `output` with the credentials swapped in. */
export async function injectCredentials(options: InjectOptions): Promise<InjectReport> {
  const { input, output, credentials } = options
  if (!credentials.password && !credentials.token && options.collector === undefined) {
    throw new UsageError("give --password FILE, --token FILE or --collector HOST[:PORT]")
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
      const seen = { names: new Set<string>(), config: undefined as string | undefined }
      const events = noting(archive.events, seen)
      for await (const bytes of rewriteCredentials(
        events,
        credentials,
        report,
        options.collector,
      )) {
        await gzip.write(bytes)
      }
      await gzip.end()
      const foreign = foreignReason(seen.names, seen.config)
      if (foreign !== undefined) report.foreign = foreign
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

/** Passes `events` on, noting whether RELEASE_DIR is there and glidein_condor_config's content. */
async function* noting(
  events: AsyncIterable<TarEvent>,
  seen: { names: Set<string>; config: string | undefined },
): AsyncGenerator<TarEvent> {
  let config: Uint8Array[] | undefined
  for await (const event of events) {
    if (event.kind === "entry") {
      if (config) seen.config = Buffer.concat(config).toString("utf8")
      const name = memberPath(event.entry.name)
      // only what foreignReason looks at: a set of every name would grow with the archive
      if (name === RELEASE_DIR || name.startsWith(`${RELEASE_DIR}/`)) seen.names.add(RELEASE_DIR)
      config = name === CONFIG_PATH && event.entry.size <= MAX_CONFIG_BYTES ? [] : undefined
    } else if (event.kind === "data") config?.push(Buffer.from(event.bytes))
    else if (event.kind === "trailer" && config) {
      seen.config = Buffer.concat(config).toString("utf8")
      config = undefined
    }
    yield event
  }
  if (config) seen.config = Buffer.concat(config).toString("utf8")
}

/** True when `path` exists and is the file `stats` describe (same device and inode). */
async function isSameFile(path: string, stats: Stats): Promise<boolean> {
  const other = await stat(path).catch(() => undefined)
  return other !== undefined && other.dev === stats.dev && other.ino === stats.ino
}
