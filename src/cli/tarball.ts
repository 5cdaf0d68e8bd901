/**
 * @module
 * `glidein tarball build | inject-password | inspect`: thin shells over src/tarball that read
 * the flags, show progress on a terminal, stop cleanly on Ctrl-C, and print what was done.
 */
import type { RunCheck } from "../tarball/check-runnable.ts"
import { collectorProblem } from "../tarball/collector.ts"
import {
  buildTarball,
  type CredentialPaths,
  type InspectReport,
  injectCredentials,
  inspectTarball,
  readCredentials,
} from "../tarball/index.ts"
import { glibcFloor } from "../tarball/system-libraries.ts"
import { VERSION } from "../version.ts"
import { defineCommand, flag } from "./command.ts"
import { checkedText, text } from "./option-types.ts"

const credentialOptions = {
  password: {
    ...text("a file name"),
    value: "FILE",
    description: "pool password file (condor_store_cred add -c -f FILE), stored as passwdfile",
  },
  token: {
    ...text("a file name"),
    value: "FILE",
    description: "IDTOKEN file (condor_token_create), stored as tokens.d/glidein.token",
  },
  collector: {
    ...checkedText("the pool's collector as HOST[:PORT]", collectorProblem),
    value: "HOST[:PORT]",
    description:
      "the pool's collector, recorded as COLLECTOR: glideins that get no CLUSTER join it",
  },
} as const

/** `glidein tarball build` */
export const tarballBuildCommand = defineCommand({
  name: "tarball build",
  details: `PATH is an HTCondor release tarball (condor-VERSION-ARCH_DISTRO-stripped.tar.gz, for the
cluster's OS), its unpacked directory, a pre-9.0 release or a \`make install\` prefix; not a
system's package install (/usr). The archive keeps what a startd needs (sbin daemons, lib/ and
lib64/, libexec/, a few bin/ tools) under glideinExec/ in the release's own layout, so the
programs' RPATHs resolve, adds glidein_condor_config, user_job_wrapper.sh, the credential,
the collector and a SHA256SUMS manifest, and is reproducible: the same install, credential
and glidein version give the same bytes. It refuses to write an archive whose daemons would
not find their libraries. With a credential the file is written with mode 0600.`,
  options: {
    condor: {
      ...text("a path"),
      value: "PATH",
      required: true,
      description: "HTCondor release tarball or install",
    },
    ...credentialOptions,
    output: {
      ...text("a file name"),
      short: "o",
      value: "FILE",
      default: "glidein.tar.gz",
      description: "where to write the archive",
    },
  },
  async run({ values }) {
    const { condor, output, collector } = values
    const { credentials } = await credentialsFrom(values)
    const started = performance.now()
    const progress = new Progress()
    const report = await withInterrupts((signal) =>
      buildTarball({
        condor,
        output,
        credentials,
        ...(collector === undefined ? {} : { collector }),
        version: VERSION,
        signal,
        onProgress: (phase, done, total) => progress.show(phase, done, total),
      }),
    ).finally(() => progress.clear())
    const credential = report.credentials.length > 0 ? report.credentials.join(", ") : "none"
    process.stdout.write(
      [
        `wrote "${output}" in ${seconds(started)}: ${report.members} members, ${megabytes(report.contentBytes)} of content in ${megabytes(report.outputBytes)}, mode ${report.credentials.length > 0 ? "0600" : "0644"}`,
        `  ${report.omitted} install files left out; credential: ${credential}; collector: ${collector ?? "none (glideins need CLUSTER)"}`,
        ...(report.dangling.length > 0
          ? [`  left out links that dangle in the install: ${report.dangling.join(", ")}`]
          : []),
        ...runLines(report.condorVersion, report.check),
        ...report.warnings.map((w) => `  warning: ${w}`),
        `  sha256 ${report.sha256}`,
        ...(report.credentials.length === 0
          ? ["  add the pool credential with: glidein tarball inject-password"]
          : []),
        "",
      ].join("\n"),
    )
    return 0
  },
})

/** `glidein tarball inject-password` */
export const tarballInjectCommand = defineCommand({
  name: "tarball inject-password",
  details: `The archive is rewritten as a stream (nothing is unpacked to disk): the credential goes
in byte for byte with mode 0600, every other member keeps its bytes, mode, owner, link target
and place; --collector puts COLLECTOR first. The output is written to a temporary file,
renamed when complete, and has mode 0600. A tarball not made by tarball build gets a warning. gzip runs in worker threads, in 256 KiB blocks primed with the 32 KiB before them
(pigz's method), as one ordinary gzip stream.`,
  options: {
    ...credentialOptions,
    output: {
      ...text("a file name"),
      short: "o",
      value: "OUT",
      description: "where to write the result",
    },
    "in-place": flag("replace TARBALL itself"),
  },
  groups: [
    { options: ["password", "token", "collector"], atLeastOne: true },
    {
      options: ["output", "in-place"],
      atLeastOne: ([input]) => `give -o OUT for the result, or --in-place to replace "${input}"`,
      atMostOne: true,
    },
  ],
  positionals: { names: ["TARBALL"], min: 1 },
  async run({ values, positionals }) {
    const input = positionals[0] as string
    const { inPlace, collector } = values
    // The groups above let through exactly one of -o and --in-place.
    const output = inPlace ? input : values.output!
    const { credentials } = await credentialsFrom(values)
    const started = performance.now()
    const progress = new Progress()
    const report = await withInterrupts((signal) =>
      injectCredentials({
        input,
        output,
        credentials,
        ...(collector === undefined ? {} : { collector }),
        inPlace,
        signal,
        onProgress: (done, total) => progress.show("rewriting", done, total),
      }),
    ).finally(() => progress.clear())
    const changes = [
      ...report.replaced.map((n) => `replaced ${n}`),
      ...report.added.map((n) => `added ${n}`),
      ...report.dropped.map((n) => `dropped ${n}`),
    ]
    const unchanged = report.entries - report.replaced.length - report.dropped.length
    if (report.foreign !== undefined) {
      process.stderr.write(
        `glidein: warning: "${input}" is not a glidein tarball: ${report.foreign}; glidein_start.sh will refuse it (rebuild it with glidein tarball build)\n`,
      )
    }
    process.stdout.write(
      [
        `wrote "${output}" (${megabytes(report.bytesOut)}, mode 0600) in ${seconds(started)}`,
        `  ${changes.join(", ")}; ${unchanged} other members unchanged`,
        "",
      ].join("\n"),
    )
    return 0
  },
})

/** `glidein tarball inspect` */
export const tarballInspectCommand = defineCommand({
  name: "tarball inspect",
  details: `Lists the layout, says whether a pool credential is present (its size, mode and, for
tokens, expiry; never its content), checks every file against SHA256SUMS, and checks that
HTCondor can run from the archive: every library the daemons and the helpers need resolves
inside it through their RPATH/RUNPATH, or is the node's C library (glibc: libc, libm,
libpthread, libdl, librt, libresolv, libutil, libanl, libcrypt, ld-linux), or one of the
libraries the release takes from its distribution (libstdc++, OpenSSL, zlib, ...), which are
listed; no link dangles or leaves the archive; every ELF file is of one architecture. It shows
the HTCondor version, the architecture and the newest glibc the programs need. Exits 1 when
the manifest does not match, a file a glidein needs is missing, HTCondor cannot run from the
archive, or it is not a glidein tarball (pyglidein's, Pegasus's).`,
  options: { json: flag("print the report as JSON") },
  positionals: { names: ["TARBALL"], min: 1 },
  async run({ values, positionals }) {
    const file = positionals[0] as string
    const progress = new Progress()
    const report = await withInterrupts((signal) =>
      inspectTarball(file, {
        signal,
        onProgress: (done, total) => progress.show("reading", done, total),
      }),
    ).finally(() => progress.clear())
    if (values.json) process.stdout.write(`${JSON.stringify({ file, ...report }, null, 2)}\n`)
    else process.stdout.write(describeInspection(file, report, Date.now() / 1000))
    const broken =
      report.manifest.status === "failed" ||
      report.missing.length > 0 ||
      report.problems.length > 0 ||
      report.foreign !== undefined
    return broken ? 1 : 0
  },
})

/** The text `tarball inspect` prints; `now` in seconds since the epoch. */
export function describeInspection(file: string, report: InspectReport, now: number): string {
  const c = report.counts
  const lines = [
    `${file}: ${megabytes(report.compressedBytes)} compressed, ${megabytes(report.contentBytes)} of content`,
    `  members: ${report.members} (${c.files} files, ${c.directories} directories, ${c.symlinks} symlinks, ${c.hardlinks} hard links${c.other ? `, ${c.other} other` : ""})`,
    `  top level: ${report.topLevel.join(" ")}`,
    report.missing.length === 0
      ? "  layout: complete"
      : `  layout: MISSING ${report.missing.join(", ")}`,
  ]
  const credentials: string[] = []
  if (report.password) {
    const p = report.password
    credentials.push(
      `pool password ${p.name} (${p.bytes} bytes, mode ${octal(p.mode)}${p.usable ? "" : "; EMPTY to HTCondor"})`,
    )
  }
  for (const t of report.tokens) {
    const expiry =
      t.expires === undefined
        ? "no expiry"
        : `${t.expires <= now ? "EXPIRED" : "expires"} ${new Date(t.expires * 1000).toISOString()}`
    credentials.push(
      t.valid
        ? `IDTOKEN ${t.name} (${t.count} token${t.count === 1 ? "" : "s"}, mode ${octal(t.mode)}, ${expiry})`
        : `${t.name} (${t.bytes} bytes, mode ${octal(t.mode)}; NOT an IDTOKEN)`,
    )
  }
  lines.push(
    credentials.length > 0
      ? `  credential: ${credentials.join("; ")}`
      : "  credential: none (add one with glidein tarball inject-password)",
  )
  if (report.foreign !== undefined) {
    lines.push(`  NOT a glidein tarball: ${report.foreign}; rebuild it with glidein tarball build`)
  }
  lines.push(
    report.collector === undefined
      ? "  collector: none recorded (glideins need CLUSTER from the site config)"
      : `  collector: ${report.collector} (for glideins that get no CLUSTER)`,
  )
  lines.push(...runLines(report.condorVersion, report.run))
  lines.push(...report.problems.map((p) => `  CANNOT RUN: ${p}`))
  lines.push(...report.warnings.map((w) => `  warning: ${w}`))
  const m = report.manifest
  if (m.status === "absent") lines.push("  manifest: none (not built by glidein tarball build)")
  else if (m.status === "verified") lines.push(`  manifest: verified (${m.listed} files)`)
  else {
    const problems = [
      m.mismatched.length ? `changed: ${m.mismatched.join(", ")}` : "",
      m.missing.length ? `missing: ${m.missing.join(", ")}` : "",
      m.unlisted.length ? `not listed: ${m.unlisted.join(", ")}` : "",
    ].filter(Boolean)
    lines.push(`  manifest: FAILED (${problems.join("; ")})`)
  }
  return `${lines.join("\n")}\n`
}

/** What the check of the archive found, for build and inspect. */
function runLines(
  version: string | undefined,
  run: Pick<RunCheck, "arch" | "glibc" | "cLibrary" | "fromOs"> | undefined,
): string[] {
  const lines = [`  HTCondor: ${version ?? "version not found in condor_master"}`]
  if (!run) return lines
  const glibc = run.glibc
  lines.push(
    `  runs on: ${run.arch ?? "no ELF programs found"}${glibc ? `, needs glibc ${glibc.version}: ${glibcFloor(glibc.version)}` : ""}`,
  )
  const base = run.cLibrary.length > 0 ? run.cLibrary.join(" ") : "none"
  lines.push(`  from the node: C library ${base}`)
  if (run.fromOs.length > 0) {
    lines.push(
      `  from the node's OS (the distribution the release was built for): ${run.fromOs.join(" ")}`,
    )
  }
  return lines
}

/** Reads --password and --token, and prints their warnings. */
async function credentialsFrom({ password, token }: { password?: string; token?: string }) {
  const paths: CredentialPaths = {}
  if (password !== undefined) paths.password = password
  if (token !== undefined) paths.token = token
  const result = await readCredentials(paths)
  for (const warning of result.warnings) process.stderr.write(`glidein: warning: ${warning}\n`)
  return result
}

/** Runs `work` with an AbortSignal that Ctrl-C or SIGTERM trips, so temporary files go. */
async function withInterrupts<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController()
  const stop = () => controller.abort()
  process.on("SIGINT", stop)
  process.on("SIGTERM", stop)
  try {
    return await work(controller.signal)
  } finally {
    process.off("SIGINT", stop)
    process.off("SIGTERM", stop)
  }
}

/** One self-overwriting progress line on stderr, only when stderr is a terminal. */
class Progress {
  private last = 0
  private shown = false
  private readonly tty = process.stderr.isTTY === true

  show(phase: string, done: number, total: number): void {
    if (!this.tty) return
    const now = performance.now()
    if (now - this.last < 100 && done < total) return
    this.last = now
    const percent = total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 0
    process.stderr.write(`\r\x1b[K${phase} ${percent}% (${megabytes(done)} of ${megabytes(total)})`)
    this.shown = true
  }

  clear(): void {
    if (this.shown) process.stderr.write("\r\x1b[K")
    this.shown = false
  }
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`
}

function seconds(started: number): string {
  return `${((performance.now() - started) / 1000).toFixed(1)} s`
}

function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, "0")
}
