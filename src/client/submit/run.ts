/**
 * @module
 * A `glidein submit` run as one value, built once by `openRun()` from the config, the flags and
 * the world (`SubmitDeps`): every step of the run takes it, so a flag is resolved here and
 * nowhere else, and tests drive whole runs through the world they pass in.
 */

import type { SiteConfig } from "../../config/index.ts"
import { EXIT } from "../../errors.ts"
import type { RpcOptions } from "../lib/json-rpc.ts"
import type { SiteWorld } from "../lib/world.ts"
import { checkedLogBucket, type LogBucket, type S3Keys } from "../site/log-upload.ts"
import { type SiteSetup, siteSetup } from "../site/site-setup.ts"
import { type DemandOrigin, demandOrigin } from "./demand-origin.ts"
import { defaultUuid } from "./monitoring.ts"
import { Notices } from "./notices.ts"

/** The flags of one `glidein submit`. */
export interface SubmitOptions {
  dryRun: boolean
  json: boolean
  /** Take every partition's running and idle counts as 0 instead of asking the batch system. */
  assumeEmpty: boolean
  stateFile?: string
  server?: string
  uuid?: string
}

/** The world a run talks to. */
export interface SubmitDeps extends SiteWorld {
  /** Tripped by SIGTERM or SIGHUP: the submit commands in flight finish and are journaled,
   *  no other starts, and the run ends. */
  signal?: AbortSignal
  /** The built-in glidein_start.sh. */
  startScript: string
  rpc?: Partial<RpcOptions>
  /** The secrets file's [StartdLogging] keys, for `send_startd_logs`. */
  s3Keys?: S3Keys
  stateRoot?: string
  countTimeoutMs?: number
  submitTimeoutMs?: number
}

/** One run: the site as its config makes it, the flags resolved, and the world. */
export interface Run {
  config: SiteConfig
  setup: SiteSetup
  /** Where the demand table is read from. */
  origin: DemandOrigin
  /** The name this site reports under, which its glideins advertise (GLIDEIN_Client). */
  uuid: string
  /** `--dry-run` or `[Mode] dryrun`: plan and print, submit nothing. */
  dryRun: boolean
  /** `--json`: a dry run prints one JSON object. */
  json: boolean
  assumeEmpty: boolean
  /** What the last run (or round) already said. */
  notices: Notices
  /** Where glideins upload their logs; undefined when they do not. */
  logBucket: LogBucket | undefined
  deps: SubmitDeps
  /** Says `line` on stderr as this command. */
  say(line: string): void
  /** The exit code of a run asked to stop by a signal, or undefined when it was not. */
  stopped(): number | undefined
}

/**
 * Builds the run: checks the log bucket (ConfigError before anything else), derives the
 * setup, picks the demand origin, and says the config's warnings and the notes that concern
 * the whole run.
 */
export function openRun(config: SiteConfig, options: SubmitOptions, deps: SubmitDeps): Run {
  const logBucket = checkedLogBucket(config, deps.s3Keys)
  const setup = siteSetup(config, deps.env, deps.stateRoot)
  const origin = demandOrigin(options, config.glidein, deps.env)
  const say = (line: string) => deps.stderr(`glidein submit: ${line}\n`)
  for (const warning of setup.warnings) say(`warning: ${warning.message}`)
  const dryRun = options.dryRun || config.mode.dryrun
  // A dry run is read by someone at a terminal: it says everything.
  const notices = new Notices(dryRun ? undefined : setup.paths.notices)
  if (!logBucket && config.startdLogging.send_startd_logs && notices.fresh("note:no-log-keys")) {
    // pyglidein stopped here; the glideins can run without shipping their logs.
    say(
      "note: send_startd_logs = True, but no [StartdLogging] access_key and secret_key came with --secrets; glidein logs stay in the batch output files",
    )
  }
  return {
    config,
    setup,
    origin,
    uuid: options.uuid ?? config.glidein.uuid ?? defaultUuid(config.file, deps.env),
    dryRun,
    json: options.json,
    assumeEmpty: options.assumeEmpty,
    notices,
    logBucket,
    deps,
    say,
    stopped: () => stoppedCode(deps.signal),
  }
}

/** Exit statuses of a run stopped by a signal, as a shell reports them (128 + number). */
const SIGNAL_EXIT: Record<string, number> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 }

function stoppedCode(signal: AbortSignal | undefined): number | undefined {
  if (!signal?.aborted) return undefined
  const reason = signal.reason
  return typeof reason === "string" && reason in SIGNAL_EXIT ? SIGNAL_EXIT[reason] : EXIT.failure
}
