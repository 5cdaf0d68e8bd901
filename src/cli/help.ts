/**
 * @module
 * A command's usage line and `--help` text, both from its option table.
 */
import {
  COMMON,
  type Command,
  configKeys,
  type OptionSpec,
  type Options,
  optionWord,
} from "./command.ts"

/**
 * Usage after `glidein <name> `: positionals, then each option (optional ones in brackets) or
 * choice of options, in the order declared.
 */
export function usageLine(command: Command): string {
  const words = (command.positionals?.names ?? []).map((name, i) =>
    i < (command.positionals?.min ?? 0) ? name : `[${name}]`,
  )
  const groups = command.groups ?? []
  const typed = (name: string, spec: OptionSpec) =>
    spec.short ? `-${spec.short}|${optionWord(name, spec)}` : optionWord(name, spec)
  for (const [name, spec] of visible(command.options)) {
    const group = groups.find((g) => g.options.includes(name))
    if (group === undefined) {
      words.push(spec.required ? typed(name, spec) : `[${typed(name, spec)}]`)
    } else if (group.options[0] === name) {
      const choice = group.options.map((n) => typed(n, command.options[n]!)).join(" | ")
      words.push(group.atLeastOne ? `(${choice})` : `[${choice}]`)
    }
  }
  return words.join(" ")
}

/** The options help lists: not the ones kept only for pyglidein. */
export function visible(options: Options): [string, OptionSpec][] {
  return Object.entries(options).filter(([, spec]) => !spec.ignored)
}

/** The default help and the reference show, if any: a flag's `false` goes without saying. */
export function shownDefault(spec: OptionSpec): string | undefined {
  if (spec.shownDefault !== undefined) return spec.shownDefault
  return spec.value !== undefined && spec.default !== undefined ? String(spec.default) : undefined
}

/** The `--help` text of a command, under its one-line summary (from the command table). */
export function commandHelp(command: Command, summary: string): string {
  const lines = [
    `glidein ${command.name} — ${summary}`,
    "",
    `Usage: glidein ${command.name} ${usageLine(command)}`.trimEnd(),
    "",
    "Options:",
  ]
  const rows: [string, string][] = []
  for (const [name, spec] of visible({ ...command.options, ...COMMON })) {
    const flag = `${spec.short ? `-${spec.short}, ` : "    "}${optionWord(name, spec)}`
    const byDefault = shownDefault(spec)
    rows.push([flag, byDefault ? `${spec.description} (default ${byDefault})` : spec.description])
  }
  const width = Math.max(...rows.map(([f]) => f.length))
  for (const [flag, description] of rows) lines.push(`  ${flag.padEnd(width)}  ${description}`)
  const file = command.configFile
  if (file !== undefined) {
    lines.push(
      "",
      `--${file.option} ${command.options[file.option]?.value ?? "FILE"} may set the options of these keys (the command line wins):`,
      `  [${file.section}] ${configKeys(command.options).join(", ")}`,
    )
  }
  if (command.details) lines.push("", command.details.trimEnd())
  return `${lines.join("\n")}\n`
}
