/**
 * @module
 * How many of this site's glideins are running and idle in one partition: the site's own
 * `running_cmd` / `idle_cmd` (shell, `$VARS` expanded as pyglidein did), else the scheduler
 * adapter's default command (argv) and parser.
 */
import type { PartitionSettings } from "../config/schema.ts"
import type { Scheduler } from "../schedulers/types.ts"
import type { PartitionCounts } from "./plan-submissions.ts"
import { type CommandRunner, expandVars, outputTail, shellArgv } from "./run-command.ts"

/** Limit for one counting command. */
export const COUNT_TIMEOUT_MS = 60_000

/** What counting needs besides the partition. */
export interface CountContext {
  run: CommandRunner
  env: Record<string, string | undefined>
  /** Login name for the default commands (PBS lists only this user's jobs). */
  user: string
  timeoutMs?: number
}

/** Counts running and idle glideins, or says in one line why it could not. */
export async function countGlideins(
  partition: string,
  settings: PartitionSettings,
  scheduler: Scheduler,
  ctx: CountContext,
): Promise<PartitionCounts | { error: string }> {
  const [running, idle] = await Promise.all([
    countOne("running", settings.running_cmd, partition, scheduler, ctx),
    countOne("idle", settings.idle_cmd, partition, scheduler, ctx),
  ])
  if (typeof running === "string") return { error: running }
  if (typeof idle === "string") return { error: idle }
  return { running, idle }
}

async function countOne(
  state: "running" | "idle",
  commandLine: string | undefined,
  partition: string,
  scheduler: Scheduler,
  ctx: CountContext,
): Promise<number | string> {
  const key = state === "running" ? "running_cmd" : "idle_cmd"
  const argv =
    commandLine !== undefined
      ? shellArgv(expandVars(commandLine, ctx.env))
      : scheduler.countArgv(state, ctx.user)
  const what = commandLine !== undefined ? `${key} "${commandLine}"` : `"${argv.join(" ")}"`
  let result: Awaited<ReturnType<CommandRunner>>
  try {
    result = await ctx.run(argv, { timeoutMs: ctx.timeoutMs ?? COUNT_TIMEOUT_MS, env: ctx.env })
  } catch (error) {
    return `[${partition}] ${what} could not start: ${(error as Error).message}`
  }
  if (result.timedOut) {
    return `[${partition}] ${what} gave no answer within ${(ctx.timeoutMs ?? COUNT_TIMEOUT_MS) / 1000} s`
  }
  if (result.exitCode !== 0) {
    const tail = outputTail(result)
    return `[${partition}] ${what} failed with exit code ${result.exitCode}${tail ? `: ${tail}` : ""}`
  }
  if (commandLine === undefined) return scheduler.parseCount(result.stdout, state)
  // pyglidein read the whole output as one integer; so do we, and say so when it is not one.
  const text = result.stdout.trim()
  if (!/^\d+$/.test(text)) {
    const shown = text.length > 60 ? `${text.slice(0, 57)}…` : text
    return `[${partition}] ${key} printed ${JSON.stringify(shown)}, expected one whole number`
  }
  return Number(text)
}
