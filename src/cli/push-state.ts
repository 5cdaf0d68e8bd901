/**
 * @module
 * `glidein push-state`: writes the server's demand to sites that cannot reach it (their
 * `glidein submit` reads it with `ssh_state = True`), over ssh, once or every `--every`
 * seconds. See src/client/submit/push-state.ts.
 */
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import { runCommand } from "../client/lib/run-command.ts"
import { timestamped, writeStderr } from "../client/lib/std-output.ts"
import { homeDir } from "../client/site/state-dir.ts"
import { serverUrl } from "../client/submit/demand-origin.ts"
import { parseTarget, pushState } from "../client/submit/push-state.ts"
import { EXIT, GlideinError, UsageError } from "../errors.ts"
import { defineCommand } from "./command.ts"
import { text, wholeNumber } from "./option-types.ts"

/** The `glidein push-state` command. */
export const pushStateCommand = defineCommand({
  name: "push-state",
  details: `For sites whose login node cannot reach the server (and takes ssh only with a second
factor): asks the server for get_state, checks the rows as a site would, and writes them to
each site's ~/glidein_state (or PATH) through ssh, atomically. The sites' configs say
ssh_state = True. ssh runs with BatchMode=yes and a ControlPath under
$XDG_RUNTIME_DIR/glidein-push (else ~/.glidein/push), so it never prompts: open one master
connection per site by hand each day, e.g.
  ssh -o ControlMaster=yes -o ControlPersist=24h -o ControlPath=DIR/%C alice@login.site true
(the path is printed when a push fails). Exit 1 when a push or the server failed (once), and
with --every it goes on through failures.`,
  options: {
    server: {
      ...text("a server address"),
      value: "URL",
      required: true,
      description: "the glidein server (its /jsonrpc)",
    },
    to: {
      ...text("[USER@]HOST[:PATH][,...]"),
      value: "TARGETS",
      required: true,
      description: "comma-separated [USER@]HOST[:PATH] (PATH defaults to glidein_state)",
    },
    every: {
      ...wholeNumber("whole seconds", 10, 86_400),
      value: "SECONDS",
      description: "push every SECONDS (at least 10) instead of once",
    },
  },
  async run({ values }) {
    const server = serverUrl(values.server, "glidein push-state: --server")
    const targets = values.to
      .split(",")
      .map((t) => t.trim())
      .filter((t) => t !== "")
      .map(parseTarget)
    if (targets.length === 0) throw new UsageError("glidein push-state: --to names no site")
    const every = values.every ?? 0
    const env = process.env as Record<string, string | undefined>
    // A folder nobody else can enter: the login session's runtime folder, else the state
    // root in the home folder (cron has no XDG_RUNTIME_DIR; /tmp is everybody's).
    let workDir: string
    if (env.XDG_RUNTIME_DIR) workDir = join(env.XDG_RUNTIME_DIR, "glidein-push")
    else {
      const root = join(homeDir(env), ".glidein")
      mkdirSync(root, { recursive: true, mode: 0o700 })
      workDir = join(root, "push")
    }
    const deps = { run: runCommand, env, stderr: timestamped(writeStderr), workDir }
    for (;;) {
      let code: number = EXIT.ok
      try {
        const failed = await pushState(server, targets, deps)
        if (failed.length > 0) {
          code = EXIT.failure
          deps.stderr(
            `glidein push-state: the control sockets are in ${deps.workDir} (ControlPath=${deps.workDir}/%C)\n`,
          )
        }
      } catch (error) {
        if (!(error instanceof GlideinError) || every === 0) throw error
        deps.stderr(`glidein push-state: ${error.message}\n`)
      }
      if (every === 0) return code
      await Bun.sleep(every * 1000)
    }
  },
})
