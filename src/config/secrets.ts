/**
 * The secrets file (`--secrets`): read only when no other user can read it, and never
 * quoted in any message.
 */
import { ConfigError } from "../errors.ts"
import { readPrivateFile } from "../private-file.ts"
import { parseIni } from "./ini.ts"
import { interpolateInSection } from "./interpolate.ts"
import { literalEval } from "./literal-eval.ts"
import { type Secrets, secretsSchema } from "./schema.ts"

/** Loads a secrets file. ConfigError unless it is a regular file of mode 0600 (or
 *  stricter); its values never appear in errors. */
export async function loadSecrets(path: string): Promise<Secrets> {
  return parseSecrets(readPrivateFile(path, "secrets file"), path)
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
