/**
 * Unpacking release tarballs that someone tampered with: each is refused in one line that names
 * the member, and nothing outside the unpack root is written, linked or read.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs"
import path from "node:path"
import { runGlidein } from "../test-support.ts"
import { buildTarball } from "./build-tarball.ts"
import { encodeEntry, type NewEntry } from "./encode-entry.ts"
import {
  DAMAGED_HEADER,
  gzipTar,
  manyMembers,
  put,
  rawHeader,
  removeTempDirs,
  run,
  tempDir,
} from "./test-support.ts"
import { unpackRelease } from "./unpack-release.ts"

/** Bytes of a private key outside the unpack root; they must never reach an archive. */
const SECRET = "SECRET-ssh-key-3b9e"

let dir: string
/** A directory outside the unpack root that hostile archives aim at; it must stay empty. */
let outside: string
/** A readable private file outside the unpack root. */
let secret: string
beforeAll(() => {
  dir = tempDir()
  outside = path.join(dir, "outside")
  mkdirSync(outside)
  secret = path.join(dir, "home/.ssh/id_rsa")
  put(secret, SECRET, 0o600)
})
afterAll(removeTempDirs)

/** The daemons a build needs, so that only the hostile members can make it fail. */
const DAEMONS = ["condor_master", "condor_startd", "condor_starter"]

/** A release tarball of the daemons followed by `members` (entry, and content for files). */
async function release(
  name: string,
  members: [NewEntry, string?][],
): Promise<{ file: string; dest: string }> {
  const daemons: [NewEntry, string][] = DAEMONS.map((d) => [
    { name: `condor-1/sbin/${d}`, type: "file", mode: 0o755, mtime: 0 },
    "#!/bin/sh\n",
  ])
  const parts: Uint8Array[] = []
  for (const [entry, content] of [...daemons, ...members]) {
    parts.push(await encodeEntry(entry, content === undefined ? undefined : Buffer.from(content)))
  }
  return save(name, gzipTar(parts))
}

/** Writes a .tar.gz and makes an empty directory to unpack it into. */
async function save(name: string, archive: Uint8Array): Promise<{ file: string; dest: string }> {
  const file = path.join(dir, `${name}.tar.gz`)
  await Bun.write(file, archive)
  const dest = path.join(dir, `${name}-unpacked`)
  mkdirSync(dest)
  return { file, dest }
}

const symlink = (name: string, linkname: string): [NewEntry] => [
  { name, type: "symlink", linkname, mode: 0o777, mtime: 0 },
]
const directory = (name: string): [NewEntry] => [{ name, type: "directory", mode: 0o755, mtime: 0 }]
const file = (name: string, content = "x"): [NewEntry, string] => [
  { name, type: "file", mode: 0o644, mtime: 0 },
  content,
]
const hardLink = (name: string, linkname: string): [NewEntry] => [
  { name, type: "link", linkname, mode: 0o644, mtime: 0 },
]

/** Every path under `root`, relative, sorted. */
function tree(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: "utf8" }).sort()
}

describe("unpackRelease()", () => {
  test("unpacks a whole 9.0-and-later release: usr/, the top-level links, hard links", async () => {
    const top = path.join(dir, "src/condor-24.0.0-x86_64_AlmaLinux9-stripped")
    put(path.join(top, "usr/sbin/condor_master"), "master", 0o755)
    put(path.join(top, "usr/bin/condor_config_val"), "tool", 0o755)
    put(path.join(top, "usr/lib64/libcondor_utils.so"), "lib", 0o755)
    put(path.join(top, "usr/libexec/condor/curl_plugin"), "plugin", 0o755)
    put(path.join(top, "usr/share/man/man1/condor_master.1"), "manual")
    put(path.join(top, "etc/condor/condor_config"), "config")
    run([
      "ln",
      path.join(top, "usr/libexec/condor/curl_plugin"),
      path.join(top, "usr/libexec/condor/data_plugin"),
    ])
    for (const [target, link] of [
      ["usr/bin", "bin"],
      ["usr/sbin", "sbin"],
      ["usr/lib", "lib"],
      ["usr/lib64", "lib64"],
      ["usr/libexec/condor", "libexec"],
      ["../lib64", "usr/libexec/lib64"],
    ]) {
      run(["ln", "-s", target as string, path.join(top, link as string)])
    }
    const { file: tarball, dest } = await save("modern", new Uint8Array(0))
    run(["tar", "czf", tarball, "-C", path.dirname(top), path.basename(top)])
    await unpackRelease(tarball, dest)
    const root = path.join(dest, path.basename(top))
    expect(tree(root)).toEqual(tree(top))
    expect(readFileSync(path.join(root, "sbin/condor_master"), "utf8")).toBe("master")
    const plugin = statSync(path.join(root, "libexec/curl_plugin"))
    expect(statSync(path.join(root, "libexec/data_plugin")).ino).toBe(plugin.ino)
    expect(lstatSync(path.join(root, "usr/libexec/lib64")).isSymbolicLink()).toBe(true)
  })

  test("refuses a symlink to a directory outside, so the directory and file members after it write nothing there", async () => {
    const { file: tarball, dest } = await release("dir-over-link", [
      symlink("condor-1/bin/x", outside),
      directory("condor-1/bin/x/"),
      file("condor-1/bin/x/evil"),
    ])
    await expect(unpackRelease(tarball, dest)).rejects.toThrow(
      `"${tarball}": refusing member "condor-1/bin/x"`,
    )
    expect(readdirSync(outside)).toEqual([])
  })

  test("refuses a directory member over a symlink that stays inside the root", async () => {
    const { file: tarball, dest } = await release("dir-over-inner-link", [
      directory("condor-1/lib/"),
      symlink("condor-1/bin/x", "../lib"),
      directory("condor-1/bin/x/"),
      file("condor-1/bin/x/evil"),
    ])
    await expect(unpackRelease(tarball, dest)).rejects.toThrow(
      `"${tarball}": refusing member "condor-1/bin/x/": it goes through the symlink "condor-1/bin/x"`,
    )
    expect(existsSync(path.join(dest, "condor-1/lib/evil"))).toBe(false)
  })

  test("refuses a symlink to ~/.ssh, so the hard link through it never brings the key into the glidein tarball", async () => {
    const { file: tarball } = await release("steal-key", [
      symlink("condor-1/bin/keys", path.dirname(secret)),
      hardLink("condor-1/lib/libkey.so", "condor-1/bin/keys/id_rsa"),
    ])
    const output = path.join(dir, "steal-key-glidein.tar.gz")
    const build = buildTarball({ condor: tarball, output, credentials: {}, version: "0.0.0-test" })
    await expect(build).rejects.toThrow(`"${tarball}": refusing member "condor-1/bin/keys"`)
    expect(existsSync(output)).toBe(false)
    expect(statSync(secret).nlink).toBe(1)
    expect(readdirSync(dir).filter((n) => n.startsWith(".glidein-condor-"))).toEqual([])
  })

  test("refuses a hard link through a symlink that stays inside the root", async () => {
    const { file: tarball, dest } = await release("link-through-inner-link", [
      symlink("condor-1/lib/keys", "../sbin"),
      hardLink("condor-1/lib/libkey.so", "condor-1/lib/keys/condor_master"),
    ])
    await expect(unpackRelease(tarball, dest)).rejects.toThrow(
      `"${tarball}": refusing member "condor-1/lib/libkey.so": its target "condor-1/lib/keys/condor_master" goes through the symlink "condor-1/lib/keys"`,
    )
  })

  test("refuses a hard link to a member that is not a file unpacked before it", async () => {
    for (const [label, linkname] of [
      ["later", "condor-1/lib/later.so"],
      ["directory", "condor-1/sbin"],
      ["outside", "../home/.ssh/id_rsa"],
      ["absolute", secret],
    ] as const) {
      const { file: tarball, dest } = await release(`hard-link-${label}`, [
        hardLink("condor-1/lib/libkey.so", linkname),
        file("condor-1/lib/later.so"),
      ])
      await expect(unpackRelease(tarball, dest)).rejects.toThrow(
        `"${tarball}": refusing member "condor-1/lib/libkey.so": `,
      )
      expect(statSync(secret).nlink).toBe(1)
    }
  })

  test("refuses a symlink that points outside the root, directly or by climbing", async () => {
    for (const [label, linkname] of [
      ["absolute", outside],
      ["climbing", "../../../outside"],
      ["back-up", "sbin/../../.."],
    ] as const) {
      const { file: tarball, dest } = await release(`symlink-${label}`, [
        symlink("condor-1/lib/away", linkname),
      ])
      await expect(unpackRelease(tarball, dest)).rejects.toThrow(
        `"${tarball}": refusing member "condor-1/lib/away": its target ${JSON.stringify(linkname)} `,
      )
    }
  })

  test("refuses a symlink that climbs back out through another symlink", async () => {
    // u resolves to condor-1, so v = u/.. would be the unpack root's parent, were it followed
    const { file: tarball, dest } = await release("symlink-chain", [
      symlink("condor-1/a/b/c/u", "../../.."),
      symlink("condor-1/v", "a/b/c/u/.."),
    ])
    await expect(unpackRelease(tarball, dest)).rejects.toThrow(
      `"${tarball}": refusing member "condor-1/v": `,
    )
  })

  test("refuses absolute names, '..' components, devices and fifos, and members given twice", async () => {
    const cases: [string, Uint8Array[], string][] = [
      ["absolute", [rawHeader({ name: "/tmp/glidein-evil", type: "0" })], "/tmp/glidein-evil"],
      ["dotdot", [rawHeader({ name: "condor-1/../../evil", type: "0" })], "condor-1/../../evil"],
      ["fifo", [rawHeader({ name: "condor-1/lib/pipe", type: "6" })], "condor-1/lib/pipe"],
      ["device", [rawHeader({ name: "condor-1/lib/disk", type: "4" })], "condor-1/lib/disk"],
      [
        "twice",
        [
          rawHeader({ name: "condor-1/lib/a", type: "0" }),
          rawHeader({ name: "condor-1/lib/a", type: "0" }),
        ],
        "condor-1/lib/a",
      ],
    ]
    for (const [label, blocks, member] of cases) {
      const { file: tarball, dest } = await save(`raw-${label}`, gzipTar(blocks))
      await expect(unpackRelease(tarball, dest)).rejects.toThrow(
        `"${tarball}": refusing member "${member}": `,
      )
    }
  })
})

describe("unpackRelease() bounds", () => {
  test("refuses a release past its member bound, having unpacked no member past it", async () => {
    const { file: tarball, dest } = await save("many", gzipTar([...manyMembers(6), DAMAGED_HEADER]))
    await expect(unpackRelease(tarball, dest, { limits: { maxMembers: 5 } })).rejects.toThrow(
      `"${tarball}": more than 5 members (no glidein tarball or HTCondor release has that many); refusing it`,
    )
    expect(readdirSync(dest).sort()).toEqual(["m0", "m1", "m2", "m3", "m4"])
  })

  test("refuses a release that would unpack past its byte bound, before writing the member past it", async () => {
    const { file: tarball, dest } = await save("large", gzipTar(manyMembers(3, 16, 40 * 1024)))
    await expect(
      unpackRelease(tarball, dest, { limits: { maxContentBytes: 100 * 1024 } }),
    ).rejects.toThrow(`"${tarball}": it would unpack to more than 100 KiB (`)
    expect(readdirSync(dest).sort()).toEqual(["m0", "m1"])
  })

  test("refuses a member of more than 8 GiB by default, from its header alone", async () => {
    // the payload is absent: reading on would end in "the archive is truncated"
    const { file: tarball, dest } = await save(
      "bomb",
      gzipTar([rawHeader({ name: "condor-1/lib/zeros", type: "0", size: 8 * 2 ** 30 + 1 })]),
    )
    await expect(unpackRelease(tarball, dest)).rejects.toThrow(
      `"${tarball}": it would unpack to more than 8 GiB (an HTCondor release unpacks to a few hundred MB; a gzip bomb?); refusing it`,
    )
    expect(readdirSync(dest)).toEqual([])
  })
})

describe("glidein tarball build --condor HOSTILE.tar.gz", () => {
  test("exits 1 with one line that names the member, and writes nothing outside", async () => {
    const { file: tarball } = await release("cli", [
      symlink("condor-1/bin/x", outside),
      directory("condor-1/bin/x/"),
      file("condor-1/bin/x/evil"),
    ])
    const r = runGlidein(["tarball", "build", "--condor", tarball, "-o", "out.tar.gz"], {
      cwd: dir,
    })
    expect(r.code).toBe(1)
    expect(r.stderr.trimEnd().split("\n")).toEqual([
      `glidein: "${tarball}": refusing member "condor-1/bin/x": its target ${JSON.stringify(outside)} points outside the archive`,
    ])
    expect(readdirSync(outside)).toEqual([])
  })

  test("exits 1 with one line naming the bound past which a release unpacks, leaving no output or unpacked files", async () => {
    const work = path.join(dir, "bomb-work")
    mkdirSync(work)
    // a few members are unpacked before the one that goes past the bound
    const { file: tarball } = await save(
      "cli-bomb",
      gzipTar([
        ...manyMembers(3, 16, 1000),
        rawHeader({ name: "condor-1/lib/zeros", type: "0", size: 8 * 2 ** 30 + 1 }),
      ]),
    )
    const r = runGlidein(["tarball", "build", "--condor", tarball, "-o", "out.tar.gz"], {
      cwd: work,
    })
    expect(r.code).toBe(1)
    expect(r.stderr.trimEnd().split("\n")).toEqual([
      `glidein: "${tarball}": it would unpack to more than 8 GiB (an HTCondor release unpacks to a few hundred MB; a gzip bomb?); refusing it`,
    ])
    expect(readdirSync(work)).toEqual([])
  })

  test("buildTarball() with a member bound leaves no output and no temporary directory", async () => {
    const work = path.join(dir, "many-work")
    mkdirSync(work)
    const { file: tarball } = await release("build-many", [
      file("condor-1/lib/a"),
      file("condor-1/lib/b"),
    ])
    const output = path.join(work, "glidein.tar.gz")
    await expect(
      buildTarball({
        condor: tarball,
        output,
        credentials: {},
        version: "0.0.0-test",
        limits: { maxMembers: 4 },
      }),
    ).rejects.toThrow(`"${tarball}": more than 4 members (`)
    expect(readdirSync(work)).toEqual([])
  })
})
