/**
 * The placeholder syntax of job templates, built-in and site-supplied alike: `{{NAME}}` is
 * replaced by the value of NAME; a line holding nothing but a placeholder whose value is empty
 * disappears. Any `{{word}}` that is not a known placeholder is an error naming the template's
 * file and line, so a typo never reaches a batch system.
 */
import { ConfigError } from "../errors.ts"

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g
const ALONE = /^[ \t]*\{\{\s*([A-Za-z0-9_]+)\s*\}\}[ \t]*$/

/** Replaces every `{{NAME}}` in `text` with `values[NAME]`; `source` names the template. */
export function renderTemplate(
  text: string,
  values: Readonly<Record<string, string>>,
  source: string,
): string {
  const lines = text.split("\n")
  const out: string[] = []
  lines.forEach((line, index) => {
    const alone = ALONE.exec(line)
    if (alone && values[alone[1]!] === "") return
    out.push(
      line.replace(PLACEHOLDER, (_, name: string) => {
        const value = values[name]
        if (value === undefined) {
          throw new ConfigError(
            { file: source, line: index + 1 },
            `unknown placeholder "{{${name}}}"; known: ${Object.keys(values).join(", ")}`,
          )
        }
        return value
      }),
    )
  })
  return out.join("\n")
}
