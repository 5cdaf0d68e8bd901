import { describe, expect, test } from "bun:test"
import type { Credentials } from "./credentials.ts"
import { encodeEntry, type NewEntry } from "./encode-entry.ts"
import { type RewriteReport, rewriteCredentials } from "./rewrite-credentials.ts"
import type { TarEntry } from "./tar-header.ts"
import { readTar } from "./tar-reader.ts"

const text = new TextEncoder()
const PASSWORD = Uint8Array.of(0xde, 0xad, 0x00, 0xbe, 0xef, 0xff, 0x0a)
const TOKEN = text.encode("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJnbGlkZWluQHBvb2wifQ.c2lnbmF0dXJl\n")

type Spec = [name: string, content?: string, extra?: Partial<NewEntry>]

/** A tar stream of `specs` (files unless the name ends in "/"), with or without end blocks. */
async function tarOf(specs: Spec[], end = true): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for (const [name, content, extra] of specs) {
    const dir = name.endsWith("/")
    const entry: NewEntry = {
      name,
      type: dir ? "directory" : "file",
      mode: dir ? 0o755 : 0o644,
      mtime: 1_600_000_000,
      uid: 1234,
      gid: 99,
      uname: "alice",
      gname: "users",
      ...extra,
    }
    parts.push(await encodeEntry(entry, content === undefined ? undefined : text.encode(content)))
  }
  if (end) parts.push(new Uint8Array(10240))
  return Buffer.concat(parts)
}

interface Member {
  entry: TarEntry
  raw: Buffer
  content: Buffer
}

/** The members of a tar stream with their raw bytes (header, data and padding). */
async function membersOf(bytes: Uint8Array): Promise<{ members: Member[]; trailer: Buffer }> {
  const members: Member[] = []
  const trailer: Uint8Array[] = []
  async function* one() {
    yield bytes
  }
  for await (const event of readTar(one())) {
    const last = members[members.length - 1]
    if (event.kind === "entry") {
      members.push({
        entry: event.entry,
        raw: Buffer.concat(event.header),
        content: Buffer.alloc(0),
      })
    } else if (event.kind === "trailer") trailer.push(event.bytes)
    else if (last) {
      last.raw = Buffer.concat([last.raw, event.bytes])
      if (event.kind === "data") last.content = Buffer.concat([last.content, event.bytes])
    }
  }
  return { members, trailer: Buffer.concat(trailer) }
}

async function rewrite(input: Uint8Array, credentials: Credentials) {
  const report: RewriteReport = { entries: 0, replaced: [], added: [], dropped: [] }
  async function* one() {
    yield input
  }
  const parts: Uint8Array[] = []
  for await (const bytes of rewriteCredentials(readTar(one()), credentials, report)) {
    parts.push(bytes.slice())
  }
  const out = Buffer.concat(parts)
  return { out, report, ...(await membersOf(out)) }
}

describe("rewriteCredentials()", () => {
  test("replaces passwdfile in place, byte-exact and mode 0600, and copies the rest verbatim", async () => {
    const input = await tarOf([
      ["a.txt", "A"],
      ["./passwdfile", "old"],
      ["z/", undefined],
    ])
    const before = await membersOf(input)
    const after = await rewrite(input, { password: PASSWORD })
    expect(after.members.map((m) => m.entry.name)).toEqual(["a.txt", "./passwdfile", "z/"])
    const pw = after.members[1] as Member
    expect(pw.content.equals(Buffer.from(PASSWORD))).toBe(true)
    expect(pw.entry.mode).toBe(0o600)
    expect([pw.entry.uid, pw.entry.gid, pw.entry.uname, pw.entry.mtime]).toEqual([
      1234,
      99,
      "alice",
      1_600_000_000,
    ])
    expect(after.members[0]?.raw.equals(before.members[0]?.raw as Buffer)).toBe(true)
    expect(after.members[2]?.raw.equals(before.members[2]?.raw as Buffer)).toBe(true)
    expect(after.trailer.equals(before.trailer)).toBe(true)
    expect(after.report).toEqual({ entries: 3, replaced: ["./passwdfile"], added: [], dropped: [] })
  })

  test("drops later copies of passwdfile, which tar would extract over the new one", async () => {
    const input = await tarOf([
      ["passwdfile", "one"],
      ["b", "B"],
      ["passwdfile", "two"],
    ])
    const { members, report } = await rewrite(input, { password: PASSWORD })
    expect(members.map((m) => m.entry.name)).toEqual(["passwdfile", "b"])
    expect(report.dropped).toEqual(["passwdfile"])
  })

  test("adds passwdfile before the end-of-archive blocks when there is none", async () => {
    const input = await tarOf([["a", "A"]])
    const { members, trailer, report } = await rewrite(input, { password: PASSWORD })
    expect(members.map((m) => [m.entry.name, m.entry.mode, m.entry.uid])).toEqual([
      ["a", 0o644, 1234],
      ["passwdfile", 0o600, 0],
    ])
    expect(trailer.length).toBe(10240)
    expect(report.added).toEqual(["passwdfile"])
  })

  test("ends the archive properly when the input had no end-of-archive blocks", async () => {
    const input = await tarOf([["a", "A"]], false)
    const { out, members } = await rewrite(input, { password: PASSWORD })
    expect(members.map((m) => m.entry.name)).toEqual(["a", "passwdfile"])
    expect(out.subarray(out.length - 1024).every((b) => b === 0)).toBe(true)
  })

  test("puts the token after tokens.d/ and drops the tokens that were there", async () => {
    const input = await tarOf([
      ["tokens.d/", undefined, { mode: 0o700 }],
      ["tokens.d/old.token", "x.y.z"],
      ["tokens.d/glidein.token", "a.b.c"],
      ["y", "Y"],
    ])
    const { members, report } = await rewrite(input, { token: TOKEN })
    expect(members.map((m) => m.entry.name)).toEqual(["tokens.d/", "tokens.d/glidein.token", "y"])
    expect(members[1]?.content.equals(Buffer.from(TOKEN))).toBe(true)
    expect(members[1]?.entry.mode).toBe(0o600)
    expect(report).toEqual({
      entries: 4,
      replaced: ["tokens.d/glidein.token"],
      added: [],
      dropped: ["tokens.d/old.token"],
    })
  })

  test("puts the token where the first token was when tokens.d/ has no member of its own", async () => {
    const input = await tarOf([
      ["a", "A"],
      ["./tokens.d/pool", "x.y.z"],
      ["b", "B"],
    ])
    const { members } = await rewrite(input, { token: TOKEN })
    expect(members.map((m) => m.entry.name)).toEqual(["a", "./tokens.d/glidein.token", "b"])
  })

  test("adds tokens.d/ (mode 0700) and the token when there is neither", async () => {
    const input = await tarOf([["a", "A"]])
    const { members, report } = await rewrite(input, { token: TOKEN, password: PASSWORD })
    expect(members.map((m) => [m.entry.name, m.entry.mode])).toEqual([
      ["a", 0o644],
      ["passwdfile", 0o600],
      ["tokens.d/", 0o700],
      ["tokens.d/glidein.token", 0o600],
    ])
    expect(report.added).toEqual(["passwdfile", "tokens.d/", "tokens.d/glidein.token"])
  })

  test("leaves tokens alone when only a password is given, and the other way round", async () => {
    const input = await tarOf([
      ["tokens.d/", undefined],
      ["tokens.d/t", "x.y.z"],
      ["passwdfile", "p"],
    ])
    const one = await rewrite(input, { password: PASSWORD })
    expect(one.members.map((m) => m.entry.name)).toEqual(["tokens.d/", "tokens.d/t", "passwdfile"])
    const two = await rewrite(input, { token: TOKEN })
    expect(two.members.map((m) => m.entry.name)).toEqual([
      "tokens.d/",
      "tokens.d/glidein.token",
      "passwdfile",
    ])
    expect(two.members[2]?.content.toString()).toBe("p")
  })

  test("refuses an archive whose passwdfile is a directory", async () => {
    const input = await tarOf([["passwdfile/", undefined]])
    await expect(rewrite(input, { password: PASSWORD })).rejects.toThrow(
      'member "passwdfile/" is a directory',
    )
  })
})
