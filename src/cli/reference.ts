/**
 * @module
 * A command's reference page in Markdown, from the same declaration as its `--help`: usage,
 * a table of its options (what each takes, its default, its config-file key), and the
 * command's notes. docs/commands/*.md are written from it.
 */
import { COMMON, type Command } from "./command.ts"
import { shownDefault, usageLine, visible } from "./help.ts"
import { COMMANDS } from "./index.ts"

/** The reference page of the command named `name` (as typed: `tarball build`). */
export async function commandReference(name: string): Promise<string> {
  const entry = COMMANDS.find((c) => c.name === name)
  if (entry === undefined) throw new Error(`no command named "${name}"`)
  return renderReference(await entry.load(), entry.summary)
}

/** The reference page of `command`, under its one-line `summary`. */
export function renderReference(command: Command, summary: string): string {
  const file = command.configFile
  const header = ["Option", "Takes", "Default", ...(file ? [`\`[${file.section}]\` key`] : [])]
  const rows = visible({ ...command.options, ...COMMON }).map(([name, spec]) => {
    const flag = `${spec.short ? `\`-${spec.short}\`, ` : ""}\`--${name}${spec.value ? ` ${spec.value}` : ""}\``
    // A flag takes nothing on the command line, but True or False in a config file.
    const takes = spec.value !== undefined || spec.config !== undefined ? spec.expects : ""
    const key = spec.config === undefined ? "" : `\`${spec.config}\``
    return [flag, takes, shownDefault(spec) ?? "", ...(file ? [key] : []), spec.description]
  })
  const table = [[...header, "Description"], header.map(() => "---").concat("---"), ...rows].map(
    (cells) => `| ${cells.map(cell).join(" | ")} |`,
  )
  const lines = [
    `# glidein ${command.name}`,
    "",
    `${summary.charAt(0).toUpperCase()}${summary.slice(1)}.`,
    "",
    "```sh",
    `glidein ${command.name} ${usageLine(command)}`.trimEnd(),
    "```",
    "",
    "## Options",
    "",
    ...table,
  ]
  if (file) {
    lines.push(
      "",
      `\`--${file.option}\` names an INI file whose \`[${file.section}]\` section may set the options that have a key above; the command line wins over the file, and the file over the defaults.`,
    )
  }
  if (command.details) lines.push("", "## Notes", "", ...markdownText(command.details))
  return `${lines.join("\n")}\n`
}

/** A table cell: one line, its `|` escaped. */
function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ")
}

/**
 * Help's notes as Markdown: hard-wrapped prose stays as it is (Markdown joins the lines),
 * and runs of indented lines (endpoint lists, example commands) become code blocks, which
 * keep their alignment.
 */
function markdownText(details: string): string[] {
  const out: string[] = []
  let inBlock = false
  for (const line of details.trimEnd().split("\n")) {
    const indented = line.startsWith("  ")
    if (indented !== inBlock) {
      if (indented && out.length > 0 && out.at(-1) !== "") out.push("")
      out.push(indented ? "```text" : "```")
      if (!indented) out.push("")
      inBlock = indented
    }
    out.push(indented ? line.slice(2) : line)
  }
  if (inBlock) out.push("```")
  return out
}
