/**
 * @module
 * What every client command (`submit`, `status --config`, `cancel`) derives from a loaded
 * config before doing anything: each partition's adapter and planning policy, the state
 * folder, the tarball path, the login name the default commands use.
 */
import { existsSync, readFileSync } from "node:fs"
import { hostname } from "node:os"
import { dirname, resolve } from "node:path"
import type { PartitionSettings, SiteConfig } from "../../config/index.ts"
import { ConfigError, errorReason, formatPlace } from "../../errors.ts"
import { schedulerFor } from "../../schedulers/index.ts"
import { tarballCollector } from "../../tarball/collector.ts"
import { loginName } from "../lib/login-name.ts"
import { expandVars } from "../lib/run-command.ts"
import { minBatchWalltimeS, type SiteSections } from "./job-spec.ts"
import { type Partition, partitionPolicy } from "./partition.ts"
import { batchWalltimeS } from "./size-glidein.ts"
import { homeDir, type StatePaths, statePaths, stateRoot } from "./state-dir.ts"

/** A config made ready for a client command. */
export interface SiteSetup {
  config: SiteConfig
  partitions: Partition[]
  paths: StatePaths
  /** glidein.tar.gz: `[Glidein] tarball`, relative to `loc`, relative to the config's folder. */
  tarball: string
  template?: { text: string; file: string }
  /** What every job spec draws on: the config's sections, and this host's name for SITE. */
  sections: SiteSections
  /**
   * Why glideins submitted with this config could not start (glidein_start.sh would refuse
   * them): a real run refuses the config, `--check` fails, a dry run shows them as notes.
   */
  problems: ConfigError[]
  /** What every client command says on stderr before it starts, however it is run. */
  warnings: ConfigError[]
}

/**
 * Derives the setup; throws ConfigError for what the schema cannot see (a missing template).
 * `login` finds this process's login name (tests give their own).
 */
export function siteSetup(
  config: SiteConfig,
  env: Record<string, string | undefined>,
  stateRootDir?: string,
  login: () => string | undefined = loginName,
): SiteSetup {
  let processLogin: { name: string | undefined } | undefined
  const ownName = () => {
    processLogin ??= { name: login() }
    return processLogin.name
  }
  const partitions = config.partitions.map((name): Partition => {
    const settings = config.partitionSettings[name]
    if (!settings) throw new ConfigError({ file: config.file, section: name }, "missing section")
    const scheduler = schedulerFor(settings.scheduler)
    if (!scheduler) {
      throw new ConfigError(
        config.place(name, "scheduler"),
        `unknown scheduler "${settings.scheduler}"`,
      )
    }
    const policy = partitionPolicy(name, settings, config.submitFile)
    const partition: Partition = { name, settings, scheduler, policy }
    if (usesDefaultCount(settings)) {
      const user = countUser(settings, env, ownName)
      if (user !== undefined) partition.user = user
    }
    return partition
  })
  const loc = config.glidein.loc
  const tarballName = config.glidein.tarball ?? "glidein.tar.gz"
  const tarball = configPath(config, tarballName, env, loc)
  const problems = startProblems(config, partitions, tarball)
  const setup: SiteSetup = {
    config,
    partitions,
    paths: statePaths(config.file, stateRootDir ?? stateRoot(env)),
    tarball,
    sections: {
      glidein: config.glidein,
      submitFile: config.submitFile,
      customEnv: config.customEnv,
      startdChecks: config.startdChecks,
      defaultSite: hostname(),
    },
    problems,
    warnings: userWarnings(config, partitions, ownName),
  }
  const templatePath = config.submitFile.submit_template
  if (templatePath !== undefined) {
    const file = configPath(config, templatePath, env)
    try {
      setup.template = { text: readFileSync(file, "utf8"), file }
    } catch (error) {
      const code = errorReason(error)
      throw new ConfigError(
        config.place("SubmitFile", "submit_template"),
        `cannot read "${file}" (${code})`,
      )
    }
  }
  return setup
}

/** True when the partition is counted, in part, by the scheduler's own commands. */
export function usesDefaultCount(settings: PartitionSettings): boolean {
  return settings.running_cmd === undefined || settings.idle_cmd === undefined
}

function countUser(
  settings: PartitionSettings,
  env: Record<string, string | undefined>,
  ownName: () => string | undefined,
): string | undefined {
  const configured = settings.user
  // pyglidein configs say `user = $USER`; expand it as pyglidein's commands did. Cron may
  // have no $USER: then the name comes from the uid.
  if (configured !== undefined) {
    const expanded = expandVars(configured, env).trim()
    if (expanded !== "" && !expanded.includes("$")) return expanded
  }
  return ownName()
}

/**
 * A `user` that is not the account this process runs as. pyglidein configs carry one (`user =
 * rynge`) that pyglidein used only for metrics; here it names whose glideins the default
 * commands count, and the batch system files this run's glideins under the running account.
 * The journal's glideins are counted by id whatever it says, so the config still works (and
 * pyglidein's configs pass `--check`), but every run says so until it is fixed.
 */
function userWarnings(
  config: SiteConfig,
  partitions: Partition[],
  ownName: () => string | undefined,
): ConfigError[] {
  const problems: ConfigError[] = []
  for (const p of partitions) {
    const own = p.user !== undefined && p.settings.user !== undefined ? ownName() : undefined
    if (own === undefined || p.user === own) continue
    const place = config.place(p.name, "user")
    if (problems.some((e) => formatPlace(e.place) === formatPlace(place))) continue
    problems.push(
      new ConfigError(
        place,
        `"${p.user}", but glidein runs as ${own}, and the batch system files its glideins under ${own}: the counts see ${p.user}'s glideins and, by id, the journal's own, but not ${own}'s others; remove user, or set it to ${own}`,
      ),
    )
  }
  return problems
}

/**
 * The start script the glideins run: the site's `glidein_script`, else the built-in one.
 * Only a real run asks for it: it throws the first of `setup.problems`, since glideins that
 * cannot start must not be submitted.
 */
export function startScriptText(
  setup: SiteSetup,
  builtIn: string,
  env: Record<string, string | undefined>,
): string {
  const [problem] = setup.problems
  if (problem) throw problem
  const custom = setup.config.glidein.glidein_script
  if (custom === undefined) return builtIn
  const file = configPath(setup.config, custom, env)
  try {
    return readFileSync(file, "utf8")
  } catch (error) {
    const code = errorReason(error)
    throw new ConfigError(
      setup.config.place("Glidein", "glidein_script"),
      `cannot read "${file}" (${code})`,
    )
  }
}

/**
 * A path the config names (`tarball`, `loc`, `submit_template`, `glidein_script`): `$NAME` and
 * `${NAME}` expanded from `env` as pyglidein's shell lines and `os.path.expandvars` did (an
 * unknown name stays as written), then a leading `~`; relative to `within` (itself such a
 * path: `loc` for the tarball), else to the config's folder.
 */
function configPath(
  config: SiteConfig,
  path: string,
  env: Record<string, string | undefined>,
  within?: string,
): string {
  const expand = (p: string) => expandVars(p, env).replace(/^~(?=\/|$)/, homeDir(env))
  const base = dirname(resolve(config.file))
  return resolve(base, within === undefined ? "" : expand(within), expand(path))
}

/**
 * The collector the glideins will join and where it comes from, as glidein_start.sh decides:
 * `[Glidein] cluster`, else `[CustomEnv] CLUSTER`, else the tarball's COLLECTOR (`tarball build
 * --collector`); undefined when none says.
 */
export function collectorOrigin(
  config: SiteConfig,
  tarball: string,
): { collector: string; from: string } | undefined {
  const { cluster } = config.glidein
  if (cluster !== undefined) return { collector: cluster, from: "[Glidein] cluster" }
  const custom = config.customEnv.CLUSTER
  if (custom !== undefined) return { collector: custom, from: "[CustomEnv] CLUSTER" }
  const recorded = tarballCollector(tarball)
  return recorded === undefined
    ? undefined
    : { collector: recorded, from: `the tarball ${tarball}` }
}

/** What in the config would make glidein_start.sh refuse every glidein, once per place. */
function startProblems(
  config: SiteConfig,
  partitions: Partition[],
  tarball: string,
): ConfigError[] {
  const problems: ConfigError[] = []
  // A collector cannot be guessed (pyglidein's start script fell back to IceCube's).
  if (collectorOrigin(config, tarball) === undefined) {
    // pyglidein's configs name no collector; a tarball built with --collector does, and the
    // usual reason it is not found is that the tarball is not where the config says.
    const where = existsSync(tarball)
      ? `or build the tarball ${tarball} with --collector HOST[:PORT]`
      : `or put a tarball built with --collector HOST[:PORT] at ${tarball} (there is none there)`
    problems.push(
      new ConfigError(
        config.place("Glidein", "cluster"),
        `missing; glideins need the pool's collector to join it: set cluster = HOST[:PORT] (pyglidein's glidein_start.sh fell back to IceCube's), ${where}`,
      ),
    )
  }
  const retire = config.customEnv.RETIRETIME
  // glidein_start.sh takes 1 to 15 digits.
  if (retire !== undefined && !/^0*[1-9]\d{0,14}$/.test(retire)) {
    problems.push(
      new ConfigError(
        config.place("CustomEnv", "RETIRETIME"),
        `expected a whole number of seconds (glidein_start.sh refuses anything else), got "${retire}"`,
      ),
    )
    return problems
  }
  const needS = minBatchWalltimeS(retire === undefined ? undefined : Number(retire))
  for (const p of partitions) {
    const hours = p.settings.walltime_hrs
    if (batchWalltimeS(hours) >= needS) continue
    const place = config.place(p.name, "walltime_hrs")
    if (problems.some((e) => formatPlace(e.place) === formatPlace(place))) continue
    const atLeast = Math.ceil(needS / 36) / 100
    problems.push(
      new ConfigError(
        place,
        `${hours} h leaves the glidein no time for jobs before it retires (glidein_start.sh refuses it); at least ${atLeast} h${retire === undefined ? "" : ` with [CustomEnv] RETIRETIME = ${retire}`}`,
      ),
    )
  }
  return problems
}
