/**
 * The heart of `inject-password`: a pass over a tar stream that swaps the credential members and
 * copies every other byte through unchanged (headers included, so modes, owners, link targets,
 * long names, sparse maps and order stay exactly as they were).
 *
 * - `--password`: the first `passwdfile` becomes the new password file (mode 0600, same name,
 *   owner and mtime); later duplicates are dropped. Without one, it is added at the end.
 * - `--token`: the token goes in right after the `tokens.d/` directory member; every other
 *   member under `tokens.d/` is dropped, so the archive carries exactly the given token. Without
 *   that directory, both are added at the end (directory mode 0700).
 * - `--collector`: COLLECTOR goes in as the first member (where `glidein submit` looks for
 *   it); a COLLECTOR found later is dropped.
 */
import type { Credentials } from "./credentials.ts"
import { encodeEntry, type NewEntry } from "./encode-entry.ts"
import { COLLECTOR_PATH, FIXED_MTIME, PASSWORD_PATH, TOKEN_DIR, TOKEN_PATH } from "./layout.ts"
import { memberPath, normalizeName, type TarEntry, TarFormatError } from "./tar-header.ts"
import type { TarEvent } from "./tar-reader.ts"

/** What the rewrite did, by archive path. */
export interface RewriteReport {
  /** Members read from the input. */
  entries: number
  replaced: string[]
  added: string[]
  dropped: string[]
}

/** Rewrites `events` (from readTar) into output tar bytes; fills `report` as it goes. */
export async function* rewriteCredentials(
  events: AsyncIterable<TarEvent>,
  credentials: Credentials,
  report: RewriteReport,
  collector?: string,
): AsyncGenerator<Uint8Array> {
  let collectorPlaced = collector === undefined
  const placeCollector = (value: string) => {
    collectorPlaced = true
    report.added.push(COLLECTOR_PATH)
    return encodeEntry(
      { name: COLLECTOR_PATH, type: "file", mode: 0o644, mtime: FIXED_MTIME },
      new TextEncoder().encode(`${value}\n`),
    )
  }
  let passwordDone = credentials.password === undefined
  let tokenDone = credentials.token === undefined
  let skipping = false
  let placedToken: string | undefined
  let endWritten = false

  for await (const event of events) {
    if (event.kind === "data" || event.kind === "padding") {
      if (!skipping) yield event.bytes
      continue
    }
    if (event.kind === "trailer") {
      if (!endWritten) {
        yield* additions()
        endWritten = true
      }
      yield event.bytes
      continue
    }
    report.entries++
    const entry = event.entry
    const name = memberPath(entry.name)
    skipping = false
    if (!collectorPlaced && collector !== undefined) {
      yield await placeCollector(collector)
    }
    if (collector !== undefined && name === COLLECTOR_PATH) {
      skipping = true
      const at = report.added.indexOf(COLLECTOR_PATH)
      if (at === -1) report.dropped.push(entry.name)
      else {
        report.added.splice(at, 1)
        report.replaced.push(entry.name)
      }
      continue
    }

    if (credentials.password && name === PASSWORD_PATH) {
      if (entry.type === "directory") throw conflict(entry, event.offset)
      skipping = true
      if (passwordDone) {
        report.dropped.push(entry.name)
        continue
      }
      passwordDone = true
      report.replaced.push(entry.name)
      yield await encodeEntry(
        { ...ownerOf(entry), name: entry.name, type: "file", mode: 0o600 },
        credentials.password,
      )
      continue
    }

    if (credentials.token && name === TOKEN_DIR) {
      if (entry.type !== "directory") throw conflict(entry, event.offset)
      for (const block of event.header) yield block
      if (!tokenDone) {
        tokenDone = true
        const tokenName = `${entry.name.endsWith("/") ? entry.name : `${entry.name}/`}${TOKEN_PATH.slice(TOKEN_DIR.length + 1)}`
        report.added.push(tokenName)
        placedToken = tokenName
        yield await encodeEntry(
          { name: tokenName, type: "file", mode: 0o600, mtime: entry.mtime },
          credentials.token,
        )
      }
      continue
    }

    if (credentials.token && name.startsWith(`${TOKEN_DIR}/`)) {
      skipping = true
      if (tokenDone) {
        if (name === TOKEN_PATH && placedToken !== undefined) {
          // the token placed after the directory member takes this one's place
          report.added.splice(report.added.indexOf(placedToken), 1)
          report.replaced.push(entry.name)
          placedToken = undefined
        } else report.dropped.push(entry.name)
        continue
      }
      // token files without a directory member: ours goes where the first one was
      tokenDone = true
      report.replaced.push(entry.name)
      yield await encodeEntry(
        { ...ownerOf(entry), name: tokenPathLike(entry.name), type: "file", mode: 0o600 },
        credentials.token,
      )
      continue
    }

    for (const block of event.header) yield block
  }

  if (!endWritten) {
    // the input had no end-of-archive marker; ours gets one
    yield* additions()
    yield new Uint8Array(1024)
  }

  async function* additions(): AsyncGenerator<Uint8Array> {
    if (!collectorPlaced && collector !== undefined) {
      yield await placeCollector(collector)
    }
    if (!passwordDone && credentials.password) {
      passwordDone = true
      report.added.push(PASSWORD_PATH)
      yield await encodeEntry(
        { name: PASSWORD_PATH, type: "file", mode: 0o600, mtime: FIXED_MTIME },
        credentials.password,
      )
    }
    if (!tokenDone && credentials.token) {
      tokenDone = true
      report.added.push(`${TOKEN_DIR}/`, TOKEN_PATH)
      yield await encodeEntry({
        name: `${TOKEN_DIR}/`,
        type: "directory",
        mode: 0o700,
        mtime: FIXED_MTIME,
      })
      yield await encodeEntry(
        { name: TOKEN_PATH, type: "file", mode: 0o600, mtime: FIXED_MTIME },
        credentials.token,
      )
    }
  }
}

/** Owner and time of a member being replaced, kept so only the content and mode change. */
function ownerOf(entry: TarEntry): Pick<NewEntry, "uid" | "gid" | "uname" | "gname" | "mtime"> {
  return {
    uid: entry.uid,
    gid: entry.gid,
    uname: entry.uname,
    gname: entry.gname,
    mtime: entry.mtime,
  }
}

/** TOKEN_PATH written with the same "./" prefix style as `name`. */
function tokenPathLike(name: string): string {
  const prefix = name.slice(0, name.length - normalizeName(name).length)
  return `${prefix}${TOKEN_PATH}`
}

function conflict(entry: TarEntry, offset: number): TarFormatError {
  return new TarFormatError(
    `member "${entry.name}" is a ${entry.type}, where the credential layout needs ${
      entry.type === "directory" ? "a file" : "a directory"
    }`,
    offset,
  )
}
