/**
 * @module
 * A small command framework over `node:util` parseArgs: every command declares its options
 * once, as a table of flags with zod schemas, and parseArgs' configuration, the typed values,
 * usage errors (one line, exit 2), `--help`, serve's config-file keys and the Markdown
 * reference all come from that table.
 */
import { parseArgs } from "node:util"
// zod/mini, not zod: every command parses its flags at start-up, and the classic API added
// 5-10 ms to a compiled binary's start where this adds about one (a submit run has 30 ms).
import * as z from "zod/mini"
import { didYouMean } from "../config/did-you-mean.ts"
import { ConfigError, type ConfigPlace, UsageError } from "../errors.ts"

/** One option of a command. */
export interface OptionSpec<T = unknown> {
  /** The value's type and bounds, for a flag's text or a config file's typed value. */
  schema: z.ZodMiniType<T>
  /** What a good value is, for errors: `--port expects a port number from 0 to 65535, got "x"`. */
  expects: string
  short?: string
  /** Placeholder of an option that takes a value, e.g. `FILE`; a flag (boolean) has none. */
  value?: string
  description: string
  default?: T
  /** The default as help shows it, where it is worked out at run time (`300; 10 with --demo`). */
  shownDefault?: string
  /** The command cannot run without it: `missing --config FILE`. */
  required?: true
  /** Its key in the command's config file (serve's `[server]`), when the file may set it. */
  config?: string
  /** Kept for pyglidein compatibility but does nothing; hidden from help. */
  ignored?: true
}

export type Options = Record<string, OptionSpec>

/** `dry-run` → `dryRun`: the key a value has in the parsed object. */
type Camel<S extends string> = S extends `${infer A}-${infer B}` ? `${A}${Capitalize<Camel<B>>}` : S

/** Options that always have a value: a default, or the command refuses to run without it. */
type Always = { default: unknown } | { required: true }

/** The parsed and validated values of `O`, keyed in camelCase; an option not given and
 *  without a default is absent. */
export type Values<O extends Options> = {
  [K in keyof O & string as O[K] extends Always ? Camel<K> : never]: z.output<O[K]["schema"]>
} & {
  [K in keyof O & string as O[K] extends Always ? never : Camel<K>]?: z.output<O[K]["schema"]>
}

/** A runnable command: its declaration plus what it does. `run` returns the exit code. */
export interface Command<O extends Options = Options> {
  /** Full name as typed, e.g. `tarball inject-password`. */
  name: string
  /** Extra paragraphs printed by `--help` after the options. */
  details?: string
  options: O
  /** Names of positional arguments, e.g. `["TARBALL"]`; absent means none are accepted. */
  positionals?: { names: string[]; min: number }
  /** The option naming an INI file whose `section` may set the options with a `config` key. */
  configFile?: { option: keyof O & string; section: string }
  /** Options that go together, shown as one choice in the usage line. */
  groups?: OptionGroup<keyof O & string>[]
  run(args: Args<O>): Promise<number>
}

/**
 * A choice among options: `atLeastOne` (with the sentence that asks for one, made from the
 * positionals where it names them, or a generic one) shows it as `(--a X | --b Y)`, else as
 * `[--a X | --b Y]`; `atMostOne` refuses two.
 */
export interface OptionGroup<Name extends string = string> {
  options: Name[]
  atLeastOne?: true | string | ((positionals: string[]) => string)
  atMostOne?: true
}

/** Parsed arguments: typed values, and the flags as given (for layering a config file). */
export interface Args<O extends Options = Options> {
  /** The command's full name, for messages. */
  name: string
  values: Values<O & typeof COMMON>
  /** The flags given, as parseArgs read them (text, or `true`), by option name. */
  given: Record<string, string | boolean | undefined>
  positionals: string[]
}

/** A boolean option (absent: false). */
export function flag(
  description: string,
  more: { short?: string; config?: string } = {},
): OptionSpec<boolean> & { default: boolean } {
  return { schema: z.boolean(), expects: "True or False", default: false, description, ...more }
}

/**
 * A command, its option types inferred for its `run`. It is handed on as a plain `Command`:
 * the command table holds commands of every option type, and `run` only ever gets the values
 * parsed from the same `options`.
 */
export function defineCommand<const O extends Options>(command: Command<O>): Command {
  return command as unknown as Command
}

/** pyglidein's `-n/--no-daemon`: kept so old crontab lines work; glidein never daemonizes. */
export const NO_DAEMON = {
  ...flag("accepted for pyglidein compatibility", { short: "n" }),
  ignored: true,
} as const

/** Options every command accepts. */
export const COMMON = {
  help: flag("show this help and exit", { short: "h" }),
  debug: flag("verbose logging; stack traces on internal errors"),
}

/** The keys a config file may set for `options`, in their order. */
export function configKeys(options: Options): string[] {
  return Object.values(options).flatMap((spec) => spec.config ?? [])
}

/** Where a value came from, so that its error names that place. */
export type Origin = { flag: string } | { place: ConfigPlace }

/** A value as given and where from, before it is checked. */
export type Given = { value: unknown; origin: Origin }

/**
 * The checked values of `options`: each from `pick` (the flags, or the flags over a config
 * file), else its default. Throws UsageError naming the flag, or ConfigError naming the
 * file, line, section and key, with one sentence.
 */
export function optionValues<O extends Options>(
  command: string,
  options: O,
  pick: (name: string, spec: OptionSpec) => Given | undefined,
): Values<O> {
  const values: Record<string, unknown> = {}
  for (const [name, spec] of Object.entries(options)) {
    const key = name.replace(/-(\w)/g, (_, c: string) => c.toUpperCase())
    const given = pick(name, spec)
    if (given === undefined) {
      if (spec.required) {
        throw new UsageError(`glidein ${command}: missing ${optionWord(name, spec)}`)
      }
      // Absent, not undefined, so that the values spread and compare as the type says.
      if (spec.default !== undefined) values[key] = spec.default
      continue
    }
    const parsed = spec.schema.safeParse(given.value)
    if (parsed.success) {
      values[key] = parsed.data
      continue
    }
    // A check that words its own refusal (checkUser's) says it; any other failure of the
    // schema (wrong type, out of bounds) is worded from `expects`, with the value as given.
    const [issue] = parsed.error.issues
    const detail =
      issue?.code === "custom"
        ? issue.message
        : `expects ${spec.expects}, got ${JSON.stringify(given.value)}`
    if ("flag" in given.origin) {
      throw new UsageError(`glidein ${command}: --${given.origin.flag} ${detail}`)
    }
    throw new ConfigError(given.origin.place, detail)
  }
  return values as Values<O>
}

/** `--config FILE` or `--demo`: how the option is typed. */
export function optionWord(name: string, spec: OptionSpec): string {
  return spec.value === undefined ? `--${name}` : `--${name} ${spec.value}`
}

/**
 * Parses `argv` (after the command name) for `command`; "help" when `--help` was given (its
 * other arguments are not checked then). Throws UsageError with one line.
 */
export function parseCommandArgs<O extends Options>(
  command: Command<O>,
  argv: string[],
): Args<O> | "help" {
  const options: Options = { ...COMMON, ...command.options }
  const config: Record<string, { type: "string" | "boolean"; short?: string }> = {}
  for (const [name, spec] of Object.entries(options)) {
    config[name] = { type: spec.value === undefined ? "boolean" : "string" }
    if (spec.short) config[name].short = spec.short
  }
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({ args: argv, options: config, strict: true, allowPositionals: true })
  } catch (error) {
    throw new UsageError(`glidein ${command.name}: ${describeParseError(error, options)}`)
  }
  const given = parsed.values as Record<string, string | boolean | undefined>
  if (given.help === true) return "help"
  const names = command.positionals?.names ?? []
  const min = command.positionals?.min ?? 0
  if (parsed.positionals.length > names.length) {
    const extra = parsed.positionals[names.length]
    throw new UsageError(`glidein ${command.name}: unexpected argument "${extra}"`)
  }
  if (parsed.positionals.length < min) {
    throw new UsageError(`glidein ${command.name}: missing ${names[parsed.positionals.length]}`)
  }
  const values = optionValues(command.name, options, (name) => {
    const value = given[name]
    return value === undefined ? undefined : { value, origin: { flag: name } }
  }) as Values<O & typeof COMMON>
  for (const group of command.groups ?? []) checkGroup(command, group, given, parsed.positionals)
  return { name: command.name, values, given, positionals: parsed.positionals }
}

/** Refuses the flags `given` when they break `group`'s rule, naming its options. */
function checkGroup<O extends Options>(
  command: Command<O>,
  group: OptionGroup,
  given: Record<string, string | boolean | undefined>,
  positionals: string[],
): void {
  const words = group.options.map((name) => shortWord(name, command.options[name]!))
  const count = group.options.filter((name) => given[name] !== undefined).length
  const ask = group.atLeastOne
  if (count === 0 && ask !== undefined) {
    const sentence =
      ask === true
        ? `give ${words.slice(0, -1).join(", ")} or ${words.at(-1)}`
        : typeof ask === "string"
          ? ask
          : ask(positionals)
    throw new UsageError(`glidein ${command.name}: ${sentence}`)
  }
  if (count > 1 && group.atMostOne) {
    throw new UsageError(`glidein ${command.name}: give either ${words.join(" or ")}, not both`)
  }
}

/** `-o OUT` where the option has a short form, else `--output OUT`: how a person types it. */
export function shortWord(name: string, spec: OptionSpec): string {
  if (spec.short === undefined) return optionWord(name, spec)
  return spec.value === undefined ? `-${spec.short}` : `-${spec.short} ${spec.value}`
}

/** parseArgs errors are long and mention internals; keep the part a user needs, and the
 *  option most likely meant by an unknown one. */
function describeParseError(error: unknown, options: Options): string {
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
