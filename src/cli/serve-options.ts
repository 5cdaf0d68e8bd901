/**
 * @module
 * The options of `glidein serve`, declared once: its flags, and the keys of the `[server]`
 * section of an optional `--config` INI file that may set the same settings (flags win, then
 * the file, then the defaults). The file's `[allot]` (every site) and `[allot NAME]` (the
 * site reporting as NAME or with the token named NAME) sections are its allotment policy.
 * Each value is checked once, by its option's schema, and an error names the flag, or the
 * file, line, section and key it came from.
 */
import { join } from "node:path"
import { type AllotPolicy, type AllotTerms, DEFAULT_TERMS } from "../allotment/allot-policy.ts"
import { homeDir } from "../client/site/state-dir.ts"
import { didYouMean } from "../config/did-you-mean.ts"
import { parseIni } from "../config/ini.ts"
import { interpolateInSection } from "../config/interpolate.ts"
import { typedValue } from "../config/literal-eval.ts"
import type { IniValue } from "../config/types.ts"
import { checkConstraint, checkUser } from "../demand/index.ts"
import { ConfigError, type ConfigPlace, formatPlace } from "../errors.ts"
import { checkAlertUrl } from "../server/alerts-url.ts"
import { configKeys, flag, type Given, NO_DAEMON, optionValues, type Values } from "./command.ts"
import { checkedText, text, wholeNumber } from "./option-types.ts"

/** Seconds between polls unless --delay says otherwise. */
export const DEFAULT_DELAY_S = 300
/** The demo queue changes every few minutes; a short delay makes that visible. */
export const DEMO_DELAY_S = 10

/** The flags of `glidein serve`; `config` names the `[server]` key that may set each. */
export const SERVE_OPTIONS = {
  config: {
    ...text("a file name"),
    value: "FILE",
    description: "INI file with a [server] section",
  },
  port: {
    ...wholeNumber("a port number", 0, 65535),
    short: "p",
    value: "PORT",
    default: 11001,
    config: "port",
    description: "port to listen on",
  },
  host: {
    ...text("an address to listen on"),
    value: "ADDR",
    // Every interface, as pyglidein listened, because sites on other clusters must reach
    // get_state; unlike pyglidein it can be narrowed.
    default: "0.0.0.0",
    shownDefault: "0.0.0.0: all interfaces",
    config: "host",
    description: "address to listen on",
  },
  constraint: {
    ...checkedText("a ClassAd expression", checkConstraint),
    value: "EXPR",
    config: "constraint",
    description: "extra condor_q constraint (ClassAd)",
  },
  user: {
    ...checkedText("a user name", checkUser),
    short: "u",
    value: "NAME",
    config: "user",
    description: "only this user's jobs",
  },
  delay: {
    ...wholeNumber("seconds", 1, 86_400),
    value: "SECONDS",
    shownDefault: `${DEFAULT_DELAY_S}; ${DEMO_DELAY_S} with --demo`,
    config: "delay",
    description: "seconds between condor_q polls",
  },
  "condor-q": {
    ...text("a path to condor_q"),
    value: "PATH",
    default: "condor_q",
    shownDefault: "condor_q in PATH",
    config: "condor_q",
    description: "condor_q program",
  },
  "condor-status": {
    ...text("a path to condor_status"),
    value: "PATH",
    default: "condor_status",
    shownDefault: "condor_status in PATH",
    config: "condor_status",
    description: "condor_status program: which glideins joined the pool (not with --demo)",
  },
  "condor-history": {
    ...text("a path to condor_history"),
    value: "PATH",
    default: "condor_history",
    shownDefault: "condor_history in PATH",
    config: "condor_history",
    description: "condor_history program: jobs completed on each site's glideins",
  },
  "no-pool-watch": flag("do not ask condor_status for the glideins (no funnel, no flags)", {
    config: "no_pool_watch",
  }),
  "no-history": flag("do not read the schedd's history (no jobs completed, no black holes)", {
    config: "no_history",
  }),
  "flag-after": {
    ...wholeNumber("minutes", 5, 10_080),
    value: "MINUTES",
    default: 60,
    config: "flag_after",
    description: "how long a site shows waste before it is flagged",
  },
  db: {
    ...text("a database file"),
    value: "FILE",
    shownDefault:
      "$XDG_STATE_HOME/glidein/serve.db (serve-demo.db with --demo), else under ~/.local/state",
    config: "db",
    description: "SQLite file for reports and history",
  },
  tokens: {
    ...text("a tokens file"),
    value: "FILE",
    config: "tokens",
    description: '"name token" lines; monitoring then needs a bearer token',
  },
  "alert-url": {
    ...checkedText("a webhook URL", checkAlertUrl),
    value: "URL",
    config: "alert_url",
    // A webhook URL is a secret, and the command line is visible to every user in ps.
    description:
      "webhook for alerts (JSON with Slack's text field); safer as alert_url in --config",
  },
  demo: flag("serve a simulated queue (no HTCondor needed)", { config: "demo" }),
  "no-daemon": NO_DAEMON,
} as const

/** The section of the config file that holds these options. */
export const SERVE_SECTION = "server"

/** The `[server]` keys a config file may set. */
const KEYS = configKeys(SERVE_OPTIONS)

/** The effective settings. */
export type ServeOptions = Omit<
  Values<typeof SERVE_OPTIONS>,
  "config" | "delay" | "db" | "noDaemon"
> & {
  /** Seconds between the starts of two condor_q polls. */
  delayS: number
  db: string
  /** The allotment policy of `get_allotment`, when the file has `[allot]` sections. */
  allot?: AllotPolicy
}

/** Where the database goes by default: the XDG state directory. */
export function defaultDbPath(env: Record<string, string | undefined>, demo: boolean): string {
  const state = env.XDG_STATE_HOME || join(homeDir(env), ".local", "state")
  return join(state, "glidein", demo ? "serve-demo.db" : "serve.db")
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
    if (section.name !== SERVE_SECTION) {
      const hint =
        section.name === "metrics"
          ? "glidein does not push metrics to graphite/statsd; scrape GET /metrics instead"
          : `only [${SERVE_SECTION}], [allot] and [allot NAME] are read`
      warnings.push(
        `${formatPlace({ file, line: section.line })} [${section.name}] ignored: ${hint}`,
      )
      continue
    }
    for (const entry of section.entries.values()) {
      const place = { file, line: entry.line, section: SERVE_SECTION, key: entry.key }
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

/**
 * Resolves and checks the settings: `flags` as parseArgs read them (by option name) over the
 * `[server]` keys of `configFile` over the defaults. Throws UsageError (a flag) or
 * ConfigError (the file).
 */
export async function resolveServeOptions(
  flags: Record<string, string | boolean | undefined>,
  configFile: string | undefined,
  env: Record<string, string | undefined>,
): Promise<{ options: ServeOptions; warnings: string[] }> {
  const config = configFile
    ? await readConfig(configFile)
    : { values: new Map<string, { value: IniValue; place: ConfigPlace }>(), warnings: [] }
  const pick = (name: string, spec: { config?: string }): Given | undefined => {
    // A flag not given is undefined (parseArgs sets only the flags it saw).
    const given = flags[name]
    if (given !== undefined && given !== false) return { value: given, origin: { flag: name } }
    const entry = spec.config === undefined ? undefined : config.values.get(spec.config)
    return entry && { value: entry.value, origin: { place: entry.place } }
  }
  const {
    config: _file,
    delay,
    db,
    noDaemon: _ignored,
    ...values
  } = optionValues("serve", SERVE_OPTIONS, pick)
  const options: ServeOptions = {
    ...values,
    delayS: delay ?? (values.demo ? DEMO_DELAY_S : DEFAULT_DELAY_S),
    db: db ?? defaultDbPath(env, values.demo),
  }
  if (config.allot) options.allot = config.allot
  return { options, warnings: config.warnings }
}
