/**
 * @module
 * `glidein submit`: the half of glidein that runs from cron on every cluster's login node.
 * Flags keep pyglidein's names; `-n/--no-daemon` is accepted and ignored.
 */

import { existsSync } from "node:fs"
import os from "node:os"
import { dirname, isAbsolute, resolve } from "node:path"
import { withLoginName } from "../client/lib/login-name.ts"
import { runCommand } from "../client/lib/run-command.ts"
import {
  stderrIsTerminal,
  timestamped,
  writeStderr,
  writeStdout,
} from "../client/lib/std-output.ts"
import { s3Keys } from "../client/site/log-upload.ts"
import { checkConfig } from "../client/submit/check-config.ts"
import { SERVER_ENV } from "../client/submit/demand-origin.ts"
import { runSubmit } from "../client/submit/run-submit.ts"
import { formatWarning, loadSecrets, loadSiteConfig } from "../config/index.ts"
import { UsageError } from "../errors.ts"
import { GLIDEIN_START_SH } from "../runtime/index.ts"
import { defineCommand, flag, NO_DAEMON } from "./command.ts"
import { text } from "./option-types.ts"

/** The `glidein submit` command. */
export const submitCommand = defineCommand({
  name: "submit",
  details: `One run: take the config's lock (an overlapping run exits 0 and says so), ask the
server for demand (or read --state-file), count this site's glideins per partition, plan,
write and submit the jobs, record them in the journal (~/.glidein or $GLIDEIN_STATE_DIR) and
report to the server. With [Glidein] delay > 0 it repeats every delay seconds.

The server address comes from --server, else $GLIDEIN_SERVER, else [Glidein] address.
Exit codes: 0 ok (also when another run holds the lock), 1 a submission or count failed or
the server could not be reached, 2 the config or command line is wrong.`,
  options: {
    config: {
      ...text("a file name"),
      value: "FILE",
      required: true,
      description: "site config (pyglidein INI)",
    },
    secrets: { ...text("a file name"), value: "FILE", description: "secrets file (mode 0600)" },
    uuid: {
      ...text("a client id"),
      value: "ID",
      shownDefault: "user@host/CONFIG",
      description: "client id reported to the server",
    },
    "dry-run": flag("print the plan and rendered files; submit nothing"),
    json: flag("with --dry-run or --check: one JSON object on stdout"),
    "assume-empty": flag("take running/idle counts as 0 instead of asking the batch system"),
    "state-file": {
      ...text("a file name"),
      value: "FILE",
      description: "read demand from this get_state JSON file",
    },
    server: {
      ...text("a server address"),
      value: "URL",
      description: "server address, overriding the config's",
    },
    check: flag("check the config, print what it means, exit 0 if usable (2 if not)"),
    "no-daemon": NO_DAEMON,
  },
  async run({ values }) {
    const configPath = values.config
    const env = withLoginName(process.env as Record<string, string | undefined>)
    // A demand source on the command line stands in for the config's address/ssh_state.
    const demandFromCommandLine =
      values.server !== undefined || values.stateFile !== undefined || Boolean(env[SERVER_ENV])
    const config = await loadSiteConfig(configPath, { demandFromCommandLine })
    const secretsPath =
      values.secrets === undefined ? undefined : secretsFile(values.secrets, config.file)
    // Its S3 keys sign the glideins' log uploads ([StartdLogging] send_startd_logs); its
    // [Glidein] token authenticates this site's reports to a server started with --tokens.
    const secrets = secretsPath === undefined ? undefined : await loadSecrets(secretsPath)
    const token = secrets?.Glidein.token
    const keys = s3Keys(secrets, secretsPath)
    const json = values.json
    if (values.check) {
      return checkConfig(
        config,
        { json, s3Keys: keys },
        { env, stdout: writeStdout, stderr: writeStderr },
      )
    }
    const dryRun = values.dryRun || config.mode.dryrun
    if (json && !dryRun) {
      throw new UsageError("glidein submit: --json prints a plan; use it with --dry-run or --check")
    }
    // cron mails whatever a run prints: config warnings only where someone is looking.
    if (dryRun || stderrIsTerminal() || values.debug) {
      for (const w of config.warnings) writeStderr(`glidein submit: warning: ${formatWarning(w)}\n`)
    }
    const options = {
      dryRun: values.dryRun,
      json,
      assumeEmpty: values.assumeEmpty,
      ...optional("stateFile", values.stateFile),
      ...optional("server", values.server),
      ...optional("uuid", values.uuid),
    }
    return withStopSignals((signal) =>
      runSubmit(config, options, {
        run: runCommand,
        env,
        signal,
        now: () => new Date(),
        sleep: (ms) => sleepUnlessStopped(ms, signal),
        stdout: writeStdout,
        // A real run is cron's: its lines carry the time, as pyglidein's log lines did.
        stderr: dryRun ? writeStderr : timestamped(writeStderr),
        startScript: GLIDEIN_START_SH,
        // A server started with --tokens wants this on monitoring; sending it on get_state too
        // is harmless, and redirects are never followed, so it goes to that server only.
        ...(token ? { rpc: { token } } : {}),
        ...(keys ? { s3Keys: keys } : {}),
      }),
    )
  },
})

const STOP_SIGNALS = ["SIGTERM", "SIGHUP", "SIGINT"] as const

/**
 * Runs `work` with a signal that SIGTERM, SIGHUP or Ctrl-C trips (its reason is the signal's
 * name): the submit commands in flight finish and are journaled before the run ends, so a
 * killed cron run never leaves glideins the journal does not know. A second signal ends the
 * process at once (journal lines are written whole, never half).
 */
async function withStopSignals<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController()
  const handlers = STOP_SIGNALS.map((name) => {
    const handler = () => {
      if (controller.signal.aborted) process.exit(128 + os.constants.signals[name])
      writeStderr(
        `glidein submit: ${name} received; finishing the submit commands in flight (send it again to stop at once)\n`,
      )
      controller.abort(name)
    }
    process.on(name, handler)
    return [name, handler] as const
  })
  try {
    return await work(controller.signal)
  } finally {
    for (const [name, handler] of handlers) process.off(name, handler)
  }
}

/** Sleeps `ms`, or less when `signal` trips. */
function sleepUnlessStopped(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal.removeEventListener("abort", done)
      resolve()
    }
    signal.addEventListener("abort", done)
  })
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>)
}

/**
 * Where `--secrets` is: a relative path is looked for in the current folder, then beside the
 * config — cron starts in $HOME, and a secrets file is usually kept next to its config (the
 * config's own paths, such as `tarball`, are relative to its folder). The path found is the one
 * every message names; when neither exists, the message names both.
 */
export function secretsFile(given: string, configFile: string): string {
  if (isAbsolute(given)) return given
  const tried = [resolve(given), resolve(dirname(resolve(configFile)), given)]
  const found = tried.find((p) => existsSync(p))
  if (found !== undefined) return found
  throw new UsageError(
    `glidein submit: --secrets ${given}: no such file (looked for ${tried[0]} and ${tried[1]})`,
  )
}
