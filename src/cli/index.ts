/**
 * @module
 * The command table. Entries load their module only when chosen, so `glidein --version`
 * does not pay for the HTTP server, SQLite or the tar code. Each command's one-line summary
 * lives here alone: `glidein --help` lists them without loading any command, and a
 * command's own `--help` opens with the same line.
 */
import type { Command } from "./command.ts"

export interface CommandEntry {
  name: string
  /** One line, shown by `glidein --help` and atop the command's own `--help`. */
  summary: string
  load: () => Promise<Command>
}

export const COMMANDS: CommandEntry[] = [
  {
    name: "serve",
    summary: "serve the pool's demand to sites (JSON-RPC, status page, metrics)",
    load: async () => (await import("./serve.ts")).serveCommand,
  },
  {
    name: "status",
    summary: "show the pool's demand and the sites' glideins",
    load: async () => (await import("./status.ts")).statusCommand,
  },
  {
    name: "submit",
    summary: "submit glideins for the pool's demand to this cluster (run from cron)",
    load: async () => (await import("./submit.ts")).submitCommand,
  },
  {
    name: "cancel",
    summary: "remove the glideins this config submitted",
    load: async () => (await import("./cancel.ts")).cancelCommand,
  },
  {
    name: "tarball build",
    summary: "make glidein.tar.gz from an HTCondor release tarball or install",
    load: async () => (await import("./tarball.ts")).tarballBuildCommand,
  },
  {
    name: "tarball inject-password",
    summary: "put the pool password (or an IDTOKEN) into a glidein tarball",
    load: async () => (await import("./tarball.ts")).tarballInjectCommand,
  },
  {
    name: "tarball inspect",
    summary: "show what a glidein tarball holds and check its manifest",
    load: async () => (await import("./tarball.ts")).tarballInspectCommand,
  },
]

/** Finds the entry for `argv` (one or two words) and returns it with the remaining args. */
export function findCommand(argv: string[]): { entry: CommandEntry; rest: string[] } | undefined {
  const two = `${argv[0]} ${argv[1]}`
  const entry2 = COMMANDS.find((c) => c.name === two)
  if (entry2) return { entry: entry2, rest: argv.slice(2) }
  const entry1 = COMMANDS.find((c) => c.name === argv[0])
  if (entry1) return { entry: entry1, rest: argv.slice(1) }
  return undefined
}

/** Entries whose name starts with `group ` (e.g. the `tarball` subcommands). */
export function subcommands(group: string): CommandEntry[] {
  return COMMANDS.filter((c) => c.name.startsWith(`${group} `))
}
