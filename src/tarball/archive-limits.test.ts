/**
 * The bounds on one archive, through openArchive: the member past a bound is refused from its
 * header, so the reader neither yields it nor reads what follows (a damaged header there would
 * otherwise be the error).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import path from "node:path"
import { ArchiveLimitError, type ArchiveLimits } from "./archive-limits.ts"
import { openArchive } from "./read-archive.ts"
import {
  DAMAGED_HEADER,
  gzipTar,
  manyMembers,
  rawHeader,
  removeTempDirs,
  tempDir,
} from "./test-support.ts"

let dir: string
beforeAll(() => {
  dir = tempDir()
})
afterAll(removeTempDirs)

/** Reads `parts` as a .tar.gz with `limits`: the members yielded and the error, if any. */
async function read(
  name: string,
  parts: Uint8Array[],
  limits: Partial<ArchiveLimits>,
): Promise<{ members: string[]; error: unknown }> {
  const file = path.join(dir, `${name}.tar.gz`)
  await Bun.write(file, gzipTar(parts))
  const members: string[] = []
  const archive = await openArchive(file, { limits })
  try {
    for await (const event of archive.events) {
      if (event.kind === "entry") members.push(event.entry.name)
    }
    return { members, error: undefined }
  } catch (error) {
    return { members, error }
  } finally {
    archive.close()
  }
}

describe("limitArchive()", () => {
  test("refuses the member past maxMembers and reads nothing after it", async () => {
    const { members, error } = await read("members", [...manyMembers(11), DAMAGED_HEADER], {
      maxMembers: 10,
    })
    expect(members).toHaveLength(10)
    expect(error).toBeInstanceOf(ArchiveLimitError)
    expect((error as Error).message).toBe(
      "more than 10 members (no glidein tarball or HTCondor release has that many); refusing it",
    )
  })

  test("lets an archive of exactly maxMembers through", async () => {
    const { members, error } = await read("exact", manyMembers(10), { maxMembers: 10 })
    expect(error).toBeUndefined()
    expect(members).toHaveLength(10)
  })

  test("refuses the member whose name takes the names past maxNameBytes", async () => {
    // names of 1000 bytes: the fifth goes past 4 KiB
    const { members, error } = await read("names", [...manyMembers(5, 1000), DAMAGED_HEADER], {
      maxNameBytes: 4096,
    })
    expect(members).toHaveLength(4)
    expect((error as Error).message).toBe(
      "member names and link targets of more than 4 KiB in all (no glidein tarball or HTCondor release has that much); refusing it",
    )
  })

  test("counts link targets with the names", async () => {
    const links = [1, 2, 3].map((i) =>
      rawHeader({ name: `l${i}`, type: "2", linkname: "t".repeat(99) }),
    )
    const { members, error } = await read("links", [...links, DAMAGED_HEADER], {
      maxNameBytes: 250,
    })
    expect(members).toEqual(["l1", "l2"])
    expect(error).toBeInstanceOf(ArchiveLimitError)
  })

  test("refuses the member whose header takes the content past maxContentBytes, before its payload", async () => {
    // two members of 40 KiB fit in 100 KiB; the third's header is refused, its payload unread
    const parts = manyMembers(3, 16, 40 * 1024)
    parts.splice(parts.length - 1, 1, DAMAGED_HEADER)
    const { members, error } = await read("content", parts, { maxContentBytes: 100 * 1024 })
    expect(members).toHaveLength(2)
    expect((error as Error).message).toBe(
      "it would unpack to more than 100 KiB (an HTCondor release unpacks to a few hundred MB; a gzip bomb?); refusing it",
    )
  })

  test("puts no bound on content unless asked: readers stream it", async () => {
    const parts = [...manyMembers(1, 16, 0), rawHeader({ name: "big", type: "0", size: 2 ** 33 })]
    const { members, error } = await read("unbounded", parts, {})
    expect(members).toHaveLength(2)
    expect((error as Error).message).toBe("the archive is truncated")
  })
})
