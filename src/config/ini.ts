/**
 * The INI syntax of Python's ConfigParser (Python 3 rules, `optionxform = str`), with
 * Python 2's answer to duplicates: a repeated section is reopened and a repeated key takes
 * the later value, each with a warning naming both lines.
 */
import { ConfigError } from "../errors.ts"
import { PY_NON_SPACE, pyRstrip, pyStrip, quote } from "./text.ts"
import type { ConfigWarning } from "./types.ts"

/** One `key = value` as written: the value joined over its continuation lines, raw. */
export interface IniEntry {
  key: string
  value: string
  /** Line of the key. */
  line: number
}

/** A `[section]` (reopened sections are merged into their first appearance). */
export interface IniSection {
  name: string
  /** Line of the first header; undefined for a [DEFAULT] that was never written. */
  line?: number
  entries: Map<string, IniEntry>
}

/** A parsed file: [DEFAULT] apart, then the sections in file order. */
export interface IniDocument {
  file: string
  defaults: IniSection
  sections: Map<string, IniSection>
  warnings: ConfigWarning[]
}

export interface IniOptions {
  /** Never quote the file's text in errors or warnings (secrets files). */
  redact?: boolean
}

const DEFAULT_SECTION = "DEFAULT"

/** Parses INI text as ConfigParser reads a file. Throws ConfigError naming file:line. */
export function parseIni(text: string, file: string, options: IniOptions = {}): IniDocument {
  const redact = options.redact === true
  const defaults: IniSection = { name: DEFAULT_SECTION, entries: new Map() }
  const sections = new Map<string, IniSection>()
  const warnings: ConfigWarning[] = []
  // Values are collected as line lists and joined at the end, as ConfigParser does.
  const pending = new Map<IniEntry, string[]>()
  let current: IniSection | undefined
  let entry: IniEntry | undefined
  let indentLevel = 0
  const seenKeys = new Map<IniSection, Map<string, number>>()

  // A leading byte-order mark is not text (Python would choke on it; we don't).
  const lines = text.replace(/^\ufeff/, "").split(/\r\n|\r|\n/)
  if (lines.at(-1) === "") lines.pop()

  lines.forEach((line, index) => {
    const lineNo = index + 1
    const stripped = pyStrip(line)
    const isComment = stripped.startsWith("#") || stripped.startsWith(";")
    const indent = line.search(PY_NON_SPACE)
    if (stripped === "" || isComment) {
      if (!isComment && entry !== undefined) pending.get(entry)!.push("")
      else if (isComment && entry !== undefined && current && indent > indentLevel)
        warnings.push({
          place: { file, line: lineNo, section: current.name, key: entry.key },
          message: `line ${lineNo} is indented like part of this value but starts with "${stripped[0]}", so it is read as a comment and left out (as pyglidein did); put such lines in a submit_template instead`,
        })
      return
    }
    if (current && entry !== undefined && indent > indentLevel) {
      pending.get(entry)!.push(stripped)
      return
    }
    indentLevel = indent
    const header = sectionHeader(stripped)
    if (header !== undefined) {
      entry = undefined
      if (header === DEFAULT_SECTION) {
        defaults.line ??= lineNo
        current = defaults
        return
      }
      const existing = sections.get(header)
      if (existing) {
        warnings.push({
          place: { file, line: lineNo, section: header },
          message: `section appears again (first on line ${existing.line}); its keys are merged and later values win, as Python 2 did (pyglidein on Python 3 refused this file)`,
        })
        current = existing
      } else {
        current = { name: header, line: lineNo, entries: new Map() }
        sections.set(header, current)
      }
      return
    }
    if (!current)
      throw new ConfigError(
        { file, line: lineNo },
        `expected a [Section] header before the first key${redact ? "" : `, got ${quote(stripped)}`}`,
      )
    const delim = stripped.search(/[=:]/)
    if (delim < 0)
      throw new ConfigError(
        { file, line: lineNo, section: current.name },
        `expected "key = value" or an indented continuation line${redact ? "" : `, got ${quote(stripped)}`}`,
      )
    const key = pyRstrip(stripped.slice(0, delim))
    if (key === "")
      throw new ConfigError(
        { file, line: lineNo, section: current.name },
        `expected a key name before "${stripped[delim]}"${redact ? "" : `, got ${quote(stripped)}`}`,
      )
    const value = pyStrip(stripped.slice(delim + 1))
    let keys = seenKeys.get(current)
    if (!keys) {
      keys = new Map()
      seenKeys.set(current, keys)
    }
    const firstLine = keys.get(key)
    if (firstLine !== undefined)
      warnings.push({
        place: { file, line: lineNo, section: current.name, key },
        message: `set again (first on line ${firstLine}); this later value wins, as in Python 2 (pyglidein on Python 3 refused this file)`,
      })
    else keys.set(key, lineNo)
    entry = { key, value: "", line: lineNo }
    // Map.set keeps a repeated key in its first position, as a Python dict does.
    current.entries.set(key, entry)
    pending.set(entry, [value])
  })

  for (const [e, parts] of pending) e.value = pyRstrip(parts.join("\n"))
  return { file, defaults, sections, warnings }
}

/** `[name]` → name, the way ConfigParser's permissive header regex reads it. */
function sectionHeader(stripped: string): string | undefined {
  if (!stripped.startsWith("[")) return undefined
  const close = stripped.lastIndexOf("]")
  return close >= 2 ? stripped.slice(1, close) : undefined
}
