/**
 * @module
 * The small harness the end-to-end suite runs on: scenarios with prerequisites, one summary
 * line each (PASS/FAIL/SKIP, scheduler, name, seconds, what was shown), child processes with
 * timeouts (optionally as another user), and bounded polling.
 */

/** A failed expectation inside a scenario; its message is the scenario's one-line reason. */
export class CheckFailed extends Error {
  constructor(
    message: string,
    readonly details?: string,
  ) {
    super(message)
  }
}

/** Throws CheckFailed with `message` (and `details`, printed below the summary) unless `ok`. */
export function check(ok: boolean, message: string, details?: string): asserts ok {
  if (!ok) throw new CheckFailed(message, details)
}

export type Outcome = "PASS" | "FAIL" | "SKIP"

export interface ScenarioResult {
  group: string
  name: string
  outcome: Outcome
  seconds: number
  note: string
}

/** Runs scenarios in order, prints one line per scenario, and remembers what passed. */
export class Runner {
  readonly results: ScenarioResult[] = []

  /**
   * Runs `body` as scenario `group/name` unless one of `needs` (names in the same group, or
   * `group/name`) did not pass. `body` returns the note printed on its PASS line.
   */
  async scenario(
    group: string,
    name: string,
    needs: string[],
    body: () => Promise<string>,
  ): Promise<boolean> {
    const missing = needs.filter((n) => !this.passed(n.includes("/") ? n : `${group}/${n}`))
    if (missing.length > 0) {
      this.report({ group, name, outcome: "SKIP", seconds: 0, note: `needs ${missing.join(", ")}` })
      return false
    }
    const started = performance.now()
    try {
      const note = await body()
      this.report({ group, name, outcome: "PASS", seconds: elapsed(started), note })
      return true
    } catch (error) {
      const note = error instanceof Error ? error.message : String(error)
      this.report({ group, name, outcome: "FAIL", seconds: elapsed(started), note })
      const details = error instanceof CheckFailed ? error.details : (error as Error)?.stack
      if (details) process.stdout.write(indent(details))
      return false
    }
  }

  passed(id: string): boolean {
    return this.results.some((r) => `${r.group}/${r.name}` === id && r.outcome === "PASS")
  }

  private report(result: ScenarioResult): void {
    this.results.push(result)
    const seconds = `${result.seconds.toFixed(1)} s`.padStart(7)
    process.stdout.write(
      `${result.outcome}  ${result.group.padEnd(6)} ${result.name.padEnd(10)} ${seconds}  ${result.note}\n`,
    )
  }
}

function elapsed(started: number): number {
  return (performance.now() - started) / 1000
}

function indent(text: string): string {
  const lines = text.trimEnd().split("\n").slice(0, 60)
  return `${lines.map((l) => `        | ${l}`).join("\n")}\n`
}

/** A local account to run commands as. */
export interface User {
  name: string
  uid: number
  gid: number
  home: string
}

/** Looks `name` up in the password database. */
export async function lookupUser(name: string): Promise<User> {
  const r = await run(["getent", "passwd", name])
  const fields = r.stdout.trim().split(":")
  if (r.code !== 0 || fields.length < 7) throw new Error(`no user "${name}" (run the setup first)`)
  return { name, uid: Number(fields[2]), gid: Number(fields[3]), home: fields[5]! }
}

export interface RunResult {
  argv: string[]
  code: number
  stdout: string
  stderr: string
  seconds: number
  timedOut: boolean
}

export interface RunOptions {
  /** The whole environment of the child (nothing is inherited when given). */
  env?: Record<string, string>
  cwd?: string
  /** Killed (SIGKILL) after this long; default 60 s. */
  timeoutMs?: number
  /** Run as this user (through setpriv, with only that user's groups). */
  user?: User
}

/** Runs `argv` to completion and captures its output. Never throws for a non-zero exit. */
export async function run(argv: string[], options: RunOptions = {}): Promise<RunResult> {
  const full = options.user
    ? [
        "setpriv",
        `--reuid=${options.user.uid}`,
        `--regid=${options.user.gid}`,
        "--init-groups",
        ...argv,
      ]
    : argv
  const started = performance.now()
  const child = Bun.spawn(full, {
    env: options.env ?? (process.env as Record<string, string>),
    cwd: options.cwd,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: options.timeoutMs ?? 60_000,
    killSignal: "SIGKILL",
  })
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ])
  return {
    argv,
    code,
    stdout,
    stderr,
    seconds: (performance.now() - started) / 1000,
    timedOut: child.signalCode === "SIGKILL",
  }
}

/** The command, its exit and its output, for a failure message's details. */
export function describeRun(r: RunResult): string {
  const head = `$ ${r.argv.join(" ")}\nexit ${r.timedOut ? "(killed after timeout)" : r.code} after ${r.seconds.toFixed(1)} s`
  const out = r.stdout.trim() ? `\n--- stdout\n${r.stdout.trimEnd()}` : ""
  const err = r.stderr.trim() ? `\n--- stderr\n${r.stderr.trimEnd()}` : ""
  return `${head}${out}${err}`
}

/** Runs `argv` and fails the scenario unless it exits 0. */
export async function runOk(argv: string[], options: RunOptions = {}): Promise<RunResult> {
  const r = await run(argv, options)
  check(r.code === 0, `\`${argv.slice(0, 3).join(" ")}\` exited ${r.code}`, describeRun(r))
  return r
}

/**
 * Calls `probe` every `intervalMs` until it returns a value other than undefined, or throws
 * CheckFailed with `what` and the last value seen after `seconds`.
 */
export async function waitFor<T>(
  what: string,
  seconds: number,
  probe: () => Promise<T | undefined>,
  intervalMs = 250,
  lastSeen?: () => string,
): Promise<T> {
  const deadline = performance.now() + seconds * 1000
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (performance.now() > deadline)
      throw new CheckFailed(`timed out after ${seconds} s waiting for ${what}`, lastSeen?.())
    await Bun.sleep(intervalMs)
  }
}

/** JSON for failure details. */
export function show(value: unknown): string {
  return JSON.stringify(value, null, 2)
}

/** The last `n` lines of `text`. */
export function tail(text: string, n: number): string {
  return text.trimEnd().split("\n").slice(-n).join("\n")
}
