/**
 * @module
 * Running one of HTCondor's query tools (condor_q, condor_status) for a poll: an argv, never a
 * shell; its own process group, killed whole at a timeout, an abort or its exit; stdout handed
 * over as it streams; and every way the run can fail (missing program, timeout, signal,
 * non-zero exit) thrown as one sentence that names the tool.
 */

/** Options for one run of a query tool. */
export interface CondorToolRun {
  /** What messages call it: `condor_q`, `condor_status`. */
  name: string
  /** The program (a path, or a name looked up in PATH). */
  program: string
  argv: string[]
  timeoutMs: number
  signal?: AbortSignal
  /** Called with each chunk of stdout as it arrives. */
  onStdout: (chunk: Uint8Array) => void
  /** Makes the error thrown for a failed run, from its message. */
  fail: (message: string) => Error
}

/** Most of the tool's stderr kept for the error message. */
const STDERR_KEPT = 4096

/**
 * How long output is read after the tool exits, should a process outside its group still
 * hold the pipes: what it wrote is in the pipe by then, and takes milliseconds to read.
 */
const EXIT_GRACE_MS = 2000

/** Runs the tool to its end, streaming stdout to `onStdout`; throws `fail(…)` unless it
 *  exited 0 within the time. */
export async function runCondorTool(run: CondorToolRun): Promise<void> {
  const { name, program, argv, timeoutMs, signal, fail } = run
  if (signal?.aborted) throw fail(`${name} was not started: shutting down`)
  let proc: Bun.Subprocess<"ignore", "pipe", "pipe">
  try {
    // Its own process group, so a timeout kills a wrapper script's children too: a hung
    // wrapper would otherwise leave an orphan behind at every poll.
    proc = Bun.spawn([program, ...argv], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      detached: true,
    })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === "ENOENT") throw fail(`${name} not found: "${program}"`)
    if (code === "EACCES") throw fail(`${name} is not executable: "${program}"`)
    throw fail(`${name} "${program}" could not be started: ${String(error)}`)
  }
  const stdout = proc.stdout.getReader()
  const stderr = proc.stderr.getReader()
  const killGroup = () => {
    try {
      process.kill(-proc.pid, "SIGKILL")
    } catch {
      // The group is gone already (the tool exited and left no child).
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
    // A child of the tool (or of a wrapper script) may still hold the pipes open.
    stopReading()
  }
  const timer = setTimeout(() => stop("timeout"), timeoutMs)
  const onAbort = () => stop("abort")
  signal?.addEventListener("abort", onAbort, { once: true })
  // The tool's exit ends the run. A child it left behind (a wrapper's background job) would
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
    for (;;) {
      const { done, value } = await stdout.read()
      if (done) break
      run.onStdout(value)
    }
    const exitCode = await proc.exited
    const message = firstLine(await errorText)
    if (stopped === "timeout") {
      throw fail(`${name} did not finish within ${timeoutMs / 1000} s and was killed`)
    }
    if (stopped === "abort") throw fail(`${name} was stopped: shutting down`)
    if (proc.signalCode) {
      throw fail(`${name} was killed by ${proc.signalCode}${message ? `: ${message}` : ""}`)
    }
    if (exitCode !== 0) {
      throw fail(`${name} exited with status ${exitCode}${message ? `: ${message}` : ""}`)
    }
  } finally {
    clearTimeout(timer)
    clearTimeout(afterExit)
    signal?.removeEventListener("abort", onAbort)
  }
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
