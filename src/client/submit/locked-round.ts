/**
 * @module
 * A round under the config's lock, with the housekeeping a real round does first: refuse a
 * tarball that cannot work, prune old batch output, and mark finished glideins in the journal.
 * A round that finds the lock taken does nothing: another run (or `glidein cancel`) is busy.
 */
import { EXIT, GlideinError } from "../../errors.ts"
import { tryLock } from "../site/config-lock.ts"
import { settleJournal } from "../site/settle-journal.ts"
import { pruneOutput } from "./prune-output.ts"
import type { Run } from "./run.ts"
import { submitRound } from "./submit-round.ts"
import { tarballCheck } from "./tarball-check.ts"

/** One round under the lock; returns its exit code (0 when the lock was taken). */
export async function lockedRound(run: Run, startScript: string): Promise<number> {
  const { config, paths } = run.setup
  const lock = await tryLock(paths.lock)
  if (!lock) {
    const what = (config.glidein.delay ?? 0) >= 1 ? "round" : "one"
    run.say(
      `another run for ${config.file} is still active (lock ${paths.lock}); this ${what} does nothing`,
    )
    return EXIT.ok
  }
  try {
    // Glideins from a tarball that cannot work would only burn the site's allocation; the
    // check reads the tarball once per change of the file.
    const { problems, tokenExpires } = await tarballCheck(
      run.setup.tarball,
      paths.tarballCheck,
      run.deps.now(),
    )
    if (problems.length > 0) {
      throw new GlideinError(`${problems.join("; ")}; nothing submitted`)
    }
    pruneOutput(paths.outputDir, paths.pruneStamp, run.deps.now())
    try {
      await settleJournal(run.setup, run.deps)
    } catch (error) {
      // The counts still ask for every journaled job by id; the journal is only longer.
      run.say(
        `warning: cannot mark finished glideins in the journal ${paths.journal}: ${(error as Error).message}`,
      )
    }
    const code = await submitRound(run, startScript, tokenExpires)
    run.notices.save()
    return code
  } finally {
    lock.release()
  }
}
