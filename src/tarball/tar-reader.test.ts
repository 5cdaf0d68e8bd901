import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { readFileSync } from "node:fs"
import path from "node:path"
import { BLOCK, type TarEntry, TarFormatError } from "./tar-header.ts"
import { readTar, type TarEvent } from "./tar-reader.ts"
import {
  makeSparse,
  makeTree,
  paxRecord,
  rawHeader,
  removeTempDirs,
  run,
  tempDir,
} from "./test-support.ts"

/** Feeds `bytes` to readTar in chunks of `size` bytes (the last may be shorter). */
async function events(bytes: Uint8Array, size = 65536): Promise<TarEvent[]> {
  async function* chunks() {
    for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size)
  }
  const out: TarEvent[] = []
  for await (const event of readTar(chunks())) {
    // data views point into the chunk; copy so the list can be kept
    if (event.kind === "entry") out.push(event)
    else out.push({ kind: event.kind, bytes: event.bytes.slice() })
  }
  return out
}

function entries(list: TarEvent[]): TarEntry[] {
  return list.flatMap((e) => (e.kind === "entry" ? [e.entry] : []))
}

/** Every byte the reader yielded, in order. */
function reassemble(list: TarEvent[]): Buffer {
  return Buffer.concat(list.flatMap((e) => (e.kind === "entry" ? e.header : [e.bytes])))
}

const TYPE_CHAR: Record<string, string> = {
  file: "-",
  sparse: "-",
  directory: "d",
  symlink: "l",
  link: "h",
  fifo: "p",
}

/** Our entries printed like `tar tv --numeric-owner` (whitespace collapsed). */
function listLike(entry: TarEntry): string {
  const bits = "rwxrwxrwx"
  let perms = [...bits].map((c, i) => (entry.mode & (0o400 >> i) ? c : "-")).join("")
  const set = (i: number, on: boolean, lower: string, upper: string) => {
    if (!on) return
    perms = perms.slice(0, i) + (perms[i] === "-" ? upper : lower) + perms.slice(i + 1)
  }
  set(2, (entry.mode & 0o4000) !== 0, "s", "S")
  set(5, (entry.mode & 0o2000) !== 0, "s", "S")
  set(8, (entry.mode & 0o1000) !== 0, "t", "T")
  const size = entry.type === "file" || entry.type === "sparse" ? entry.realSize : 0
  const when = new Date(entry.mtime * 1000).toISOString().replace("T", " ").slice(0, 19)
  const link =
    entry.type === "symlink"
      ? ` -> ${entry.linkname}`
      : entry.type === "link"
        ? ` link to ${entry.linkname}`
        : ""
  return `${TYPE_CHAR[entry.type] ?? "?"}${perms} ${entry.uid}/${entry.gid} ${size} ${when} ${entry.name}${link}`
}

function gnuListing(tarFile: string): string[] {
  const out = Bun.spawnSync(
    ["tar", "tvf", tarFile, "--numeric-owner", "--full-time", "--quoting-style=literal"],
    { env: { TZ: "UTC", PATH: process.env.PATH ?? "/usr/bin:/bin" } },
  )
  return out.stdout
    .toString()
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => l.replace(/\s+/g, " ").replace(/(\d\d:\d\d:\d\d)\.\d+/, "$1")) // pax keeps ns
}

let dir: string
beforeAll(() => {
  dir = tempDir()
  makeTree(path.join(dir, "tree"))
})
afterAll(removeTempDirs)

describe("readTar()", () => {
  for (const format of ["gnu", "oldgnu", "posix", "ustar"] as const) {
    test(`lists a ${format} archive exactly as GNU tar does, and keeps every byte`, async () => {
      const file = path.join(dir, `${format}.tar`)
      const big = format === "ustar" ? [] : ["--owner=big:3000000", "--group=huge:4000000"]
      const members = format === "ustar" ? ["tree/dir"] : ["tree"]
      run(["tar", "cf", file, `--format=${format}`, ...big, "-C", dir, ...members])
      const bytes = readFileSync(file)
      const list = await events(bytes)
      expect(entries(list).map(listLike)).toEqual(gnuListing(file))
      expect(reassemble(list).equals(bytes)).toBe(true)
    })
  }

  test("gives the same events whatever the chunk sizes", async () => {
    const file = path.join(dir, "chunks.tar")
    run(["tar", "cf", file, "--format=posix", "-C", dir, "tree"])
    const bytes = readFileSync(file)
    const whole = await events(bytes, bytes.length)
    for (const size of [1, 7, 511, 513, 4096]) {
      const list = await events(bytes, size)
      expect(entries(list)).toEqual(entries(whole))
      expect(reassemble(list).equals(bytes)).toBe(true)
    }
  })

  for (const [label, flags] of [
    ["GNU", ["--format=gnu"]],
    ["pax 0.0", ["--format=posix"]],
    ["pax 1.0", ["--format=posix", "--sparse-version=1.0"]],
  ] as const) {
    test(`reads a ${label} sparse member larger than 8 GiB and keeps its map`, async () => {
      const sparse = makeSparse(path.join(dir, `sparse-${label.replace(/\W/g, "")}`))
      const file = `${sparse}.tar`
      run([
        "tar",
        "cf",
        file,
        "--sparse",
        ...flags,
        "-C",
        path.dirname(sparse),
        path.basename(sparse),
      ])
      const bytes = readFileSync(file)
      const list = await events(bytes, 1000)
      const [entry] = entries(list)
      expect(entry?.name).toBe(path.basename(sparse))
      expect(entry?.realSize).toBe(9 * 2 ** 30)
      expect(entry?.size).toBeLessThan(2 ** 20)
      expect(reassemble(list).equals(bytes)).toBe(true)
    })
  }

  test("refuses input that is not a tar archive", async () => {
    const junk = new TextEncoder().encode("just some text, certainly not a tar header\n".repeat(20))
    await expect(events(junk)).rejects.toThrow("it does not contain a tar archive")
  })

  test("says where a damaged header is", async () => {
    const file = path.join(dir, "damaged.tar")
    run(["tar", "cf", file, "--format=gnu", "-C", dir, "tree/dir/file.txt", "tree/dir/empty"])
    const bytes = readFileSync(file)
    bytes[2 * BLOCK + 10] = (bytes[2 * BLOCK + 10] ?? 0) ^ 0xff // the second member's header
    await expect(events(bytes)).rejects.toThrow("bad header checksum")
  })

  test("refuses a truncated archive", async () => {
    const file = path.join(dir, "whole.tar")
    run(["tar", "cf", file, "-C", dir, "tree/dir/big.bin"])
    const bytes = readFileSync(file)
    await expect(events(bytes.subarray(0, 5000))).rejects.toThrow("the archive is truncated")
  })

  test("accepts an archive without the end-of-archive blocks", async () => {
    const file = path.join(dir, "noend.tar")
    run(["tar", "cf", file, "-C", dir, "tree/dir/file.txt"])
    const bytes = readFileSync(file)
    const body = bytes.subarray(0, 2 * BLOCK) // header and one data block, nothing after
    const list = await events(body)
    expect(entries(list).map((e) => e.name)).toEqual(["tree/dir/file.txt"])
    expect(list.some((e) => e.kind === "trailer")).toBe(false)
  })

  describe("on a hostile archive, refuses what it would have to hold in memory", () => {
    /** Reads `parts` (produced lazily) to the end or the error; says how many bytes it took. */
    async function readLazily(
      parts: Iterable<Uint8Array>,
    ): Promise<{ error: unknown; read: number }> {
      let read = 0
      async function* source() {
        for (const part of parts) {
          read += part.length
          yield part
        }
      }
      try {
        for await (const _ of readTar(source())) {
          // nothing kept: only the reader's own buffers count
        }
        return { error: undefined, read }
      } catch (error) {
        return { error, read }
      }
    }

    /** `count` metadata headers of type `flag`, `size` bytes of payload each, then one file. */
    function* chain(flag: string, count: number, size: number): Generator<Uint8Array> {
      const record = new TextEncoder().encode(paxRecord("path", "condor/sbin/condor_master"))
      const payload = new Uint8Array(Math.ceil(size / BLOCK) * BLOCK)
      payload.set(flag === "x" ? record : new TextEncoder().encode("condor/sbin/condor_master"))
      for (let i = 0; i < count; i++) {
        yield rawHeader({ name: "././@PaxHeader", type: flag, size })
        yield payload
      }
      yield rawHeader({ name: "condor/sbin/condor_master", type: "0" })
      yield new Uint8Array(2 * BLOCK)
    }

    for (const flag of ["x", "L", "K"]) {
      test(`refuses a chain of more than 8 "${flag}" headers before one member`, async () => {
        const { error, read } = await readLazily(chain(flag, 1000, 100))
        expect(error).toBeInstanceOf(TarFormatError)
        expect((error as TarFormatError).message).toBe(
          "more than 8 pax or GNU long-name headers before one member",
        )
        expect((error as TarFormatError).offset).toBe(0)
        expect(read).toBeLessThan(10 * 2 * BLOCK)
      })
    }

    test("refuses pax headers of more than 1 MiB in all before one member, having read little more", async () => {
      // 64 headers of 512 KiB: what a 1.7 MB .tar.gz holding 2 GB of them did, scaled down
      const { error, read } = await readLazily(chain("x", 64, 512 * 1024))
      expect(error).toBeInstanceOf(TarFormatError)
      expect((error as TarFormatError).message).toBe(
        "the headers before one member hold more than 1 MiB",
      )
      expect(read).toBeLessThan(2 * 512 * 1024 + 2 * BLOCK)
    })

    test("refuses a GNU sparse member whose extension blocks go on past 1 MiB", async () => {
      const header = rawHeader({ name: "condor/lib/libsparse.so", type: "S", extended: true })
      const extension = new Uint8Array(BLOCK)
      extension[504] = 1 // and another one after this
      function* parts() {
        yield header
        for (let i = 0; i < 100_000; i++) yield extension
      }
      const { error, read } = await readLazily(parts())
      expect((error as TarFormatError).message).toBe(
        "the headers before one member hold more than 1 MiB",
      )
      expect(read).toBeLessThanOrEqual(1024 * 1024 + BLOCK)
    })

    test("refuses a member name or link target longer than PATH_MAX, which readers would keep", async () => {
      for (const key of ["path", "linkpath"]) {
        const record = new TextEncoder().encode(paxRecord(key, "a".repeat(4097)))
        const parts = [
          rawHeader({ name: "PaxHeader", type: "x", size: record.length }),
          record,
          rawHeader({ name: "condor/lib/libx.so", type: "2", linkname: "libx.so.1" }),
          new Uint8Array(2 * BLOCK),
        ].map((p) => {
          const padded = new Uint8Array(Math.ceil(p.length / BLOCK) * BLOCK)
          padded.set(p)
          return padded
        })
        const { error } = await readLazily(parts)
        expect((error as TarFormatError).message).toBe(
          `member ${key === "path" ? "name" : "link target"} of 4097 bytes is longer than PATH_MAX (4096)`,
        )
      }
    })
  })
})
