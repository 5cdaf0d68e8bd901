/**
 * @module
 * `glidein cancel`: remove every glidein a config submitted (by the job ids in its journal),
 * e.g. after a new tarball, so that fresh glideins replace them.
 */
import { cancelGlideins } from "../client/cancel-glideins.ts"
import { runCommand } from "../client/run-command.ts"
import { writeStderr, writeStdout } from "../client/std-output.ts"
import { loadSiteConfig } from "../config/index.ts"
import type { Command } from "./command.ts"

/** The `glidein cancel` command. */
export const cancelCommand: Command = {
  name: "cancel",
  summary: "remove every glidein this config submitted",
  usage: "--config FILE [--dry-run]",
  details: `Reads the config's journal (~/.glidein or $GLIDEIN_STATE_DIR) and runs the scheduler's
cancel command (scancel, qdel, bkill, condor_rm) for every job id not cancelled before. Other
jobs of the same user, and glideins of other configs, are never touched. Waits for nothing:
if a submit run of this config is active, it exits 1 and asks to try again.`,
  options: {
    config: { type: "string", value: "FILE", description: "site config whose glideins to remove" },
    "dry-run": { type: "boolean", description: "print the cancel commands; run nothing" },
  },
  async run(args) {
    const config = await loadSiteConfig(args.requireString("config"))
    return cancelGlideins(
      config,
      { dryRun: args.flag("dry-run") },
      {
        run: runCommand,
        env: process.env as Record<string, string | undefined>,
        now: () => new Date(),
        stdout: writeStdout,
        stderr: writeStderr,
      },
    )
  },
}
