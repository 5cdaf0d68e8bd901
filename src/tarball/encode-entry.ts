/**
 * Encodes one tar member (header blocks, content, padding) with tar-stream, for the members the
 * tarball commands add. Owner ids too large for the octal field go into a pax header, which
 * tar-stream would otherwise clamp to 07777777.
 */
import { type Header, pack } from "tar-stream"

/** The header fields a new member needs. */
export interface NewEntry {
  name: string
  type: "file" | "directory" | "symlink" | "link"
  mode: number
  mtime: number
  uid?: number
  gid?: number
  uname?: string
  gname?: string
  linkname?: string
}

const OCTAL_ID_MAX = 0o7777777
const END_OF_ARCHIVE = 1024

/** Pack-ready header for tar-stream (ids beyond the octal field go to pax records). */
export function packHeader(entry: NewEntry, size: number): Header {
  const uid = entry.uid ?? 0
  const gid = entry.gid ?? 0
  const pax: Record<string, string> = {}
  if (uid > OCTAL_ID_MAX) pax.uid = String(uid)
  if (gid > OCTAL_ID_MAX) pax.gid = String(gid)
  const header: Header = {
    name: entry.name,
    type: entry.type,
    mode: entry.mode,
    mtime: new Date(entry.mtime * 1000),
    size,
    uid: Math.min(uid, OCTAL_ID_MAX),
    gid: Math.min(gid, OCTAL_ID_MAX),
    uname: entry.uname ?? "",
    gname: entry.gname ?? "",
    linkname: entry.linkname ?? "",
    devmajor: 0,
    devminor: 0,
  }
  if (Object.keys(pax).length > 0) header.pax = pax
  return header
}

/** The bytes of one member as they appear in a tar stream. */
export async function encodeEntry(entry: NewEntry, content?: Uint8Array): Promise<Uint8Array> {
  const packer = pack()
  const body = content ?? new Uint8Array(0)
  packer.entry(packHeader(entry, entry.type === "file" ? body.length : 0), body)
  packer.finalize()
  const chunks: Uint8Array[] = []
  for await (const chunk of packer as AsyncIterable<Uint8Array>) chunks.push(chunk)
  const all = Buffer.concat(chunks)
  return new Uint8Array(all.subarray(0, all.length - END_OF_ARCHIVE))
}
