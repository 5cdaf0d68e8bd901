/**
 * @module
 * `glidein cancel`: remove the glideins a config submitted that are still in the batch system
 * (by the job ids in its journal), e.g. after a new tarball, so that fresh glideins replace them.
 */
import { cancelGlideins } from "../client/cancel/cancel-glideins.ts"
import { withLoginName } from "../client/lib/login-name.ts"
import { runCommand } from "../client/lib/run-command.ts"
import { writeStderr, writeStdout } from "../client/lib/std-output.ts"
import { loadSiteConfig } from "../config/index.ts"
import { defineCommand, flag } from "./command.ts"
import { text } from "./option-types.ts"

/** The `glidein cancel` command. */
export const cancelCommand = defineCommand({
  name: "cancel",
  details: `Reads the config's journal (~/.glidein or $GLIDEIN_STATE_DIR), lists the user's live jobs
named glidein (squeue, qselect, qstat, bjobs, condor_q), and runs the scheduler's cancel
command (scancel, qdel, bkill, condor_rm) for the journal's jobs in that list only: a job id
the batch system has since given to another job is not touched, nor are glideins of other
configs. Jobs no longer listed leave the journal as finished; a cancelled job leaves it once
the batch system no longer lists it (checked for up to 15 s; exit 1 if some are still there).
If a submit run of this config is active, it exits 1 at once and asks to try again.`,
  options: {
    config: {
      ...text("a file name"),
      value: "FILE",
      required: true,
      description: "site config whose glideins to remove",
    },
    "dry-run": flag("list the live glideins and print the cancel commands; cancel nothing"),
  },
  async run({ values }) {
    // Cancel never asks the server, so a config that names none (a site that passes --server
    // or $GLIDEIN_SERVER to submit) is complete for it.
    const config = await loadSiteConfig(values.config, {
      demandFromCommandLine: true,
    })
    return cancelGlideins(
      config,
      { dryRun: values.dryRun },
      {
        run: runCommand,
        env: withLoginName(process.env as Record<string, string | undefined>),
        now: () => new Date(),
        sleep: (ms) => Bun.sleep(ms),
        stdout: writeStdout,
        stderr: writeStderr,
      },
    )
  },
})
