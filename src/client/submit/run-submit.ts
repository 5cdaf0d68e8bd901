/**
 * @module
 * One `glidein submit` run, top to bottom: open the run (`run.ts`), then either print a dry
 * run's plan (`dry-run.ts`) or do rounds (`locked-round.ts` → `submit-round.ts`: demand,
 * counts, plan, submit, journal, tidy, report) — once, or every `delay` seconds, with the lock
 * free between rounds so `glidein cancel` can run while a looping submit waits.
 */
import type { SiteConfig } from "../../config/index.ts"
import { ConfigError, GlideinError } from "../../errors.ts"
import { startScriptText } from "../site/site-setup.ts"
import { ensureStateDir } from "../site/state-dir.ts"
import { dryRun } from "./dry-run.ts"
import { lockedRound } from "./locked-round.ts"
import { openRun, type SubmitDeps, type SubmitOptions } from "./run.ts"
import { requireTarball } from "./tarball-check.ts"

/** Runs `glidein submit` for a loaded config and returns the exit code. */
export async function runSubmit(
  config: SiteConfig,
  options: SubmitOptions,
  deps: SubmitDeps,
): Promise<number> {
  const run = openRun(config, options, deps)
  if (run.dryRun) return dryRun(run)
  // A real run refuses what would make its glideins fail (setup.problems) before anything.
  const startScript = startScriptText(run.setup, deps.startScript, deps.env)
  requireTarball(run.setup)
  ensureStateDir(run.setup.paths, config.file)
  const round = () => lockedRound(run, startScript)
  const delay = config.glidein.delay ?? 0
  if (delay < 1) return run.stopped() ?? (await round())
  // pyglidein's daemon mode: keep going through a bad round, as it did.
  for (;;) {
    try {
      await round()
    } catch (error) {
      if (!(error instanceof GlideinError) || error instanceof ConfigError) throw error
      run.say(error.message)
    }
    const stopped = run.stopped()
    if (stopped !== undefined) return stopped
    await deps.sleep(delay * 1000)
    const slept = run.stopped()
    if (slept !== undefined) return slept
  }
}
