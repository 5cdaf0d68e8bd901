/**
 * Checks the built binaries against the floor README promises, on this machine:
 *
 * - each is an ELF program of its architecture whose newest glibc symbol version is at most
 *   2.17 (EL7), read with the project's own ELF reader;
 * - each runs `--version` and a dry-run submit under Debian's qemu-user: the x64 build on a CPU
 *   without AVX (`qemu-x86_64 -cpu Nehalem`), the arm64 build under `qemu-aarch64` with the
 *   arm64 C library of Debian's libc6-arm64-cross (4 KiB pages, as Bun's arm64 runtime needs).
 *
 * Usage: bun scripts/check-binaries.ts [dist/glidein-linux-x64 dist/glidein-linux-arm64]
 * A binary that is missing is an error; qemu missing is an error unless --no-qemu is given.
 */
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { compareVersions, type ElfSource, parseElf } from "../src/tarball/elf.ts"

/** The newest glibc the binaries may need: EL7's. */
const GLIBC_FLOOR = "2.17"
/** An emulated run gets this long; the native ones take about a second under qemu. */
const EMULATED_TIMEOUT_MS = 120_000
/** Runs of a command that qemu-user hung, before the check gives up. */
const EMULATED_TRIES = 3

const args = Bun.argv.slice(2)
const noQemu = args.includes("--no-qemu")
const files = args.filter((a) => !a.startsWith("--"))
const binaries = files.length > 0 ? files : ["dist/glidein-linux-x64", "dist/glidein-linux-arm64"]

const EXPECTED: Record<string, { arch: string; qemu: string[] }> = {
  x64: { arch: "x86_64", qemu: ["qemu-x86_64", "-cpu", "Nehalem"] },
  // Debian's libc6-arm64-cross puts the arm64 loader and C library there.
  arm64: { arch: "aarch64", qemu: ["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu"] },
}

let failed = false
function fail(message: string): void {
  console.error(`FAIL: ${message}`)
  failed = true
}

/** An ElfSource over a file on disk, read with positional reads. */
function fileSource(file: string): { source: ElfSource; close(): void } {
  const fd = openSync(file, "r")
  const size = statSync(file).size
  return {
    source: {
      size,
      read(offset, length) {
        if (offset >= size) return undefined
        const buffer = Buffer.alloc(Math.min(length, size - offset))
        return buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, offset))
      },
    },
    close: () => closeSync(fd),
  }
}

const dir = mkdtempSync(path.join(tmpdir(), "glidein-check-"))
// A config and demand for a dry-run submit that needs no batch system and no server.
writeFileSync(
  path.join(dir, "site.ini"),
  "[Glidein]\naddress = http://127.0.0.1:9/jsonrpc\ncluster = pool.example.org\n[Cluster]\nscheduler = slurm\nrunning_cmd = echo 0\nidle_cmd = echo 0\n",
)
writeFileSync(
  path.join(dir, "state.json"),
  JSON.stringify([{ cpus: 2, memory: 4000, disk: 10000, gpus: 0, os: null, count: 3 }]),
)

try {
  for (const binary of binaries) {
    const kind = Object.keys(EXPECTED).find((k) => binary.endsWith(`-${k}`))
    if (kind === undefined) {
      fail(`${binary}: the name does not say its architecture (-x64 or -arm64)`)
      continue
    }
    const expected = EXPECTED[kind]!
    if (!existsSync(binary)) {
      fail(`${binary}: missing (build it with npm run build)`)
      continue
    }
    const { source, close } = fileSource(binary)
    const elf = (() => {
      try {
        return parseElf(source)
      } finally {
        close()
      }
    })()
    if (!elf) {
      fail(`${binary}: not an ELF file`)
      continue
    }
    if (elf.arch !== expected.arch)
      fail(`${binary}: built for ${elf.arch}, expected ${expected.arch}`)
    const glibc = elf.glibc ?? "none"
    const parts = (v: string) => v.split(".").map(Number)
    if (elf.glibc !== undefined && compareVersions(parts(elf.glibc), parts(GLIBC_FLOOR)) > 0) {
      fail(`${binary}: needs glibc ${elf.glibc}, newer than the promised ${GLIBC_FLOOR}`)
    } else {
      console.log(`ok: ${binary}: ${elf.arch}, newest glibc symbol ${glibc} (≤ ${GLIBC_FLOOR})`)
    }
    if (noQemu) continue
    const emulator = expected.qemu
    if (Bun.which(emulator[0]!) === null) {
      fail(
        `${emulator[0]} not found (apt-get install qemu-user libc6-arm64-cross), or pass --no-qemu`,
      )
      continue
    }
    const runs: [string, string[]][] = [
      ["--version", ["--version"]],
      [
        "a dry-run submit",
        [
          "submit",
          "--config",
          path.join(dir, "site.ini"),
          "--state-file",
          path.join(dir, "state.json"),
          "--dry-run",
        ],
      ],
    ]
    for (const [what, argv] of runs) {
      const result = await emulated([...emulator, path.resolve(binary), ...argv], dir)
      const out = result.out
      if (result.exitCode !== 0) {
        fail(
          `${binary} ${what} under ${emulator.join(" ")}: exit ${result.exitCode}: ${out.slice(0, 400)}`,
        )
      } else if (what !== "--version" && !out.includes("3 glideins of")) {
        fail(
          `${binary} ${what} under ${emulator.join(" ")} did not plan 3 glideins: ${out.slice(0, 400)}`,
        )
      } else {
        console.log(`ok: ${binary} ${what} under ${emulator.join(" ")}`)
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
process.exit(failed ? 1 : 0)

/**
 * Runs `argv` (a binary under qemu-user) in its own process group, at most
 * EMULATED_TIMEOUT_MS, and again when it hung: qemu-user can deadlock in a child it forks
 * from a threaded program before the child's exec (the child sleeps on a lock the fork
 * copied held), which is the emulator's, not the binary's — on a real CPU the same fork
 * execs at once. Each hang is said; only an exit that is not a hang is the binary's answer.
 */
async function emulated(
  argv: string[],
  cwd: string,
): Promise<{ exitCode: number | null; out: string }> {
  for (let attempt = 1; ; attempt++) {
    const child = Bun.spawn(argv, {
      cwd,
      env: { PATH: "/usr/bin:/bin", HOME: cwd, GLIDEIN_STATE_DIR: path.join(cwd, "state") },
      stdout: "pipe",
      stderr: "pipe",
      // Its own group, so a hung fork of it is killed with it and lets go of the pipes.
      detached: true,
    })
    let hung = false
    const timer = setTimeout(() => {
      hung = true
      try {
        process.kill(-child.pid, "SIGKILL")
      } catch {
        // Gone already.
      }
    }, EMULATED_TIMEOUT_MS)
    const [stdout, stderr, exitCode] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.exited,
    ])
    clearTimeout(timer)
    if (!hung) return { exitCode, out: `${stdout}${stderr}` }
    const note = `${argv[0]} hung for ${EMULATED_TIMEOUT_MS / 1000} s (attempt ${attempt} of ${EMULATED_TRIES})`
    console.log(`note: ${note}`)
    if (attempt >= EMULATED_TRIES) return { exitCode: null, out: note }
  }
}
