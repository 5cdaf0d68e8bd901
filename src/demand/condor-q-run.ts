/**
 * Running `condor_q`: the argv (never a shell: pyglidein pasted `--constraint` into a shell
 * line, so `RequestGPUs > 0` redirected output into a file named `0`), the timeout, and what
 * counts as a failed run.
 */
import { GlideinError } from "../errors.ts"
import { runCondorTool } from "../run-condor-tool.ts"
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
  const parser = new CondorQParser()
  await runCondorTool({
    ...options,
    name: "condor_q",
    onStdout: (chunk) => parser.push(chunk),
    fail: (message) => new CondorQError(message),
  })
  const result = parser.finish()
  if (result.jobs === 0 && result.setAside === undefined && result.firstBad) {
    throw new CondorQError(
      `condor_q printed ${result.badLines} line${result.badLines === 1 ? "" : "s"} and none parsed (${describeBadLine(result.firstBad)})`,
    )
  }
  const note = constraintNotes(options.argv)
  if (note !== undefined) result.note = note
  return result
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
