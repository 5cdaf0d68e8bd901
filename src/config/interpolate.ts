/**
 * ConfigParser's BasicInterpolation: `%(name)s` takes another key of the same section (or
 * of [DEFAULT]), `%%` is a literal `%`. `$VAR` is not touched: it is for the shell.
 */
import { ConfigError, type ConfigPlace } from "../errors.ts"
import type { IniDocument, IniSection } from "./ini.ts"
import { quote } from "./text.ts"

const MAX_DEPTH = 10
/** `%(name)s`, the name captured. */
const REFERENCE = /%\(([^)]+)\)s/g
const REFERENCE_AT_START = new RegExp(`^${REFERENCE.source}`)

/** The names `raw`'s `%(name)s` references name (a scan: `%%(x)s` counts too). */
export function referencedNames(raw: string): string[] {
  return [...raw.matchAll(REFERENCE)].map((m) => m[1]!)
}

/**
 * Expands `raw`, a value read in `section` of `doc`, as ConfigParser does: `%(name)s` takes
 * the section's raw value of that name, else [DEFAULT]'s.
 */
export function interpolateInSection(
  raw: string,
  doc: IniDocument,
  section: IniSection,
  place: ConfigPlace,
  redact = false,
): string {
  const lookup = (name: string) =>
    section.entries.get(name)?.value ?? doc.defaults.entries.get(name)?.value
  return interpolate(raw, lookup, place, redact)
}

/**
 * Expands `raw`, looking names up with `lookup` (raw values of the section, then
 * [DEFAULT]). Throws ConfigError at `place` where Python would fail, with a fix in it;
 * `redact` keeps even referenced names out of the message (secrets).
 */
export function interpolate(
  raw: string,
  lookup: (name: string) => string | undefined,
  place: ConfigPlace,
  redact = false,
): string {
  if (!raw.includes("%")) return raw
  const out: string[] = []
  expand(raw, lookup, { place, redact }, out, 1)
  return out.join("")
}

function expand(
  text: string,
  lookup: (name: string) => string | undefined,
  at: { place: ConfigPlace; redact: boolean },
  out: string[],
  depth: number,
): void {
  const { place } = at
  if (depth > MAX_DEPTH)
    throw new ConfigError(
      place,
      `%(name)s references nest more than ${MAX_DEPTH} deep; does a value refer to itself?`,
    )
  let rest = text
  while (rest.length > 0) {
    const p = rest.indexOf("%")
    if (p < 0) {
      out.push(rest)
      return
    }
    out.push(rest.slice(0, p))
    rest = rest.slice(p)
    const next = rest[1]
    if (next === "%") {
      out.push("%")
      rest = rest.slice(2)
    } else if (next === "(") {
      const m = REFERENCE_AT_START.exec(rest)
      if (!m)
        throw new ConfigError(
          place,
          `expected %(name)s after "%(", or "%%" for a literal "%" (ConfigParser's interpolation)`,
        )
      const name = m[1]!
      rest = rest.slice(m[0].length)
      const value = lookup(name)
      if (value === undefined)
        throw new ConfigError(
          place,
          at.redact
            ? `a %(name)s reference names a key that is not set in this section or [DEFAULT]`
            : `%(name)s names ${quote(name)}, which is not set in this section or [DEFAULT] (write "%%" for a literal "%")`,
        )
      if (value.includes("%")) expand(value, lookup, at, out, depth + 1)
      else out.push(value)
    } else {
      throw new ConfigError(
        place,
        `a lone "%" must be written "%%" (ConfigParser reads "%" as the start of %(name)s)`,
      )
    }
  }
}
