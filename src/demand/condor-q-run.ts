/**
 * Running `condor_q`: the argv (never a shell: pyglidein pasted `--constraint` into a shell
 * line, so `RequestGPUs > 0` redirected output into a file named `0`), the timeout, and what
 * counts as a failed run.
 */
import { GlideinError } from "../errors.ts"
import { CondorQParser, type CondorQResult } from "./condor-q-parse.ts"

/** How to ask condor_q for the idle jobs. */
export interface CondorQQuery {
  /** Extra ClassAd constraint, passed as one argument after `-constraint`. */
  constraint?: string
  /** Only this owner's jobs (a positional argument to condor_q). */
  user?: string
}

/** What condor_q reported that could not be used. */
export class CondorQError extends GlideinError {}

/** Most of condor_q's stderr kept for the error message. */
const STDERR_KEPT = 4096

/**
 * How long output is read after condor_q exits, should a process outside its group still
 * hold the pipes: what condor_q wrote is in the pipe by then, and takes milliseconds to read.
 */
const EXIT_GRACE_MS = 2000

/** User names as HTCondor spells owners; nothing condor_q could read as an option. */
const USER_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,127}$/

/** Why a condor_q user filter is unusable, or undefined when it is fine. */
export function checkUser(user: string): string | undefined {
  if (!USER_NAME.test(user)) {
    return `expected a user name (letters, digits, "_", ".", "@", "-", not starting with "-"), got "${user}"`
  }
  return undefined
}

/**
 * A note when `constraint` is one quoted string (`'WantPSCBridges == True'`, as the Pegasus
 * guide writes it inside double quotes): the quotes reach condor_q, which reads a string or
 * an attribute name, true for no job. The query still runs, as asked; undefined when fine.
 */
export function constraintNote(constraint: string): string | undefined {
  const quoted = /^\s*(?:'([^']*)'|"((?:[^"\\]|\\.)*)")\s*$/.exec(constraint)
  if (quoted === null) return undefined
  const inner = (quoted[1] ?? quoted[2] ?? "").trim()
  return `the constraint ${JSON.stringify(constraint)} is one quoted string, not an expression, and matches no job: the quotes reached condor_q${inner === "" ? "" : ` (did you mean ${JSON.stringify(inner)}?)`}`
}

/** Why a condor_q constraint is unusable, or undefined when it is fine. */
export function checkConstraint(constraint: string): string | undefined {
  if (constraint.trim() === "") return "expected a ClassAd expression, got an empty string"
  if (/[\u0000-\u001f\u007f]/.test(constraint)) return "must be one line without control characters"
  return undefined
}

/** The condor_q arguments (after the program) for the demand query. */
export function condorQArgv(query: CondorQQuery = {}): string[] {
  const argv = ["-global"]
  // -allusers (HTCondor ≥ 8.5.2) shows every owner's jobs; a user filter replaces it.
  if (query.user === undefined) argv.push("-allusers")
  argv.push(
    "-af:,",
    "RequestCpus",
    "RequestMemory",
    "RequestDisk",
    "RequestGpus",
    "Requirements",
    "-constraint",
    "JobStatus == 1",
  )
  if (query.constraint !== undefined) argv.push("-constraint", query.constraint)
  if (query.user !== undefined) argv.push(query.user)
  return argv
}

/** Options for one condor_q run. */
export interface RunCondorQOptions {
  /** The condor_q program (a path, or a name looked up in PATH). */
  program: string
  argv: string[]
  timeoutMs: number
  signal?: AbortSignal
}

/**
 * Runs condor_q and parses its output as it streams. Throws CondorQError when the program
 * is missing, times out, exits non-zero or prints nothing that parses: a partial table is
 * never returned.
 */
export async function runCondorQ(options: RunCondorQOptions): Promise<CondorQResult> {
  const { program, argv, timeoutMs, signal } = options
  if (signal?.aborted) throw new CondorQError("condor_q was not started: shutting down")
  let proc: Bun.Subprocess<"ignore", "pipe", "pipe">
  try {
    // Its own process group, so a timeout kills a wrapper script's children too: a hung
    // `condor_q` wrapper would otherwise leave an orphan behind at every poll.
    proc = Bun.spawn([program, ...argv], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      detached: true,
    })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === "ENOENT") throw new CondorQError(`condor_q not found: "${program}"`)
    if (code === "EACCES") throw new CondorQError(`condor_q is not executable: "${program}"`)
    throw new CondorQError(`condor_q "${program}" could not be started: ${String(error)}`)
  }
  const stdout = proc.stdout.getReader()
  const stderr = proc.stderr.getReader()
  const killGroup = () => {
    try {
      process.kill(-proc.pid, "SIGKILL")
    } catch {
      // The group is gone already (condor_q exited and left no child).
      proc.kill("SIGKILL")
    }
  }
  const stopReading = () => {
    void stdout.cancel().catch(() => {})
    void stderr.cancel().catch(() => {})
  }
  let stopped: "timeout" | "abort" | undefined
  const stop = (why: "timeout" | "abort") => {
    stopped ??= why
    killGroup()
    // A child of condor_q (or of a wrapper script) may still hold the pipes open.
    stopReading()
  }
  const timer = setTimeout(() => stop("timeout"), timeoutMs)
  const onAbort = () => stop("abort")
  signal?.addEventListener("abort", onAbort, { once: true })
  // condor_q's exit ends the run. A child it left behind (a wrapper's background job) would
  // hold the pipes open until the timeout, and pile up as orphans poll after poll: its
  // group is killed at once, so the pipes close when drained, and reading stops soon after
  // even if a process outside the group still holds them.
  let afterExit: ReturnType<typeof setTimeout> | undefined
  void proc.exited.then(() => {
    killGroup()
    afterExit = setTimeout(stopReading, EXIT_GRACE_MS)
  })
  try {
    const errorText = readSome(stderr, STDERR_KEPT)
    const parser = new CondorQParser()
    for (;;) {
      const { done, value } = await stdout.read()
      if (done) break
      parser.push(value)
    }
    const exitCode = await proc.exited
    const message = firstLine(await errorText)
    if (stopped === "timeout") {
      throw new CondorQError(`condor_q did not finish within ${timeoutMs / 1000} s and was killed`)
    }
    if (stopped === "abort") throw new CondorQError("condor_q was stopped: shutting down")
    if (proc.signalCode) {
      throw new CondorQError(
        `condor_q was killed by ${proc.signalCode}${message ? `: ${message}` : ""}`,
      )
    }
    if (exitCode !== 0) {
      throw new CondorQError(
        `condor_q exited with status ${exitCode}${message ? `: ${message}` : ""}`,
      )
    }
    const result = parser.finish()
    if (result.jobs === 0 && result.setAside === undefined && result.firstBad) {
      throw new CondorQError(
        `condor_q printed ${result.badLines} line${result.badLines === 1 ? "" : "s"} and none parsed (${describeBadLine(result.firstBad)})`,
      )
    }
    const note = constraintNotes(argv)
    if (note !== undefined) result.note = note
    return result
  } finally {
    clearTimeout(timer)
    clearTimeout(afterExit)
    signal?.removeEventListener("abort", onAbort)
  }
}

/** The note for the first quoted-string `-constraint` in `argv`, if any. */
function constraintNotes(argv: string[]): string | undefined {
  for (let i = 0; i + 1 < argv.length; i++) {
    if (argv[i] !== "-constraint") continue
    const note = constraintNote(argv[i + 1]!)
    if (note !== undefined) return note
  }
  return undefined
}

/** `first at line 3: RequestCpus: expected …: "text"` for the first line that did not parse. */
export function describeBadLine(bad: NonNullable<CondorQResult["firstBad"]>): string {
  return `first at line ${bad.line}: ${bad.reason}: ${JSON.stringify(bad.text)}`
}

/** Reads up to `limit` bytes of a stream as text and drains (discards) the rest. */
async function readSome(
  reader: { read(): Promise<{ done: boolean; value?: Uint8Array }> },
  limit: number,
): Promise<string> {
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done || value === undefined) break
      if (size < limit) {
        chunks.push(value.subarray(0, limit - size))
        size += Math.min(value.length, limit - size)
      }
    }
  } catch {
    // Cancelled after a timeout: what was read so far is all there is.
  }
  return new TextDecoder().decode(Buffer.concat(chunks))
}

function firstLine(text: string): string {
  const line = text.split("\n").find((l) => l.trim() !== "")
  return line === undefined ? "" : line.trim().slice(0, 300)
}
