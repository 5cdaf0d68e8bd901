/**
 * @module
 * Entry point of the `glidein` executable. The only place that prints errors for the user,
 * chooses exit codes and calls `process.exit`.
 */
import {
  COMMANDS,
  type CommandEntry,
  commandLineMeant,
  findCommand,
  subcommands,
  suggestCommand,
} from "./cli/index.ts"
// write(2), not process.stdout/stderr: their first use loads Node's streams, which took
// `glidein --version` from 8.3 to 11.6 ms (compiled binary, medians of one run).
import { writeStderr, writeStdout } from "./client/lib/std-output.ts"
import { EXIT, GlideinError, UsageError } from "./errors.ts"
import { VERSION } from "./version.ts"

/** One line per command: the names padded to the longest, then the summaries. */
function commandRows(entries: CommandEntry[]): string[] {
  const width = Math.max(...entries.map((c) => c.name.length))
  return entries.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`)
}

function topHelp(): string {
  return [
    `glidein ${VERSION} — grow an HTCondor pool into HPC clusters with pilot jobs`,
    "",
    "Usage: glidein <command> [options]",
    "",
    "Commands:",
    ...commandRows(COMMANDS),
    "",
    "Options:",
    "  -h, --help     show help (also after any command)",
    "  -V, --version  print the version and exit",
    "",
    "Run 'glidein <command> --help' or 'glidein help <command>' for the options of a command.",
    "",
  ].join("\n")
}

function groupHelp(group: string): string {
  return [
    `Usage: glidein ${group} <subcommand> [options]`,
    "",
    "Subcommands:",
    ...commandRows(subcommands(group)),
    "",
  ].join("\n")
}

async function main(argv: string[]): Promise<number> {
  const [first] = argv
  if (first === undefined) {
    writeStderr(topHelp())
    return EXIT.usage
  }
  if (first === "--version" || first === "-V") {
    writeStdout(`glidein ${VERSION}\n`)
    return EXIT.ok
  }
  if (first === "--help" || first === "-h" || (first === "help" && argv.length === 1)) {
    writeStdout(topHelp())
    return EXIT.ok
  }
  // `glidein help submit` is `glidein submit --help`.
  if (first === "help") return main([...argv.slice(1), "--help"])
  if (first.startsWith("-")) {
    const meant = commandLineMeant(argv)
    throw new UsageError(
      meant
        ? `options come after a command; did you mean "${meant}"?`
        : `unknown option "${first}"; options come after a command (see glidein --help)`,
    )
  }
  const found = findCommand(argv)
  if (!found) {
    if (subcommands(first).length > 0) {
      if (argv[1] === "--help" || argv[1] === "-h") {
        writeStdout(groupHelp(first))
        return EXIT.ok
      }
      writeStderr(groupHelp(first))
      if (argv[1] === undefined) throw new UsageError(`glidein ${first}: missing subcommand`)
      const mean = suggestCommand(argv[1], first)
      throw new UsageError(
        `glidein ${first}: unknown subcommand "${argv[1]}"${mean ? `; did you mean "${mean}"?` : ""}`,
      )
    }
    const mean = suggestCommand(first)
    throw new UsageError(
      `unknown command "${first}"${mean ? `; did you mean "${mean}"?` : " (see glidein --help)"}`,
    )
  }
  const command = await found.entry.load()
  // Loaded here, not at the top: option schemas are zod's, which `--version` need not pay for.
  const { parseCommandArgs } = await import("./cli/command.ts")
  const args = parseCommandArgs(command, found.rest)
  if (args === "help") {
    const { commandHelp } = await import("./cli/help.ts")
    writeStdout(commandHelp(command, found.entry.summary))
    return EXIT.ok
  }
  return command.run(args)
}

const argv = process.argv.slice(2)
let code: number
try {
  code = await main(argv)
} catch (error) {
  if (error instanceof GlideinError) {
    const text = error.message.startsWith("glidein") ? error.message : `glidein: ${error.message}`
    writeStderr(`${text}\n`)
    if (argv.includes("--debug") && error.cause !== undefined) console.error(error.cause)
    code = error.exitCode
  } else {
    const message = error instanceof Error ? error.message : String(error)
    writeStderr(`glidein: internal error: ${message}\n`)
    if (argv.includes("--debug")) console.error(error)
    else writeStderr("(run again with --debug for details)\n")
    code = EXIT.failure
  }
}
process.exit(code)
