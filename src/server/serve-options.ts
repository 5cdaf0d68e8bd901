/**
 * The settings of `glidein serve`, from its flags over an optional `--config` INI file
 * (`[server]` section, keys named like the flags: `port`, `host`, `constraint`, `user`,
 * `delay`, `condor_q`, `db`, `tokens`, `demo`) over the defaults, and the allotment policy
 * (`[allot]` for every site, `[allot NAME]` for the site reporting as NAME or with the token
 * named NAME). Each value is checked once, and an error names the flag, or the file, line,
 * section and key it came from.
 */
import { join } from "node:path"
import { type AllotPolicy, type AllotTerms, DEFAULT_TERMS } from "../allotment/allot-policy.ts"
import { homeDir } from "../client/state-dir.ts"
import { didYouMean } from "../config/did-you-mean.ts"
import { parseIni } from "../config/ini.ts"
import { interpolateInSection } from "../config/interpolate.ts"
import { typedValue } from "../config/literal-eval.ts"
import type { IniValue } from "../config/types.ts"
import { checkConstraint, checkUser } from "../demand/index.ts"
import { ConfigError, type ConfigPlace, formatPlace, UsageError } from "../errors.ts"

/** The effective settings. */
export interface ServeOptions {
  port: number
  host: string
  constraint?: string
  user?: string
  /** Seconds between the starts of two condor_q polls. */
  delayS: number
  condorQ: string
  db: string
  tokens?: string
  demo: boolean
  /** The allotment policy of `get_allotment`, when the file has `[allot]` sections. */
  allot?: AllotPolicy
}

/** The command-line flags, as parsed (strings, booleans). */
export interface ServeFlags {
  port?: string
  host?: string
  constraint?: string
  user?: string
  delay?: string
  condorQ?: string
  db?: string
  tokens?: string
  demo?: boolean
}

export const DEFAULT_PORT = 11001
/**
 * Every interface, as pyglidein listened, because sites on other clusters must reach
 * get_state; unlike pyglidein it can be narrowed with --host.
 */
export const DEFAULT_HOST = "0.0.0.0"
export const DEFAULT_DELAY_S = 300
/** The demo queue changes every few minutes; a short delay makes that visible. */
export const DEMO_DELAY_S = 10
const MAX_DELAY_S = 86_400

const KEYS = ["port", "host", "constraint", "user", "delay", "condor_q", "db", "tokens", "demo"]
const SECTION = "server"

/** Where the database goes by default: the XDG state directory. */
export function defaultDbPath(env: Record<string, string | undefined>, demo: boolean): string {
  const state = env.XDG_STATE_HOME || join(homeDir(env), ".local", "state")
  return join(state, "glidein", demo ? "serve-demo.db" : "serve.db")
}

type Source = { flag: string } | { place: ConfigPlace }

function fail(source: Source, detail: string): never {
  if ("flag" in source) throw new UsageError(`glidein serve: --${source.flag} ${detail}`)
  throw new ConfigError(source.place, detail)
}

function wholeNumber(
  value: IniValue,
  source: Source,
  min: number,
  max: number,
  what: string,
): number {
  const n =
    typeof value === "number"
      ? value
      : typeof value === "string" && /^\s*\d+\s*$/.test(value)
        ? Number(value)
        : Number.NaN
  if (!Number.isInteger(n) || n < min || n > max) {
    fail(source, `expects ${what} from ${min} to ${max}, got ${JSON.stringify(value)}`)
  }
  return n
}

function text(value: IniValue, source: Source, what: string): string {
  if (typeof value !== "string" || value.trim() === "") {
    fail(source, `expects ${what}, got ${JSON.stringify(value)}`)
  }
  return value
}

/** `[allot]` keys: the term each sets, and what it takes (`null` allowed: no cap). */
const ALLOT_KEYS: Record<
  string,
  { term: keyof AllotTerms; min: number; max: number; whole: boolean; none?: true }
> = {
  weight: { term: "weight", min: 0, max: 1_000_000, whole: false },
  warm: { term: "warm", min: 0, max: 1_000_000, whole: true },
  max: { term: "max", min: 0, max: 100_000_000, whole: true, none: true },
  queued_ratio: { term: "queuedRatio", min: 0, max: 1_000_000, whole: false, none: true },
  queued_floor: { term: "queuedFloor", min: 0, max: 1_000_000, whole: true },
  ramp_up: { term: "rampUp", min: 0.001, max: 1, whole: false },
  per_round: { term: "perRound", min: 0, max: 100_000_000, whole: true, none: true },
  backoff_after: { term: "backoffAfter", min: 1, max: 1_000_000, whole: true },
  backoff_s: { term: "backoffS", min: 0, max: 30 * 86_400, whole: false },
  probe: { term: "probe", min: 0, max: 1_000_000, whole: true },
}

/** One `[allot]` value, checked. */
function allotValue(key: string, value: IniValue, place: ConfigPlace): number | null {
  const spec = ALLOT_KEYS[key]!
  if (value === null && spec.none) return null
  const n = typeof value === "number" ? value : Number.NaN
  if (!Number.isFinite(n) || n < spec.min || n > spec.max || (spec.whole && !Number.isInteger(n))) {
    const what = spec.whole ? "a whole number" : "a number"
    const none = spec.none ? " or None" : ""
    throw new ConfigError(
      place,
      `expects ${what} from ${spec.min} to ${spec.max}${none}, got ${JSON.stringify(value)}`,
    )
  }
  return n
}

/** The `[server]` values of a config file, with their places, and its allotment policy;
 *  warnings for the rest. */
async function readConfig(file: string): Promise<{
  values: Map<string, { value: IniValue; place: ConfigPlace }>
  allot?: AllotPolicy
  warnings: string[]
}> {
  let content: string
  try {
    content = await Bun.file(file).text()
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new ConfigError({ file }, code === "ENOENT" ? "file not found" : `cannot read (${code})`)
  }
  const doc = parseIni(content, file)
  const warnings = doc.warnings.map((w) => `${formatPlace(w.place)} ${w.message}`)
  const values = new Map<string, { value: IniValue; place: ConfigPlace }>()
  const allot: AllotPolicy = { defaults: { ...DEFAULT_TERMS }, sites: {} }
  let allotted = false
  for (const section of doc.sections.values()) {
    const site = /^allot(?:\s+(\S.*))?$/.exec(section.name)
    if (site) {
      allotted = true
      const terms: Partial<AllotTerms> = site[1] === undefined ? allot.defaults : {}
      for (const entry of section.entries.values()) {
        const place = { file, line: entry.line, section: section.name, key: entry.key }
        if (!Object.hasOwn(ALLOT_KEYS, entry.key)) {
          const guess = didYouMean(entry.key, Object.keys(ALLOT_KEYS))
          warnings.push(
            `${formatPlace(place)} unknown key ignored${guess ? ` (did you mean "${guess}"?)` : ""}`,
          )
          continue
        }
        const value = typedValue(interpolateInSection(entry.value, doc, section, place))
        Object.assign(terms, { [ALLOT_KEYS[entry.key]!.term]: allotValue(entry.key, value, place) })
      }
      if (site[1] !== undefined) allot.sites[site[1].trim()] = terms
      continue
    }
    if (section.name !== SECTION) {
      const hint =
        section.name === "metrics"
          ? "glidein does not push metrics to graphite/statsd; scrape GET /metrics instead"
          : `only [${SECTION}], [allot] and [allot NAME] are read`
      warnings.push(
        `${formatPlace({ file, line: section.line })} [${section.name}] ignored: ${hint}`,
      )
      continue
    }
    for (const entry of section.entries.values()) {
      const place = { file, line: entry.line, section: SECTION, key: entry.key }
      if (!KEYS.includes(entry.key)) {
        const guess = didYouMean(entry.key, KEYS)
        warnings.push(
          `${formatPlace(place)} unknown key ignored${guess ? ` (did you mean "${guess}"?)` : ""}`,
        )
        continue
      }
      const value = typedValue(interpolateInSection(entry.value, doc, section, place))
      values.set(entry.key, { value, place })
    }
  }
  return { values, ...(allotted ? { allot } : {}), warnings }
}

/** Resolves and checks the settings; throws UsageError (flags) or ConfigError (file). */
export async function resolveServeOptions(
  flags: ServeFlags,
  configFile: string | undefined,
  env: Record<string, string | undefined>,
): Promise<{ options: ServeOptions; warnings: string[] }> {
  const config = configFile
    ? await readConfig(configFile)
    : { values: new Map<string, { value: IniValue; place: ConfigPlace }>(), warnings: [] }
  const pick = (flag: string, key: string): { value: IniValue; source: Source } | undefined => {
    const fromFlag = (flags as Record<string, string | boolean | undefined>)[flag]
    if (fromFlag !== undefined && fromFlag !== false) {
      return { value: fromFlag, source: { flag: key.replace("_", "-") } }
    }
    const fromFile = config.values.get(key)
    return fromFile && { value: fromFile.value, source: { place: fromFile.place } }
  }

  const demoValue = pick("demo", "demo")
  if (demoValue && typeof demoValue.value !== "boolean") {
    fail(demoValue.source, `expects True or False, got ${JSON.stringify(demoValue.value)}`)
  }
  const demo = demoValue?.value === true
  const port = pick("port", "port")
  const host = pick("host", "host")
  const delay = pick("delay", "delay")
  const constraint = pick("constraint", "constraint")
  const user = pick("user", "user")
  const condorQ = pick("condorQ", "condor_q")
  const db = pick("db", "db")
  const tokens = pick("tokens", "tokens")

  const options: ServeOptions = {
    port: port ? wholeNumber(port.value, port.source, 0, 65535, "a port number") : DEFAULT_PORT,
    host: host ? text(host.value, host.source, "an address to listen on") : DEFAULT_HOST,
    delayS: delay
      ? wholeNumber(delay.value, delay.source, 1, MAX_DELAY_S, "seconds")
      : demo
        ? DEMO_DELAY_S
        : DEFAULT_DELAY_S,
    condorQ: condorQ ? text(condorQ.value, condorQ.source, "a path to condor_q") : "condor_q",
    db: db ? text(db.value, db.source, "a database file") : defaultDbPath(env, demo),
    demo,
  }
  if (config.allot) options.allot = config.allot
  if (constraint) {
    const value = text(constraint.value, constraint.source, "a ClassAd expression")
    const problem = checkConstraint(value)
    if (problem) fail(constraint.source, problem)
    options.constraint = value
  }
  if (user) {
    const value = text(user.value, user.source, "a user name")
    const problem = checkUser(value)
    if (problem) fail(user.source, problem)
    options.user = value
  }
  if (tokens) options.tokens = text(tokens.value, tokens.source, "a tokens file")
  return { options, warnings: config.warnings }
}
