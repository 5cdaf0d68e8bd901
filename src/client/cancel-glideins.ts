/**
 * @module
 * `glidein cancel --config X`: remove every glidein this config submitted and has not
 * cancelled yet, by the job ids in its journal (so another config's glideins on the same
 * cluster, or the user's other jobs, are never touched). Holds the config's lock so that no
 * submit run adds glideins half-way through.
 */

import { existsSync } from "node:fs"
import type { SiteConfig } from "../config/index.ts"
import { EXIT, GlideinError } from "../errors.ts"
import { schedulerFor } from "../schedulers/index.ts"
import { JOB_NAME } from "../schedulers/job-script.ts"
import type { Scheduler } from "../schedulers/types.ts"
import { tryLock } from "./config-lock.ts"
import { appendJournal, outstandingJobs, readJournal, withoutIds } from "./journal.ts"
import { plural } from "./plan-report.ts"
import { type CommandRunner, outputTail } from "./run-command.ts"
import { siteSetup } from "./site-setup.ts"
import { checkStateDir } from "./state-dir.ts"

/** Job ids per cancel command; keeps argv far below the kernel's limit. */
const CHUNK = 200
/** Limit for one cancel command. */
const CANCEL_TIMEOUT_MS = 120_000

/** The world `cancel` talks to. */
export interface CancelDeps {
  run: CommandRunner
  env: Record<string, string | undefined>
  now: () => Date
  stdout: (text: string) => void
  stderr: (text: string) => void
  stateRoot?: string
  timeoutMs?: number
}

/** Cancels (or with `dryRun` lists) the config's outstanding glideins; returns the exit code. */
export async function cancelGlideins(
  config: SiteConfig,
  options: { dryRun: boolean },
  deps: CancelDeps,
): Promise<number> {
  const setup = siteSetup(config, deps.env, deps.stateRoot)
  if (!existsSync(setup.paths.dir)) {
    deps.stdout(`No glideins of ${config.file} to cancel (no state folder ${setup.paths.dir}).\n`)
    return EXIT.ok
  }
  // The journal names the jobs to remove: it must not be someone else's to write.
  checkStateDir(setup.paths)
  const lock = options.dryRun ? undefined : await tryLock(setup.paths.lock)
  if (!options.dryRun && !lock) {
    throw new GlideinError(
      `a submit run for ${config.file} is active (lock ${setup.paths.lock}); try again when it has finished`,
    )
  }
  try {
    const records = readJournal(setup.paths.journal)
    const schedulers = new Map(setup.partitions.map((p) => [p.name, p.scheduler]))
    // A partition dropped from the config since still has its glideins in the journal.
    for (const r of records) {
      if (r.kind === "submit" && !schedulers.has(r.partition)) {
        const s = schedulerFor(r.scheduler)
        if (s) schedulers.set(r.partition, s)
      }
    }
    for (const [partition, count] of withoutIds(records)) {
      deps.stderr(
        `glidein cancel: [${partition}] ${plural(count, "glidein")} went out without a job id and cannot be removed by id; they are named "${JOB_NAME}" in the batch system\n`,
      )
    }
    const outstanding = outstandingJobs(records)
    if (outstanding.size === 0) {
      deps.stdout(`No glideins of ${config.file} to cancel (journal ${setup.paths.journal}).\n`)
      return EXIT.ok
    }
    let code: number = EXIT.ok
    for (const [partition, ids] of outstanding) {
      const scheduler = schedulers.get(partition)
      if (!scheduler) {
        deps.stderr(
          `glidein cancel: [${partition}] no scheduler known for ${plural(ids.length, "job")}\n`,
        )
        code = EXIT.failure
        continue
      }
      for (let i = 0; i < ids.length; i += CHUNK) {
        const chunk = ids.slice(i, i + CHUNK)
        const ok = await cancelChunk(partition, scheduler, chunk, options.dryRun, deps)
        if (!ok) code = EXIT.failure
      }
    }
    return code
  } finally {
    lock?.release()
  }

  async function cancelChunk(
    partition: string,
    scheduler: Scheduler,
    ids: string[],
    dryRun: boolean,
    d: CancelDeps,
  ): Promise<boolean> {
    const argv = scheduler.cancelArgv(ids)
    if (dryRun) {
      d.stdout(`[${partition}] would run: ${argv.join(" ")}\n`)
      return true
    }
    const timeoutMs = d.timeoutMs ?? CANCEL_TIMEOUT_MS
    const result = await d.run(argv, { timeoutMs, env: d.env }).catch((error: Error) => error)
    if (result instanceof Error || result.timedOut) {
      const why =
        result instanceof Error
          ? `could not start: ${result.message}`
          : `gave no answer within ${timeoutMs / 1000} s`
      d.stderr(`glidein cancel: [${partition}] "${argv[0]}" ${why}; the jobs stay in the journal\n`)
      return false
    }
    // Most journaled glideins have simply finished, and cancel commands complain about those
    // ids; the batch system was asked to remove every one, so every one is recorded as done.
    appendJournal(setup.paths.journal, {
      kind: "cancel",
      time: d.now().toISOString(),
      partition,
      jobIds: ids,
    })
    const said = outputTail(result)
    const note = result.exitCode !== 0 && said ? ` (${argv[0]} said: ${said})` : ""
    d.stdout(
      `[${partition}] asked ${argv[0]} to remove ${plural(ids.length, "glidein job")}${note}\n`,
    )
    return true
  }
}
