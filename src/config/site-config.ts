/**
 * From config text to `SiteConfig`: pyglidein's Config dict rebuilt exactly (defaults,
 * [DEFAULT], interpolation, literal values, partitions inheriting [Cluster]), with the
 * place of every key, then checked against the zod schemas in one pass.
 */
import type { z } from "zod/mini"
import { ConfigError, type ConfigPlace, formatPlace } from "../errors.ts"
import defaultsText from "./client-defaults.ini" with { type: "text" }
import { didYouMean } from "./did-you-mean.ts"
import { type IniDocument, parseIni } from "./ini.ts"
import { interpolateInSection, referencedNames } from "./interpolate.ts"
import { typedValue } from "./literal-eval.ts"
import {
  customEnvSchema,
  type GlideinSettings,
  glideinSchema,
  glideinWithDemandSchema,
  isTextSchema,
  type ModeSettings,
  modeSchema,
  type PartitionSettings,
  partitionSchema,
  SECTION_SCHEMAS,
  type StartdChecksSettings,
  type StartdLoggingSettings,
  type SubmitFileSettings,
  startdChecksSchema,
  startdLoggingSchema,
  submitFileSchema,
} from "./schema.ts"
import { quote } from "./text.ts"
import type { ConfigWarning, IniValue } from "./types.ts"

/** A loaded, validated site config: pyglidein's view and our typed views of it. */
export interface SiteConfig {
  file: string
  /** Exactly pyglidein's Config dict: defaults merged, partitions inheriting [Cluster]. */
  sections: Record<string, Record<string, IniValue>>
  /** Cluster.partitions (deduplicated), or ["Cluster"] when absent. */
  partitions: string[]
  warnings: ConfigWarning[]
  /** Where a key's value came from; `line` is undefined for built-in defaults. */
  place(section: string, key: string): ConfigPlace
  mode: ModeSettings
  glidein: GlideinSettings
  /** [Cluster] plus the partition's own keys, typed, with defaults applied. */
  partitionSettings: Record<string, PartitionSettings>
  submitFile: SubmitFileSettings
  customEnv: Record<string, string>
  startdLogging: StartdLoggingSettings
  startdChecks: StartdChecksSettings
}

/** One key of the dict with where it was set. `text` is the value after interpolation. */
interface Slot {
  value: IniValue
  text: string
  place: ConfigPlace
}

type Dict = Map<string, Map<string, Slot>>

const BUILTIN = "(built-in defaults)"
const KNOWN_SECTIONS = Object.keys(SECTION_SCHEMAS)
const PARTITION_KEYS = Object.keys(partitionSchema.shape)
let builtinDefaults: IniDocument | undefined

export interface SiteConfigOptions {
  /** The command line names the demand source (`--server`, `$GLIDEIN_SERVER`,
   *  `--state-file`), so the config need not have `address` or `ssh_state`. */
  demandFromCommandLine?: boolean
}

/** Parses and validates config text (pure). Throws ConfigError for an unusable config. */
export function parseSiteConfig(
  text: string,
  file: string,
  options: SiteConfigOptions = {},
): SiteConfig {
  const { doc, dict, partitions, warnings, errors } = readConfig(text, file)
  warnUnknown(doc, partitions, warnings)
  warnUnused(doc, dict, partitions, warnings)

  const check = new Checker(dict, doc, errors)
  const mode = check.section("Mode", modeSchema)
  const glidein = check.section(
    "Glidein",
    options.demandFromCommandLine ? glideinSchema : glideinWithDemandSchema,
  )
  const submitFile = check.section("SubmitFile", submitFileSchema)
  const customEnv = check.section("CustomEnv", customEnvSchema)
  const startdLogging = check.section("StartdLogging", startdLoggingSchema)
  const startdChecks = check.section("StartdChecks", startdChecksSchema)
  const partitionSettings: Record<string, PartitionSettings> = {}
  for (const p of partitions) {
    const settings = check.section(p, partitionSchema)
    if (settings) partitionSettings[p] = settings
  }
  if (errors.length > 0) throw firstError(errors)

  return {
    file,
    sections: plainSections(dict),
    partitions,
    warnings,
    place: (section, key) => dict.get(section)?.get(key)?.place ?? { file, section, key },
    mode: mode!,
    glidein: glidein!,
    partitionSettings,
    submitFile: submitFile!,
    customEnv: customEnv!,
    startdLogging: startdLogging!,
    startdChecks: startdChecks!,
  }
}

/**
 * The dict pyglidein's Config class would hold for this text, before any validation of
 * ours (so also for configs we refuse). Throws ConfigError only where Python would crash.
 */
export function pyglideinView(
  text: string,
  file: string,
): Record<string, Record<string, IniValue>> {
  return plainSections(readConfig(text, file).dict)
}

function readConfig(text: string, file: string) {
  builtinDefaults ??= parseIni(defaultsText, BUILTIN)
  const doc = parseIni(text, file)
  const dict: Dict = new Map()
  addDocument(dict, builtinDefaults, "builtin")
  addDocument(dict, doc, "file")
  const warnings = [...doc.warnings]
  const errors: ConfigError[] = []
  const partitions = populatePartitions(dict, doc, warnings, errors)
  return { doc, dict, partitions, warnings, errors }
}

function plainSections(dict: Dict): Record<string, Record<string, IniValue>> {
  return Object.fromEntries(
    [...dict].map(([name, slots]) => [
      name,
      Object.fromEntries([...slots].map(([k, s]) => [k, s.value])),
    ]),
  )
}

/** pyglidein's `_config_options_dict`: every option of every section, DEFAULT keys
 *  included, interpolated and literal-evaluated, merged over what is already there. */
function addDocument(dict: Dict, doc: IniDocument, origin: "builtin" | "file"): void {
  for (const [name, section] of doc.sections) {
    let slots = dict.get(name)
    if (!slots) {
      slots = new Map()
      dict.set(name, slots)
    }
    const own = [...section.entries.values()].map((e) => ({ e, from: section }))
    const inherited = [...doc.defaults.entries.values()]
      .filter((e) => !section.entries.has(e.key))
      .map((e) => ({ e, from: doc.defaults }))
    for (const { e, from } of [...own, ...inherited]) {
      const place: ConfigPlace =
        origin === "builtin"
          ? { file: doc.file, section: name, key: e.key }
          : { file: doc.file, line: e.line, section: from.name, key: e.key }
      const text = interpolateInSection(e.value, doc, section, place)
      slots.set(e.key, {
        value: typedValue(text),
        text,
        place,
      })
    }
  }
}

/** pyglidein's `_populate_partitions`, plus the checks it lacked. */
function populatePartitions(
  dict: Dict,
  doc: IniDocument,
  warnings: ConfigWarning[],
  errors: ConfigError[],
): string[] {
  const cluster = dict.get("Cluster")
  const slot = cluster?.get("partitions")
  if (!cluster || !slot) return ["Cluster"]
  const names = partitionNames(slot)
  slot.value = names
  const unique: string[] = []
  for (const name of names) {
    if (name === "") {
      warnings.push({
        place: slot.place,
        message: "has an empty name (a stray comma?); it is ignored",
      })
    } else if (unique.includes(name)) {
      warnings.push({
        place: slot.place,
        message: `names ${quote(name)} twice; it is used once (pyglidein submitted for it twice)`,
      })
    } else if (!doc.sections.has(name)) {
      const mean = didYouMean(
        name,
        [...doc.sections.keys()].filter((s) => !KNOWN_SECTIONS.includes(s)),
      )
      errors.push(
        new ConfigError(
          slot.place,
          `names partition ${quote(name)}, but there is no section of that name${mean ? ` (did you mean [${mean}]?)` : ""}`,
        ),
      )
    } else {
      unique.push(name)
    }
    const own = dict.get(name)
    if (name !== "" && own) {
      const merged = new Map(cluster)
      for (const [k, v] of own) merged.set(k, v)
      dict.set(name, merged)
    }
  }
  return unique
}

/** `a, b` → ["a", "b"] as pyglidein split it; a list literal is taken as the list. */
function partitionNames(slot: Slot): string[] {
  const v = slot.value
  if (Array.isArray(v) && v.every((x) => typeof x === "string" || typeof x === "number"))
    return v.map((x) => String(x).trim())
  const text = typeof v === "string" ? v : slot.text
  return text.split(",").map((k) => k.trim())
}

/** Warnings for sections and keys nobody reads, with the name most likely meant. */
function warnUnknown(doc: IniDocument, partitions: string[], warnings: ConfigWarning[]): void {
  const file = doc.file
  const names = new Set([...KNOWN_SECTIONS, ...doc.sections.keys()])
  // Keys that [DEFAULT] has or that a %(name)s names are the file's own variables.
  const variables = new Set(doc.defaults.entries.keys())
  for (const section of [doc.defaults, ...doc.sections.values()])
    for (const entry of section.entries.values())
      for (const name of referencedNames(entry.value)) variables.add(name)
  for (const [name, section] of doc.sections) {
    const place = { file, line: section.line, section: name }
    const keys = knownKeys(name, partitions)
    if (keys === undefined) {
      const mean = didYouMean(name, KNOWN_SECTIONS)
      const looksLikePartition = [...section.entries.keys()].some((k) => PARTITION_KEYS.includes(k))
      warnings.push({
        place,
        message: mean
          ? `unknown section, did you mean [${mean}]? Its keys are ignored (pyglidein ignored them too)`
          : looksLikePartition
            ? `section is not used: it is not one of [Cluster] partitions (${partitions.map((p) => quote(p)).join(", ")})`
            : "unknown section; its keys are ignored",
      })
    } else if (keys !== "any") {
      for (const entry of section.entries.values()) {
        if (keys.includes(entry.key) || variables.has(entry.key)) continue
        warnings.push({
          place: { ...place, line: entry.line, key: entry.key },
          message: unknownKey(entry.key, name, keys),
        })
      }
    }
    if (name === "CustomEnv" && doc.defaults.entries.size > 0)
      warnings.push({
        place,
        message: `also gets every [DEFAULT] key (${[...doc.defaults.entries.keys()].join(", ")}) as an environment variable of the glidein, as in pyglidein`,
      })
    for (const entry of section.entries.values()) {
      const glued = /\[([^[\]\n]+)\]$/.exec(entry.value)
      if (glued && entry.value !== glued[0] && names.has(glued[1]!))
        warnings.push({
          place: { ...place, line: entry.line, key: entry.key },
          message: `value ends with ${quote(glued[0])}; is a line break missing before that section header?`,
        })
    }
  }
}

/** A setting pyglidein read that glidein accepts but does not act on, and why. */
interface Unused {
  section: "Mode" | "partition" | "SubmitFile" | "StartdChecks"
  key: string
  /** Whether the value written asks for something (`section` is the section's own slots). */
  asks(value: IniValue, section: Map<string, Slot>, dict: Dict): boolean
  why: string
}

const truthy = (value: IniValue) => value === true || value === 1
const noOwnScript = (dict: Dict) => {
  const script = dict.get("Glidein")?.get("glidein_script")?.value
  return script === undefined || script === null
}
const CLEANUP_WHY = "each glidein job removes its own directory when it ends"

/** Every setting of that kind: no setting may silently do nothing. */
const UNUSED: Unused[] = [
  {
    section: "Mode",
    key: "debug",
    asks: truthy,
    why: "batch output is always kept, in the state folder's out/; --debug gives a verbose run",
  },
  { section: "partition", key: "cleanup", asks: truthy, why: CLEANUP_WHY },
  {
    section: "partition",
    key: "dir_cleanup",
    asks: (_, own) => !truthy(own.get("cleanup")?.value ?? false),
    why: CLEANUP_WHY,
  },
  { section: "partition", key: "cvmfs", asks: () => true, why: "nothing in glidein depends on it" },
  {
    section: "partition",
    key: "mma_cmd",
    asks: () => true,
    why: "the report to the server leaves out idle times",
  },
  {
    section: "SubmitFile",
    key: "cvmfs_job_wrapper",
    asks: (value, _, dict) => truthy(value) && noOwnScript(dict),
    why: "to wrap every payload job, set GLIDEIN_JOB_WRAPPER in [CustomEnv]; a glidein_script of your own gets CVMFS_JOB_WRAPPER=1",
  },
  {
    section: "StartdChecks",
    key: "enable_startd_checks",
    asks: (_, __, dict) => noOwnScript(dict),
    why: "the built-in glidein_start.sh runs no startd checks; a glidein_script of your own gets DISABLE_STARTD_CHECKS=1 for False",
  },
]

/** Warnings for settings written in the file that glidein accepts but does not use. */
function warnUnused(
  doc: IniDocument,
  dict: Dict,
  partitions: string[],
  warnings: ConfigWarning[],
): void {
  for (const [name, section] of doc.sections) {
    const kind = name === "Cluster" || partitions.includes(name) ? "partition" : name
    const own = dict.get(name)
    if (!own) continue
    for (const entry of section.entries.values()) {
      const rule = UNUSED.find((u) => u.section === kind && u.key === entry.key)
      const slot = own.get(entry.key)
      if (!rule || !slot || !rule.asks(slot.value, own, dict)) continue
      warnings.push({
        place: { file: doc.file, line: entry.line, section: name, key: entry.key },
        message: `accepted for pyglidein compatibility; glidein does not use it (${rule.why})`,
      })
    }
  }
}

/** The keys a section may hold; "any" for [CustomEnv]; undefined for an unknown section. */
function knownKeys(section: string, partitions: string[]): string[] | "any" | undefined {
  if (section === "CustomEnv") return "any"
  if (section === "Cluster" || partitions.includes(section)) return PARTITION_KEYS
  const schema = SECTION_SCHEMAS[section as keyof typeof SECTION_SCHEMAS]
  return schema && "shape" in schema ? Object.keys(schema.shape) : undefined
}

function unknownKey(key: string, section: string, keys: string[]): string {
  const mean = didYouMean(key, keys)
  if (mean) return `unknown key, did you mean ${mean}? It is ignored`
  const home = KNOWN_SECTIONS.find((s) => {
    const k = knownKeys(s, [])
    return s !== section && Array.isArray(k) && k.includes(key)
  })
  if (home) return `unknown key in [${section}]; it belongs in [${home}] and is ignored here`
  return "unknown key; it is ignored (pyglidein ignored it too)"
}

/** Runs the zod schemas over the dict and turns their issues into ConfigErrors. */
class Checker {
  constructor(
    private readonly dict: Dict,
    private readonly doc: IniDocument,
    private readonly errors: ConfigError[],
  ) {}

  section<S extends z.ZodMiniType>(name: string, schema: S): z.output<S> | undefined {
    const slots = this.dict.get(name) ?? new Map<string, Slot>()
    const shape = "shape" in schema ? (schema.shape as Record<string, z.ZodMiniType>) : undefined
    const input: Record<string, IniValue> = {}
    for (const [key, slot] of slots) {
      const field = shape ? shape[key] : (schema.def as { valueType?: z.ZodMiniType }).valueType
      // Text keys keep what was written: `site = 2021` is "2021" and `CUDA_VISIBLE_DEVICES =
      // 0,1` is "0,1", where pyglidein held a number or a tuple.
      // `None` leaves a text key unset, unless the key takes False or None itself: those
      // pyglidein tested for truth (`if node_property:`), so `node_property = False` is no
      // property, not the text "False", and `gpu_submit = False` no GPU option.
      if (field && isTextSchema(field) && typeof slot.value !== "string") {
        if (field.safeParse(slot.value).success) input[key] = slot.value
        else if (slot.value !== null) input[key] = slot.text
      } else input[key] = slot.value
    }
    // zod would compile each object parser with `new Function` on first use: slower than
    // interpreting it for the one parse a cron run does.
    const result = schema.safeParse(input, { jitless: true })
    if (result.success) return result.data
    const keys = shape ? Object.keys(shape) : []
    for (const issue of result.error.issues)
      this.errors.push(this.toError(name, slots, keys, issue))
    return undefined
  }

  private toError(
    section: string,
    slots: Map<string, Slot>,
    keys: string[],
    issue: z.core.$ZodIssue,
  ): ConfigError {
    const key = typeof issue.path[0] === "string" ? issue.path[0] : undefined
    const slot = key === undefined ? undefined : slots.get(key)
    // A key every partition needs is missing from [Cluster], where it belongs.
    const home = slot === undefined && !KNOWN_SECTIONS.includes(section) ? "Cluster" : section
    const header = this.doc.sections.get(home)
    const place = slot?.place ?? { file: this.doc.file, line: header?.line, section: home, key }
    // A required key hidden by a typo: name the typo rather than the key's format. For
    // "missing: set address = … or ssh_state = True" a typo of either key hides it.
    const alternatives = (k: string) => issue.code === "custom" && issue.message.includes(`${k} =`)
    const typo =
      slot === undefined && key !== undefined
        ? this.typo(home, section, [key, ...keys.filter((k) => k !== key && alternatives(k))], keys)
        : ""
    let detail: string
    if (typo) detail = `missing; ${typo}`
    // Cross-field checks explain themselves; value checks ("expected …") get the value.
    else if (issue.code === "custom" && !issue.message.startsWith("expected"))
      detail = issue.message
    else if (issue.code === "invalid_key")
      detail =
        "is not a valid environment variable name (letters, digits and _, not starting with a digit)"
    else if (slot === undefined) detail = `missing; ${issue.message}`
    else detail = `${issue.message}, got ${quote(slot.text)}${continuationHint(slot)}`
    if (place.section !== section && issue.code === "custom")
      detail += ` (for partition [${section}])`
    return new ConfigError(place, detail)
  }

  /** "did you mean …?" naming what the file wrote for a missing key (`wanted[0]`, or one that
   *  would do instead) under a wrong name: a section named like `home` (`[cluster]`), or a
   *  key named like one of `wanted` (`schedular`, by the unknown-key warning's test) in
   *  `home` or in the partition `section`; "" for none. */
  private typo(home: string, section: string, wanted: string[], keys: string[]): string {
    if (!this.doc.sections.has(home)) {
      for (const written of this.doc.sections.values()) {
        if (KNOWN_SECTIONS.includes(written.name)) continue
        if (didYouMean(written.name, KNOWN_SECTIONS) !== home) continue
        const caseOnly = written.name.toLowerCase() === home.toLowerCase()
        return `did you mean [${written.name}] (line ${written.line})?${caseOnly ? " Section names are case-sensitive" : ""}`
      }
    }
    for (const name of new Set([home, section])) {
      for (const entry of this.doc.sections.get(name)?.entries.values() ?? []) {
        const meant = keys.includes(entry.key) ? undefined : didYouMean(entry.key, keys)
        if (meant === undefined || !wanted.includes(meant)) continue
        const where = `line ${entry.line}${name === home ? "" : `, in [${name}]`}`
        return `did you mean ${quote(entry.key)} (${where})${meant === wanted[0] ? "" : ` to be ${meant}`}?`
      }
    }
    return ""
  }
}

/** A key line indented under another key continues that key's value: say so. */
function continuationHint(slot: Slot): string {
  const lines = slot.text.split("\n")
  const at = lines.findIndex((l, i) => i > 0 && /^[^\s=:]+\s*[=:]/.test(l))
  if (at < 0 || slot.place.line === undefined) return ""
  return `; the indented line ${quote(lines[at]!)} below it continues this value: unindent it to make it a key`
}

/** The error to show: the first in the file, saying how many more wait behind it. */
function firstError(errors: ConfigError[]): ConfigError {
  const sorted = [...errors].sort(
    (a, b) => (a.place.line ?? Number.MAX_SAFE_INTEGER) - (b.place.line ?? Number.MAX_SAFE_INTEGER),
  )
  const first = sorted[0]!
  // A bad [Cluster] value fails once per partition; count it once.
  const more = new Set(sorted.map((e) => formatPlace(e.place))).size - 1
  if (more === 0) return first
  return new ConfigError(
    first.place,
    `${first.detail} (and ${more} more problem${more > 1 ? "s" : ""})`,
  )
}
