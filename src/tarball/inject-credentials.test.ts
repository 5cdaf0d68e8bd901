import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { linkSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs"
import path from "node:path"
import { gzipSync } from "node:zlib"
import { buildTarball } from "./build-tarball.ts"
import { tarballCollector } from "./collector.ts"
import { injectCredentials } from "./inject-credentials.ts"
import { inspectTarball } from "./inspect-tarball.ts"
import { readTar, type TarEvent } from "./tar-reader.ts"
import {
  makeSparse,
  makeTree,
  put,
  removeTempDirs,
  run,
  standInInstall,
  tarListing,
  tarMember,
  tarNames,
  tempDir,
} from "./test-support.ts"

const PASSWORD = Uint8Array.of(0xde, 0xad, 0xbe, 0xef, 0x00, 0x41, 0x00, 0xff, 0x0a)
const TOKEN = new TextEncoder().encode(
  "eyJhbGciOiJIUzI1NiIsImtpZCI6IlBPT0wifQ.eyJzdWIiOiJnbGlkZWluQHBvb2wifQ.c2ln\n",
)

let dir: string
beforeAll(() => {
  dir = tempDir()
  makeTree(path.join(dir, "src/tree"))
  put(path.join(dir, "src/tree/passwdfile"), "old password", 0o644)
})
afterAll(removeTempDirs)

/** `tar tvzf --numeric-owner` lines of the members that are not credentials. */
function listingWithout(file: string, ...names: string[]): string[] {
  return tarListing(file).filter((line) => !names.some((n) => line.endsWith(` ${n}`)))
}

/** Raw bytes (headers, data, padding) of each member, by name, from our reader. */
async function rawMembers(file: string): Promise<Map<string, Buffer>> {
  const members = new Map<string, Buffer>()
  const gunzip = Bun.spawn(["gzip", "-dc", file]).stdout as AsyncIterable<Uint8Array>
  let name = ""
  for await (const event of readTar(gunzip) as AsyncIterable<TarEvent>) {
    if (event.kind === "entry") {
      name = event.entry.name
      members.set(name, Buffer.concat(event.header))
    } else if (event.kind !== "trailer") {
      members.set(name, Buffer.concat([members.get(name) as Buffer, event.bytes]))
    }
  }
  return members
}

function leftovers(where: string): string[] {
  return readdirSync(where).filter((n) => n.endsWith(".tmp"))
}

describe("injectCredentials()", () => {
  for (const [label, flags, members, pw] of [
    ["GNU", ["--format=gnu", "--owner=big:3000000", "--group=huge:4000000"], ["."], "./passwdfile"],
    ["pax", ["--format=posix", "--owner=alice:1234"], ["dir", "passwdfile", "long"], "passwdfile"],
  ] as const) {
    test(`changes only passwdfile in a ${label} archive: tar tvzf and every member's bytes agree`, async () => {
      const input = path.join(dir, `${label}.tar.gz`)
      run(["tar", "czf", input, ...flags, "-C", path.join(dir, "src/tree"), ...members])
      const output = path.join(dir, `${label}-out.tar.gz`)
      const report = await injectCredentials({ input, output, credentials: { password: PASSWORD } })

      expect(report.replaced).toEqual([pw])
      expect(listingWithout(output, pw)).toEqual(listingWithout(input, pw))
      const line = tarListing(output).find((l) => l.endsWith(` ${pw}`)) ?? ""
      expect(line.startsWith("-rw------- ")).toBe(true)
      expect(tarMember(output, pw).equals(Buffer.from(PASSWORD))).toBe(true)
      const before = await rawMembers(input)
      const after = await rawMembers(output)
      expect([...after.keys()]).toEqual([...before.keys()])
      for (const [name, bytes] of before) {
        if (name !== pw) expect(after.get(name)?.equals(bytes)).toBe(true)
      }
      expect(statSync(output).mode & 0o777).toBe(0o600)
      expect(leftovers(dir)).toEqual([])
    })
  }

  test("keeps file contents, modes and owners as on disk (tar --diff), adding a token", async () => {
    const input = path.join(dir, "dot.tar.gz")
    run(["tar", "czf", input, "--exclude=passwdfile", "-C", path.join(dir, "src/tree"), "."])
    const output = path.join(dir, "dot-out.tar.gz")
    const report = await injectCredentials({ input, output, credentials: { token: TOKEN } })
    expect(report.added).toEqual(["tokens.d/", "tokens.d/glidein.token"])
    // GNU tar compares every member with the tree it was made from: content, mode, owner, mtime
    run(["tar", "--diff", "-zf", output, "--exclude=tokens.d", "-C", path.join(dir, "src/tree")])
    expect(tarMember(output, "tokens.d/glidein.token").equals(Buffer.from(TOKEN))).toBe(true)
    const lines = tarListing(output)
    expect(lines.some((l) => l.startsWith("drwx------ ") && l.endsWith(" tokens.d/"))).toBe(true)
  })

  for (const [label, flags] of [
    ["GNU", ["--format=gnu"]],
    ["pax 1.0", ["--format=posix", "--sparse-version=1.0"]],
  ] as const) {
    test(`keeps a ${label} sparse member of 9 GiB as it was`, async () => {
      const where = tempDir()
      makeSparse(path.join(where, "huge.img"))
      put(path.join(where, "small"), "small")
      const input = path.join(where, "in.tar.gz")
      run(["tar", "czf", input, "--sparse", ...flags, "-C", where, "huge.img", "small"])
      const output = path.join(where, "out.tar.gz")
      await injectCredentials({ input, output, credentials: { password: PASSWORD } })
      expect(listingWithout(output, "passwdfile")).toEqual(tarListing(input))
      expect(tarListing(output)[0]).toContain(` ${9 * 2 ** 30} `)
      const before = await rawMembers(input)
      const after = await rawMembers(output)
      expect(after.get("huge.img")?.equals(before.get("huge.img") as Buffer)).toBe(true)
    })
  }

  test.skipIf(!process.env.GLIDEIN_SLOW_TESTS)(
    "copies a 9 GiB member stored in full (set GLIDEIN_SLOW_TESTS=1; takes minutes)",
    async () => {
      const where = tempDir()
      makeSparse(path.join(where, "huge.img"))
      const input = path.join(where, "in.tar.gz")
      run(["tar", "czf", input, "--format=gnu", "-C", where, "huge.img"]) // no --sparse
      const output = path.join(where, "out.tar.gz")
      await injectCredentials({ input, output, credentials: { password: PASSWORD } })
      expect(listingWithout(output, "passwdfile")).toEqual(tarListing(input))
    },
    30 * 60_000,
  )

  test("replaces the input only with inPlace, atomically", async () => {
    const input = path.join(dir, "inplace.tar.gz")
    run(["tar", "czf", input, "-C", path.join(dir, "src"), "tree/dir/file.txt"])
    const inode = statSync(input).ino
    await injectCredentials({
      input,
      output: input,
      inPlace: true,
      credentials: { password: PASSWORD },
    })
    expect(statSync(input).ino).not.toBe(inode)
    expect(statSync(input).mode & 0o777).toBe(0o600)
    expect(tarMember(input, "passwdfile").equals(Buffer.from(PASSWORD))).toBe(true)
  })

  test("refuses to write over its input, however the output is spelled", async () => {
    const input = path.join(dir, "same.tar.gz")
    run(["tar", "czf", input, "-C", path.join(dir, "src"), "tree/dir/file.txt"])
    symlinkSync(input, path.join(dir, "same-link.tar.gz"))
    linkSync(input, path.join(dir, "same-hard.tar.gz"))
    const before = readFileSync(input)
    for (const output of [
      input,
      path.join(dir, ".", "same.tar.gz"),
      path.join(dir, "same-link.tar.gz"),
      path.join(dir, "same-hard.tar.gz"),
    ]) {
      await expect(
        injectCredentials({ input, output, credentials: { password: PASSWORD } }),
      ).rejects.toThrow("is the input tarball; use --in-place")
    }
    expect(readFileSync(input).equals(before)).toBe(true)
  })

  test("refuses an input that is not gzip, or gzip without a tar inside, leaving nothing", async () => {
    const plain = path.join(dir, "plain.tar")
    run(["tar", "cf", plain, "-C", path.join(dir, "src"), "tree/dir/file.txt"])
    const out = path.join(dir, "never.tar.gz")
    await expect(
      injectCredentials({ input: plain, output: out, credentials: { password: PASSWORD } }),
    ).rejects.toThrow(`"${plain}" is not a gzip file`)
    const text = path.join(dir, "text.gz")
    writeFileSync(text, gzipSync(Buffer.from("not a tar archive at all\n".repeat(100))))
    await expect(
      injectCredentials({ input: text, output: out, credentials: { password: PASSWORD } }),
    ).rejects.toThrow(`"${text}": it does not contain a tar archive`)
    expect(() => statSync(out)).toThrow()
    expect(leftovers(dir)).toEqual([])
  })

  test("reports damaged gzip data and removes the temporary file", async () => {
    const input = path.join(dir, "big.tar.gz")
    run(["tar", "czf", input, "-C", path.join(dir, "src"), "tree"])
    const cut = path.join(dir, "cut.tar.gz")
    const bytes = readFileSync(input)
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)))
    const out = path.join(dir, "cut-out.tar.gz")
    await expect(
      injectCredentials({ input: cut, output: out, credentials: { password: PASSWORD } }),
    ).rejects.toThrow(`"${cut}": the gzip data is damaged`)
    expect(() => statSync(out)).toThrow()
    expect(leftovers(dir)).toEqual([])
  })

  test("stops when aborted and leaves no output", async () => {
    const input = path.join(dir, "abort.tar.gz")
    run(["tar", "czf", input, "-C", path.join(dir, "src"), "tree"])
    const out = path.join(dir, "abort-out.tar.gz")
    const controller = new AbortController()
    controller.abort()
    await expect(
      injectCredentials({
        input,
        output: out,
        credentials: { password: PASSWORD },
        signal: controller.signal,
      }),
    ).rejects.toThrow("interrupted; no output was written")
    expect(() => statSync(out)).toThrow()
    expect(leftovers(dir)).toEqual([])
  })

  test("says so when the output directory cannot be written", async () => {
    const input = path.join(dir, "nowhere.tar.gz")
    run(["tar", "czf", input, "-C", path.join(dir, "src"), "tree/dir/file.txt"])
    await expect(
      injectCredentials({
        input,
        output: path.join(dir, "no/such/dir/out.tar.gz"),
        credentials: { password: PASSWORD },
      }),
    ).rejects.toThrow(/cannot write ".*out\.tar\.gz": no such file/)
  })
})

describe("injectCredentials() --collector", () => {
  test("puts COLLECTOR first, where glidein submit reads it, and replaces an older one", async () => {
    const where = tempDir()
    const input = path.join(where, "glidein.tar.gz")
    await buildTarball({
      condor: standInInstall(path.join(where, "condor")),
      output: input,
      credentials: {},
      version: "test",
    })
    expect(tarballCollector(input)).toBeUndefined()
    const once = path.join(where, "once.tar.gz")
    const first = await injectCredentials({
      input,
      output: once,
      credentials: {},
      collector: "cm.example.org:9618",
    })
    expect(first.added).toEqual(["COLLECTOR"])
    expect(tarNames(once)[0]).toBe("COLLECTOR")
    expect(tarballCollector(once)).toBe("cm.example.org:9618")
    const twice = path.join(where, "twice.tar.gz")
    const second = await injectCredentials({
      input: once,
      output: twice,
      credentials: {},
      collector: "other.example.org",
    })
    expect(second).toMatchObject({ added: [], replaced: ["COLLECTOR"], dropped: [] })
    expect(tarNames(twice).filter((n) => n === "COLLECTOR")).toHaveLength(1)
    const report = await inspectTarball(twice)
    expect(report.collector).toBe("other.example.org")
    expect(report.manifest.status).toBe("verified")
  })
})
