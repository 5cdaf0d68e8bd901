/**
 * Helpers for the tarball and runtime tests: temporary directories that clean up after
 * themselves, a stand-in HTCondor install, and `tar` run as the reference implementation.
 * Test-only; nothing in the product imports it.
 */
import {
  chmodSync,
  closeSync,
  ftruncateSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { buildTarball } from "./build-tarball.ts"

/** A pool password file's bytes, as condor_store_cred writes one (its first byte does not
 *  unscramble to NUL, so HTCondor reads a password). */
export const POOL_PASSWORD = Uint8Array.of(0x8e, 0xc4, 0x00, 0xd2, 0xde, 0xad)

/** Temporary directories: the project's shared test helpers. */
export { cleanUp as removeTempDirs, tempDir } from "../test-support.ts"

/** Writes `content` to `file` (creating parents) with `mode`. */
export function put(file: string, content: string | Uint8Array, mode = 0o644): void {
  mkdirSync(path.dirname(file), { recursive: true })
  writeFileSync(file, content)
  chmodSync(file, mode)
}

/** Runs a command (`stdin` fed to it); throws with its stderr when it fails. */
export function run(argv: string[], options: { cwd?: string; stdin?: Uint8Array } = {}): string {
  const result = Bun.spawnSync(argv, { cwd: options.cwd, stdin: options.stdin, stderr: "pipe" })
  if (!result.success) {
    throw new Error(`${argv.join(" ")} failed: ${result.stderr.toString()}`)
  }
  return result.stdout.toString()
}

/** `tar tvzf FILE --numeric-owner`, one line per member (GNU tar, the reference). */
export function tarListing(file: string): string[] {
  return lines(run(["tar", "tvzf", file, "--numeric-owner", "--full-time"]))
}

/** Member names as GNU tar lists them. */
export function tarNames(file: string): string[] {
  return lines(run(["tar", "tzf", file]))
}

/** Member names of a .tar.gz held in memory, as GNU tar lists them. */
export function tarNamesOf(archive: Uint8Array): string[] {
  return lines(run(["tar", "tzf", "-"], { stdin: archive }))
}

/** The bytes of one member, as GNU tar extracts them. */
export function tarMember(file: string, name: string): Buffer {
  return Buffer.from(Bun.spawnSync(["tar", "xzOf", file, name]).stdout)
}

/** The bytes of one member of a .tar.gz held in memory, as GNU tar extracts them. */
export function tarMemberOf(archive: Uint8Array, name: string): Buffer {
  return Buffer.from(Bun.spawnSync(["tar", "xzOf", "-", name], { stdin: archive }).stdout)
}

/** The non-empty lines of `text`. */
function lines(text: string): string[] {
  return text.split("\n").filter((line) => line !== "")
}

/**
 * A stand-in HTCondor install: sbin daemons (shell scripts), shared libraries with a symlink,
 * libexec helpers, bin tools, plus things a glidein does not need (schedd, python bindings,
 * a static library, man pages). `programs` replaces files by install path (executable).
 */
export function standInInstall(root: string, programs: Record<string, string> = {}): string {
  const script = (name: string) => `#!/bin/sh\necho "${name} $*"\n`
  put(path.join(root, "sbin/condor_master"), script("condor_master"), 0o755)
  for (const daemon of ["condor_startd", "condor_starter", "condor_procd", "condor_schedd"]) {
    put(path.join(root, "sbin", daemon), script(daemon), 0o755)
  }
  put(path.join(root, "lib/libcondor_utils_23_0_0.so"), "ELF utils", 0o755)
  symlinkSync("libcondor_utils_23_0_0.so", path.join(root, "lib/libcondor_utils.so"))
  put(path.join(root, "lib/condor/libssl.so.3"), "ELF ssl", 0o644)
  put(path.join(root, "lib/libclassad.a"), "static", 0o644)
  put(path.join(root, "lib/python3/htcondor/__init__.py"), "bindings", 0o644)
  put(path.join(root, "libexec/condor_gpu_discovery"), script("condor_gpu_discovery"), 0o755)
  put(path.join(root, "libexec/curl_plugin"), script("curl_plugin"), 0o755)
  linkSync(path.join(root, "libexec/curl_plugin"), path.join(root, "libexec/data_plugin"))
  put(path.join(root, "bin/condor_config_val"), script("condor_config_val"), 0o755)
  put(path.join(root, "bin/condor_tool"), script("condor_tool"), 0o755)
  symlinkSync("condor_tool", path.join(root, "bin/condor_status"))
  put(path.join(root, "bin/condor_submit"), script("condor_submit"), 0o755)
  put(path.join(root, "man/man1/condor_master.1"), "manual", 0o644)
  for (const [file, content] of Object.entries(programs)) put(path.join(root, file), content, 0o755)
  return root
}

/**
 * A tree with what archive rewrites must keep: modes 0600, 0700, setuid and sticky, an empty
 * file, a symlink and a hard link, a 700 KB file, a UTF-8 name, a path longer than 255 bytes
 * and a symlink target longer than 100 (the last two under long/, outside dir/, since ustar
 * cannot hold them).
 */
export function makeTree(root: string): string {
  put(path.join(root, "dir/file.txt"), "hello\n")
  put(path.join(root, "dir/empty"), "")
  put(path.join(root, "dir/secret"), "s3cret", 0o600)
  put(path.join(root, "dir/private/x"), "#!/bin/sh\n", 0o700)
  chmodSync(path.join(root, "dir/private"), 0o700)
  put(path.join(root, "dir/setuid-tool"), "tool", 0o4755)
  mkdirSync(path.join(root, "dir/sticky"))
  chmodSync(path.join(root, "dir/sticky"), 0o1777)
  symlinkSync("file.txt", path.join(root, "dir/link"))
  linkSync(path.join(root, "dir/file.txt"), path.join(root, "dir/hard"))
  const big = new Uint8Array(700_000)
  let x = 12345
  for (let i = 0; i < big.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    big[i] = i % 3 === 0 ? x >>> 24 : 65 + (i % 26)
  }
  put(path.join(root, "dir/big.bin"), big)
  put(path.join(root, "dir/grüße.txt"), "utf-8 name")
  put(path.join(root, `long/${"a".repeat(120)}/${"b".repeat(150)}`), "deep")
  symlinkSync(`${"t".repeat(150)}/target`, path.join(root, "long/far-link"))
  return root
}

/** A 9 GiB sparse file with a little data at 0 and at 5 GiB. */
export function makeSparse(file: string): string {
  const fd = openSync(file, "w")
  writeSync(fd, "start of a sparse file", 0, "utf8")
  writeSync(fd, "data at five GiB", 5 * 2 ** 30, "utf8")
  ftruncateSync(fd, 9 * 2 ** 30)
  closeSync(fd)
  return file
}

/** A ustar header block written by hand (checksum set), for archives no tar would make. */
export function rawHeader(fields: {
  name: string
  /** The typeflag character: "0" file, "2" symlink, "x" pax, "L" GNU long name, "S" sparse. */
  type: string
  size?: number
  linkname?: string
  mode?: number
  /** For "S": GNU sparse extension blocks follow the header. */
  extended?: boolean
}): Uint8Array {
  const block = new Uint8Array(512)
  const text = (value: string, at: number, length: number) =>
    block.set(new TextEncoder().encode(value).subarray(0, length), at)
  const octal = (value: number, at: number, length: number) =>
    text(`${value.toString(8).padStart(length - 1, "0")}\0`, at, length)
  text(fields.name, 0, 100)
  octal(fields.mode ?? 0o644, 100, 8)
  octal(0, 108, 8)
  octal(0, 116, 8)
  octal(fields.size ?? 0, 124, 12)
  octal(0, 136, 12)
  text(fields.type, 156, 1)
  text(fields.linkname ?? "", 157, 100)
  text("ustar\u000000", 257, 8)
  if (fields.extended) block[482] = 1
  block.fill(0x20, 148, 156)
  const sum = block.reduce((a, b) => a + b, 0)
  text(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8)
  return block
}

/** A pax record (`<len> key=value\n`), its length counting itself. */
export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`
  let length = body.length + 1
  while (`${length}${body}`.length !== length) length++
  return `${length}${body}`
}

/** A .tar.gz of `parts` (header blocks, payloads, each padded to 512) and the end marker. */
export function gzipTar(parts: Uint8Array[]): Uint8Array {
  const padded = parts.map((p) => {
    const out = new Uint8Array(Math.ceil(p.length / 512) * 512)
    out.set(p)
    return out
  })
  return Bun.gzipSync(Buffer.concat([...padded, new Uint8Array(1024)]))
}

/** A header block with a bad checksum: put after a bound, it shows whether a reader went on. */
export const DAMAGED_HEADER = new Uint8Array(512).fill(0x41)

/**
 * The parts (for gzipTar) of `count` files `m<i>/…` of `size` bytes each, every name padded
 * to `nameBytes` (given by a pax record past ustar's 100 bytes) and its own top-level name.
 */
export function manyMembers(count: number, nameBytes = 16, size = 0): Uint8Array[] {
  const parts: Uint8Array[] = []
  const content = new Uint8Array(size).fill(0x78)
  for (let i = 0; i < count; i++) {
    const prefix = `m${i}/`
    const name = prefix + "f".repeat(Math.max(1, nameBytes - prefix.length))
    if (name.length > 100) {
      const record = new TextEncoder().encode(paxRecord("path", name))
      parts.push(rawHeader({ name: "PaxHeader", type: "x", size: record.length }), record)
    }
    parts.push(rawHeader({ name: name.slice(0, 100), type: "0", size }))
    if (size > 0) parts.push(content)
  }
  return parts
}

/** HTCondor's release layouts the ELF fixtures come in (see notes/htcondor.md). */
export type ReleaseLayout = "rpm-24" | "rpm-23" | "deb" | "pre-9" | "make-install"

const C_PROGRAM = `#include <stdio.h>
#include <stdlib.h>
const char *condor_utils(void);
static const char version[] = "$CondorVersion: 24.0.1 2024-10-31 BuildID: 0 $";
int main(int argc, char **argv) {
  const char *collector = getenv("_condor_GLIDEIN_CLUSTER");
  printf("stand-in %s: libraries %s, collector %s, %s\\n", argv[0], condor_utils(),
         collector ? collector : "none", version);
  return 0;
}
`
const C_UTILS = `int condor_ext(void);
const char *condor_utils(void) { return condor_ext() == 42 ? "loaded" : "wrong"; }
`
const C_EXT = "int condor_ext(void) { return 42; }\n"

/** True when a C compiler is there to make the ELF fixtures. */
export const HAVE_CC = Bun.which("cc") !== null

/**
 * An HTCondor release in `layout` made of tiny real ELF files: the daemons and
 * condor_gpu_discovery are one C program that calls libcondor_utils_24_0_1.so, which needs
 * libcondorext.so.1 from the externals directory; RPATHs as HTCondor's releases have them
 * (RPATH, or RUNPATH for the Debian and make-install fixtures, whose libraries then carry their
 * own). Needs `cc`.
 */
export function elfRelease(root: string, layout: ReleaseLayout): string {
  const src = path.join(root, "..", `${path.basename(root)}-src`)
  put(path.join(src, "program.c"), C_PROGRAM)
  put(path.join(src, "utils.c"), C_UTILS)
  put(path.join(src, "ext.c"), C_EXT)
  const flat = layout === "pre-9" || layout === "make-install"
  const usr = flat ? root : path.join(root, "usr")
  const lib = layout === "rpm-24" || layout === "rpm-23" ? "lib64" : "lib"
  const libDir = path.join(usr, lib)
  const extDir = layout === "rpm-23" ? libDir : path.join(libDir, "condor")
  const libexec =
    layout === "deb"
      ? path.join(usr, "lib/condor/libexec")
      : flat
        ? path.join(root, "libexec")
        : path.join(usr, "libexec/condor")
  const rpath =
    layout === "rpm-23" ? `$ORIGIN/../${lib}` : `$ORIGIN/../${lib}:$ORIGIN/../${lib}/condor`
  const tags =
    layout === "deb" || layout === "make-install" ? "--enable-new-dtags" : "--disable-new-dtags"
  const cc = (args: string[]) => run(["cc", "-O1", ...args])
  mkdirSync(extDir, { recursive: true })
  cc([
    "-shared",
    "-fPIC",
    "-Wl,-soname,libcondorext.so.1",
    "-o",
    path.join(extDir, "libcondorext.so.1.0.0"),
    path.join(src, "ext.c"),
  ])
  symlinkSync("libcondorext.so.1.0.0", path.join(extDir, "libcondorext.so.1"))
  const utils = path.join(libDir, "libcondor_utils_24_0_1.so")
  cc([
    "-shared",
    "-fPIC",
    "-Wl,-soname,libcondor_utils_24_0_1.so",
    `-Wl,${tags}`,
    "-Wl,-rpath,$ORIGIN:$ORIGIN/condor",
    "-o",
    utils,
    path.join(src, "utils.c"),
    `-L${extDir}`,
    "-l:libcondorext.so.1",
  ])
  const program = (file: string) => {
    mkdirSync(path.dirname(file), { recursive: true })
    cc([
      `-Wl,${tags}`,
      `-Wl,-rpath,${rpath}`,
      "-o",
      file,
      path.join(src, "program.c"),
      utils,
      `-Wl,-rpath-link,${extDir}`,
    ])
  }
  for (const daemon of [
    "condor_master",
    "condor_startd",
    "condor_starter",
    "condor_procd",
    "condor_schedd",
  ]) {
    program(path.join(usr, "sbin", daemon))
  }
  program(path.join(usr, "bin", "condor_config_val"))
  program(path.join(libexec, "condor_gpu_discovery"))
  put(path.join(usr, "share/man/man1/condor_master.1"), "manual")
  if (flat) return root
  // The links a 9.0+ release tarball has at its top.
  for (const top of ["bin", "sbin", "lib"]) symlinkSync(`usr/${top}`, path.join(root, top))
  if (lib === "lib64") {
    mkdirSync(path.join(usr, "lib"), { recursive: true })
    symlinkSync("usr/lib64", path.join(root, "lib64"))
    symlinkSync("usr/libexec/condor", path.join(root, "libexec"))
    symlinkSync("../lib64", path.join(usr, "libexec/lib64"))
  } else {
    symlinkSync("usr/lib/condor/libexec", path.join(root, "libexec"))
    symlinkSync("..", path.join(usr, "lib/condor/lib"))
  }
  return root
}

/**
 * A glidein tarball as `glidein tarball build` makes it, from a stand-in install in a
 * temporary folder of its own, written to `output`.
 */
export async function standInTarball(
  output: string,
  credentials: { password?: Uint8Array; token?: Uint8Array } = { password: POOL_PASSWORD },
): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), "glidein-stand-in-"))
  try {
    const condor = standInInstall(path.join(dir, "condor-23.0.0-x86_64_Stand-stripped"))
    await buildTarball({ condor, output, credentials, version: "0.0.0-test" })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
