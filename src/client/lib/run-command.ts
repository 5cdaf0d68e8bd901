/**
 * @module
 * Running the batch system's commands: argv arrays by default, `/bin/sh -c` only for command
 * lines the site user wrote in their own config. Every command has a timeout that kills its
 * whole process group (a shell pipeline's children too), and output is captured up to a cap.
 */

import { printable } from "../../printable.ts"
import { quoteLiteral } from "../../schedulers/shell.ts"

/** What a finished (or killed) command left behind. */
export interface CommandResult {
  /** null when killed by a signal (including our timeout). */
  exitCode: number | null
  stdout: string
  stderr: string
  timedOut: boolean
}

/** How to run one command. */
export interface CommandOptions {
  cwd?: string
  timeoutMs: number
  /** A file fed to the command's stdin (LSF's `bsub < FILE`). */
  stdinFile?: string
  env?: Record<string, string | undefined>
}

/** Runs commands; tests substitute a fake. */
export type CommandRunner = (argv: string[], options: CommandOptions) => Promise<CommandResult>

/** Output kept per stream; the rest is read and dropped so the command never blocks on a pipe. */
const MAX_OUTPUT = 1024 * 1024

/**
 * How long output is still read after the command has exited. A command may leave a daemon
 * behind that keeps its stdout open (ssh's ControlMaster, a `setsid cmd &` in a site's
 * wrapper); what the command printed before exiting is in the pipe by then, and waiting for
 * the daemon's end would hang the run past its timeout.
 */
const DRAIN_AFTER_EXIT_MS = 1000

/** Runs `argv` in its own process group and waits for it, at most `timeoutMs`. */
export const runCommand: CommandRunner = async (argv, options) => {
  const child = Bun.spawn(argv, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdin: options.stdinFile ? Bun.file(options.stdinFile) : "ignore",
    stdout: "pipe",
    stderr: "pipe",
    detached: true,
  })
  const stdout = capture(child.stdout)
  const stderr = capture(child.stderr)
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    killGroup(child.pid)
  }, options.timeoutMs)
  try {
    await child.exited
  } finally {
    clearTimeout(timer)
  }
  let drained: ReturnType<typeof setTimeout> | undefined
  await Promise.race([
    Promise.all([stdout.done, stderr.done]),
    new Promise<void>((resolve) => {
      drained = setTimeout(resolve, DRAIN_AFTER_EXIT_MS)
    }),
  ])
  clearTimeout(drained)
  return {
    exitCode: timedOut ? null : child.exitCode,
    stdout: stdout.stop(),
    stderr: stderr.stop(),
    timedOut,
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL")
  } catch {
    // Already gone: nothing to kill.
  }
}

/** Reads a stream in the background, keeping up to MAX_OUTPUT bytes, until it ends or stops. */
function capture(stream: ReadableStream<Uint8Array>): { done: Promise<void>; stop(): string } {
  const reader = stream.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  const done = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) return
        if (size < MAX_OUTPUT) chunks.push(value.subarray(0, MAX_OUTPUT - size))
        size += value.byteLength
      }
    } catch {
      // Cancelled by stop(), or the pipe broke: what was read is kept.
    }
  })()
  return {
    done,
    stop() {
      reader.cancel().catch(() => {})
      return new TextDecoder().decode(Buffer.concat(chunks))
    },
  }
}

/**
 * Runs a quick local query (`id -un`) to its end, synchronously, killed after `timeoutMs`:
 * for a value a synchronous caller needs. Its stdout when it exited 0, else undefined.
 */
export function querySync(argv: string[], timeoutMs: number): string | undefined {
  try {
    const result = Bun.spawnSync(argv, {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "ignore",
      timeout: timeoutMs,
    })
    return result.exitCode === 0 ? result.stdout.toString() : undefined
  } catch {
    // Not installed, or not startable: the caller says what it could not find out.
    return undefined
  }
}

/** argv that runs a site-written command line through `/bin/sh`. */
export function shellArgv(commandLine: string): string[] {
  return ["/bin/sh", "-c", commandLine]
}

/**
 * Expands `$NAME` and `${NAME}` from `env` the way Python's `os.path.expandvars` does (which
 * pyglidein applied to running_cmd and idle_cmd): unknown names are left as written.
 */
export function expandVars(text: string, env: Record<string, string | undefined>): string {
  return text.replace(/\$(?:(\w+)|\{([^}]*)\})/g, (whole, bare?: string, braced?: string) => {
    const value = env[bare ?? braced ?? ""]
    return value === undefined ? whole : value
  })
}

/** Quotes one word for `/bin/sh` as the job scripts do; a plain word stays bare, so the
 *  command a dry run shows reads as typed (`bsub < glidein.lsf`). */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : quoteLiteral(word)
}

/**
 * Why a command did not do its job, as the end of a one-line message: `could not start: …`,
 * `gave no answer within N s` or `failed with exit code N`, with the tail of what it printed;
 * undefined when it exited 0. `outcome` is what the runner returned, or the error it threw.
 */
export function commandTrouble(
  outcome: CommandResult | Error,
  timeoutMs: number,
): string | undefined {
  if (outcome instanceof Error) return `could not start: ${outcome.message}`
  if (!outcome.timedOut && outcome.exitCode === 0) return undefined
  const why = outcome.timedOut
    ? `gave no answer within ${timeoutMs / 1000} s`
    : `failed with exit code ${outcome.exitCode}`
  const tail = outputTail(outcome)
  return `${why}${tail ? `: ${tail}` : ""}`
}

/** The last non-empty lines of a command's stderr (or stdout), for a one-line report; a
 *  carriage return or terminal escape in it is shown, not obeyed. */
export function outputTail(result: CommandResult, maxChars = 300): string {
  const text = (result.stderr.trim() || result.stdout.trim()).replace(/\s*\n\s*/g, " | ")
  return printable(text.length > maxChars ? `…${text.slice(-maxChars)}` : text, Infinity)
}
