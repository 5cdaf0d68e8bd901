/**
 * @module
 * A small command framework over `node:util` parseArgs: every command declares its options
 * once, and help text, usage errors (one line, exit 2) and typed getters come from that.
 */
import { parseArgs } from "node:util"
import { didYouMean } from "../config/did-you-mean.ts"
import { UsageError } from "../errors.ts"

/** One flag of a command. */
export interface OptionSpec {
  type: "string" | "boolean"
  short?: string
  /** Placeholder shown in help for string options, e.g. `FILE`. */
  value?: string
  description: string
  /** Kept for pyglidein compatibility but does nothing; hidden from help. */
  ignored?: boolean
}

/** A runnable command: its declaration plus what it does. `run` returns the exit code. */
export interface Command {
  /** Full name as typed, e.g. `tarball inject-password`. */
  name: string
  /** Usage after `glidein <name> `, e.g. `--config FILE [--dry-run]`. */
  usage: string
  /** Extra paragraphs printed by `--help` after the options. */
  details?: string
  options: Record<string, OptionSpec>
  /** Names of positional arguments, e.g. `["TARBALL"]`; absent means none are accepted. */
  positionals?: { names: string[]; min: number }
  run(args: Args): Promise<number>
}

/** pyglidein's `-n/--no-daemon`: kept so old crontab lines work; glidein never daemonizes. */
export const NO_DAEMON: OptionSpec = {
  type: "boolean",
  short: "n",
  description: "accepted for pyglidein compatibility",
  ignored: true,
}

/** Options every command accepts. */
const COMMON: Record<string, OptionSpec> = {
  help: { type: "boolean", short: "h", description: "show this help and exit" },
  debug: { type: "boolean", description: "verbose logging; stack traces on internal errors" },
}

/** Parsed arguments with typed, validating getters. */
export class Args {
  constructor(
    readonly command: Command,
    readonly values: Record<string, string | boolean | undefined>,
    readonly positionals: string[],
  ) {}

  flag(name: string): boolean {
    return this.values[name] === true
  }

  string(name: string): string | undefined {
    const v = this.values[name]
    return typeof v === "string" ? v : undefined
  }

  requireString(name: string): string {
    const v = this.string(name)
    if (v === undefined) {
      const spec = this.command.options[name]
      throw new UsageError(
        `glidein ${this.command.name}: missing --${name}${spec?.value ? ` ${spec.value}` : ""}`,
      )
    }
    return v
  }
}

/** Parses `argv` (after the command name) for `command`; throws UsageError with one line. */
export function parseCommandArgs(command: Command, argv: string[]): Args {
  const options = { ...COMMON, ...command.options }
  const config: Record<string, { type: "string" | "boolean"; short?: string }> = {}
  for (const [name, spec] of Object.entries(options)) {
    config[name] = { type: spec.type }
    if (spec.short) config[name].short = spec.short
  }
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({ args: argv, options: config, strict: true, allowPositionals: true })
  } catch (error) {
    throw new UsageError(`glidein ${command.name}: ${describeParseError(error, options)}`)
  }
  const values = parsed.values as Record<string, string | boolean | undefined>
  const args = new Args(command, values, parsed.positionals)
  if (values.help === true) return args
  const names = command.positionals?.names ?? []
  const min = command.positionals?.min ?? 0
  if (parsed.positionals.length > names.length) {
    const extra = parsed.positionals[names.length]
    throw new UsageError(`glidein ${command.name}: unexpected argument "${extra}"`)
  }
  if (parsed.positionals.length < min) {
    throw new UsageError(`glidein ${command.name}: missing ${names[parsed.positionals.length]}`)
  }
  return args
}

/** parseArgs errors are long and mention internals; keep the part a user needs, and the
 *  option most likely meant by an unknown one. */
function describeParseError(error: unknown, options: Record<string, OptionSpec>): string {
  const message = error instanceof Error ? error.message : String(error)
  const unknown = /Unknown option '([^']+)'/.exec(message)
  if (unknown) {
    const name = unknown[1]!
    const mean = name.startsWith("--") ? didYouMean(name.slice(2), Object.keys(options)) : undefined
    return `unknown option "${name}"${mean ? `; did you mean --${mean}?` : " (see --help)"}`
  }
  const missing = /Option '([^']+)' argument missing/.exec(message)
  if (missing) return `option "${missing[1]?.replace(/^-\w, /, "")}" needs a value`
  const noValue = /Option '([^']+)' does not take an argument/.exec(message)
  if (noValue) return `option "${noValue[1]?.replace(/^-\w, /, "")}" does not take a value`
  return message.split("\n")[0] ?? message
}

/** The `--help` text of a command, under its one-line summary (from the command table). */
export function commandHelp(command: Command, summary: string): string {
  const lines = [
    `glidein ${command.name} — ${summary}`,
    "",
    `Usage: glidein ${command.name} ${command.usage}`.trimEnd(),
    "",
    "Options:",
  ]
  const rows: [string, string][] = []
  for (const [name, spec] of Object.entries({ ...command.options, ...COMMON })) {
    if (spec.ignored) continue
    const flag = `${spec.short ? `-${spec.short}, ` : "    "}--${name}${spec.type === "string" ? ` ${spec.value ?? "VALUE"}` : ""}`
    rows.push([flag, spec.description])
  }
  const width = Math.max(...rows.map(([f]) => f.length))
  for (const [flag, description] of rows) lines.push(`  ${flag.padEnd(width)}  ${description}`)
  if (command.details) lines.push("", command.details.trimEnd())
  return `${lines.join("\n")}\n`
}
