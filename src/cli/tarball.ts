/**
 * @module
 * `glidein tarball build | inject-password | inspect`: thin shells over src/tarball that read
 * the flags, show progress on a terminal, stop cleanly on Ctrl-C, and print what was done.
 */
import { UsageError } from "../errors.ts"
import {
  buildTarball,
  type CredentialPaths,
  type InspectReport,
  injectCredentials,
  inspectTarball,
  readCredentials,
} from "../tarball/index.ts"
import { VERSION } from "../version.ts"
import type { Args, Command } from "./command.ts"

const credentialOptions = {
  password: {
    type: "string",
    value: "FILE",
    description: "pool password file (condor_store_cred add -c -f FILE), stored as passwdfile",
  },
  token: {
    type: "string",
    value: "FILE",
    description: "IDTOKEN file (condor_token_create), stored as tokens.d/glidein.token",
  },
} as const

/** `glidein tarball build` */
export const tarballBuildCommand: Command = {
  name: "tarball build",
  usage: "--condor PATH [--password FILE] [--token FILE] [-o glidein.tar.gz]",
  details: `PATH is an HTCondor release tarball (condor-*-stripped.tar.gz) or an unpacked install
(a directory with sbin/condor_master). The archive keeps what a startd needs (sbin daemons,
lib/, libexec/, a few bin/ tools) under glideinExec/, adds glidein_condor_config,
user_job_wrapper.sh, the credential and a SHA256SUMS manifest, and is reproducible: the same
install, credential and glidein version give the same bytes. With a credential the file is
written with mode 0600.`,
  options: {
    condor: { type: "string", value: "PATH", description: "HTCondor release tarball or install" },
    ...credentialOptions,
    output: {
      type: "string",
      short: "o",
      value: "FILE",
      description: "where to write the archive (default glidein.tar.gz)",
    },
  },
  async run(args) {
    const condor = args.requireString("condor")
    const output = args.string("output") ?? "glidein.tar.gz"
    const { credentials } = await credentialsFrom(args, false)
    const started = performance.now()
    const progress = new Progress()
    const report = await withInterrupts((signal) =>
      buildTarball({
        condor,
        output,
        credentials,
        version: VERSION,
        signal,
        onProgress: (phase, done, total) => progress.show(phase, done, total),
      }),
    ).finally(() => progress.clear())
    const credential = report.credentials.length > 0 ? report.credentials.join(", ") : "none"
    process.stdout.write(
      [
        `wrote "${output}" in ${seconds(started)}: ${report.members} members, ${megabytes(report.contentBytes)} of content in ${megabytes(report.outputBytes)}, mode ${report.credentials.length > 0 ? "0600" : "0644"}`,
        `  ${report.omitted} install files left out; credential: ${credential}`,
        `  sha256 ${report.sha256}`,
        ...(report.credentials.length === 0
          ? ["  add the pool credential with: glidein tarball inject-password"]
          : []),
        "",
      ].join("\n"),
    )
    return 0
  },
}

/** `glidein tarball inject-password` */
export const tarballInjectCommand: Command = {
  name: "tarball inject-password",
  usage: "TARBALL (--password FILE | --token FILE) (-o OUT | --in-place)",
  details: `The archive is rewritten as a stream (nothing is unpacked to disk): the credential goes
in byte for byte with mode 0600, every other member keeps its bytes, mode, owner, link target
and place. The output is written to a temporary file, renamed when complete, and has mode
0600. gzip runs in worker threads, in 256 KiB blocks primed with the 32 KiB before them
(pigz's method), as one ordinary gzip stream.`,
  options: {
    ...credentialOptions,
    output: { type: "string", short: "o", value: "OUT", description: "where to write the result" },
    "in-place": { type: "boolean", description: "replace TARBALL itself" },
  },
  positionals: { names: ["TARBALL"], min: 1 },
  async run(args) {
    const input = args.positionals[0] as string
    const inPlace = args.flag("in-place")
    const given = args.string("output")
    if (inPlace && given !== undefined) {
      throw new UsageError(`glidein ${this.name}: give either -o OUT or --in-place, not both`)
    }
    const output = inPlace ? input : given
    if (output === undefined) {
      throw new UsageError(
        `glidein ${this.name}: give -o OUT for the result, or --in-place to replace "${input}"`,
      )
    }
    const { credentials } = await credentialsFrom(args, true)
    const started = performance.now()
    const progress = new Progress()
    const report = await withInterrupts((signal) =>
      injectCredentials({
        input,
        output,
        credentials,
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
    process.stdout.write(
      [
        `wrote "${output}" (${megabytes(report.bytesOut)}, mode 0600) in ${seconds(started)}`,
        `  ${changes.join(", ")}; ${unchanged} other members unchanged`,
        "",
      ].join("\n"),
    )
    return 0
  },
}

/** `glidein tarball inspect` */
export const tarballInspectCommand: Command = {
  name: "tarball inspect",
  usage: "TARBALL [--json]",
  details: `Lists the layout, says whether a pool credential is present (its size, mode and, for
tokens, expiry; never its content) and checks every file against SHA256SUMS. Exits 1 when
the manifest does not match or a file a glidein needs is missing.`,
  options: { json: { type: "boolean", description: "print the report as JSON" } },
  positionals: { names: ["TARBALL"], min: 1 },
  async run(args) {
    const file = args.positionals[0] as string
    const progress = new Progress()
    const report = await withInterrupts((signal) =>
      inspectTarball(file, {
        signal,
        onProgress: (done, total) => progress.show("reading", done, total),
      }),
    ).finally(() => progress.clear())
    if (args.flag("json")) process.stdout.write(`${JSON.stringify({ file, ...report }, null, 2)}\n`)
    else process.stdout.write(describeInspection(file, report, Date.now() / 1000))
    return report.manifest.status === "failed" || report.missing.length > 0 ? 1 : 0
  },
}

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

/** Reads --password/--token (one of them `required`) and prints their warnings. */
async function credentialsFrom(args: Args, required: boolean) {
  const paths: CredentialPaths = {}
  const password = args.string("password")
  const token = args.string("token")
  if (password !== undefined) paths.password = password
  if (token !== undefined) paths.token = token
  if (required && password === undefined && token === undefined) {
    throw new UsageError(`glidein ${args.command.name}: give --password FILE or --token FILE`)
  }
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
