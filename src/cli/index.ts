/**
 * @module
 * The command table. Entries load their module only when chosen, so `glidein --version`
 * does not pay for the HTTP server, SQLite or the tar code. Each command's one-line summary
 * lives here alone: `glidein --help` lists them without loading any command, and a
 * command's own `--help` opens with the same line.
 */
import { didYouMean } from "../config/did-you-mean.ts"
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
    name: "token create",
    summary: "make a site's token for serve --tokens and add it to the tokens file",
    load: async () => (await import("./token.ts")).tokenCreateCommand,
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
    name: "replay",
    summary: "replay the server's recorded days under an allotment policy, against what happened",
    load: async () => (await import("./replay.ts")).replayCommand,
  },
  {
    name: "push-state",
    summary: "write the server's demand to sites that cannot reach it, over ssh",
    load: async () => (await import("./push-state.ts")).pushStateCommand,
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

/** The command (or, with `group`, the subcommand) most likely meant by a mistyped `word`. */
export function suggestCommand(word: string, group?: string): string | undefined {
  const names = group
    ? subcommands(group).map((c) => c.name.slice(group.length + 1))
    : ["help", ...COMMANDS.map((c) => c.name.split(" ")[0]!)]
  return didYouMean(word, new Set(names))
}

/**
 * The command line meant by one that starts with options: the command moved first
 * (`--debug submit …`), or `submit` for pyglidein_client's `--config=X --secrets=Y`.
 * Undefined when nothing points to a command.
 */
export function commandLineMeant(argv: string[]): string | undefined {
  const at = argv.findIndex((a, i) => !a.startsWith("-") && findCommand(argv.slice(i)))
  const words = argv.flatMap((a) => (/^--[^=]+=/.test(a) ? a.split(/=(.*)/s, 2) : [a]))
  let line: string[] | undefined
  if (at >= 0) {
    const { entry, rest } = findCommand(argv.slice(at))!
    line = [...entry.name.split(" "), ...argv.slice(0, at), ...rest]
  } else if (words.includes("--config")) line = ["submit", ...words]
  return line && ["glidein", ...line.map(shellWord)].join(" ")
}

/** `word` as typed into a shell: bare when safe, else single-quoted. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`
}
