/**
 * The secrets file (`--secrets`): read only when no other user can read it, and never
 * quoted in any message.
 */
// node:fs, not node:fs/promises: this module loads on every submit run, and loading
// node:fs/promises as well costs ~0.6 ms of it (measured in a compiled binary).
import { readFileSync, type Stats, statSync } from "node:fs"
import { ConfigError } from "../errors.ts"
import { parseIni } from "./ini.ts"
import { interpolateInSection } from "./interpolate.ts"
import { literalEval } from "./literal-eval.ts"
import { type Secrets, secretsSchema } from "./schema.ts"

/** Loads a secrets file. ConfigError unless it is a regular file of mode 0600 (or
 *  stricter); its values never appear in errors. */
export async function loadSecrets(path: string): Promise<Secrets> {
  let info: Stats
  try {
    info = statSync(path)
  } catch (error) {
    const e = error as NodeJS.ErrnoException
    throw new ConfigError({ file: path }, `cannot read the secrets file (${e.code ?? e.message})`)
  }
  if (!info.isFile())
    throw new ConfigError({ file: path }, "the secrets file is not a regular file")
  const mode = info.mode & 0o777
  if ((mode & 0o077) !== 0)
    throw new ConfigError(
      { file: path },
      `the secrets file has mode ${mode.toString(8).padStart(4, "0")}, so other users can read it; run: chmod 600 ${path}`,
    )
  return parseSecrets(readFileSync(path, "utf8"), path)
}

/** Parses secrets text (pure). Values are taken as written; a quoted value is unquoted. */
export function parseSecrets(text: string, file: string): Secrets {
  const doc = parseIni(text, file, { redact: true })
  const input: Record<string, Record<string, string>> = {}
  for (const [name, section] of doc.sections) {
    const values: Record<string, string> = {}
    for (const entry of section.entries.values()) {
      const place = { file, line: entry.line, section: name, key: entry.key }
      const raw = interpolateInSection(entry.value, doc, section, place, true)
      const value = literalEval(raw)
      values[entry.key] = typeof value === "string" ? value : raw
    }
    input[name] = values
  }
  const result = secretsSchema.safeParse(input)
  if (result.success) return result.data
  const issue = result.error.issues[0]!
  throw new ConfigError(
    { file, section: String(issue.path[0] ?? ""), key: issue.path[1]?.toString() },
    "has a value of the wrong kind (not shown)",
  )
}
