/**
 * A streaming parser for `condor_history -af:tV` over HISTORY_COLUMNS: one job that left the
 * schedd's queue a line, read by af-lines.ts (a bad line is counted, never guessed at), and
 * past MAX_JOBS the answer is marked cut short. Each job says where it last ran — the startd
 * in `LastRemoteHost`, and the glidein's client when the schedd copies it into the job
 * (`SYSTEM_JOB_MACHINE_ATTRS = GLIDEIN_Client`) — and how long its last run took.
 */
import { type AfAnswer, AfLineParser, type AfValue } from "./af-lines.ts"

/** What condor_history is asked for, in order (`-af:tV` prints one column each). */
export const HISTORY_COLUMNS = [
  "ClusterId",
  "ProcId",
  "JobStatus",
  "LastRemoteHost",
  "MachineAttrGLIDEIN_Client0",
  "JobCurrentStartDate",
  "JobStartDate",
  "CompletionDate",
  "EnteredCurrentStatus",
  "ExitCode",
  "ExitBySignal",
  "RemoteWallClockTime",
] as const

/** One job that left the queue, completed or removed. */
export interface EndedJob {
  /** `cluster.proc`. */
  id: string
  status: "completed" | "removed"
  /** The startd it last ran on (LastRemoteHost after `slotN[_M]@`); none if it never ran. */
  glidein?: string
  /** The GLIDEIN_Client of the glidein it last ran on, as the schedd recorded it. */
  client?: string
  /** When its last run started (epoch seconds). */
  startedAt?: number
  /** When it completed, or was removed (epoch seconds). */
  endedAt: number
  exitCode?: number
  bySignal?: boolean
  /** Seconds it ran, over all its runs. */
  wallS?: number
}

/** What one condor_history run amounted to (cutShort: more than MAX_JOBS jobs). */
export interface EndedJobs extends Omit<AfAnswer<EndedJob>, "items"> {
  jobs: EndedJob[]
}

/** More jobs than a schedd ends between two polls: beyond it the answer is not trusted. */
export const MAX_JOBS = 100_000

type Column = (typeof HISTORY_COLUMNS)[number]

/** `slot1_1@glidein_5001_…@node` → `glidein_5001_…@node`; a name without a slot is the startd. */
export function startdOf(remoteHost: string): string {
  const slot = /^slot\d+(_\d+)?@/.exec(remoteHost)
  return slot === null ? remoteHost : remoteHost.slice(slot[0].length)
}

/** The job a line's values describe, or the reason it is not one. */
function jobOf(values: AfValue[]): EndedJob | string {
  const get = (c: Column) => values[HISTORY_COLUMNS.indexOf(c)]
  const count = (c: Column, whole = true): number | undefined | Error => {
    const v = get(c)
    if (v === undefined) return undefined
    if (typeof v === "number" && v >= 0 && (!whole || Number.isInteger(v))) return v
    return new Error(`${c}: expected a${whole ? " whole" : ""} number of at least 0`)
  }
  const cluster = count("ClusterId")
  const proc = count("ProcId")
  if (cluster === undefined || cluster instanceof Error) return "ClusterId: expected a job id"
  if (proc === undefined || proc instanceof Error) return "ProcId: expected a job id"
  const status = get("JobStatus")
  if (status !== 3 && status !== 4) return "JobStatus: expected 3 (removed) or 4 (completed)"
  const numbers: Partial<Record<Column, number>> = {}
  for (const c of [
    "JobCurrentStartDate",
    "JobStartDate",
    "CompletionDate",
    "EnteredCurrentStatus",
    "RemoteWallClockTime",
  ] as const) {
    // RemoteWallClockTime is a real number (`5.0`)
    const v = count(c, c !== "RemoteWallClockTime")
    if (v instanceof Error) return v.message
    // HTCondor before 9 wrote 0 for a date not yet reached
    if (v !== undefined && (v > 0 || c === "RemoteWallClockTime")) numbers[c] = v
  }
  const endedAt = status === 4 ? numbers.CompletionDate : numbers.EnteredCurrentStatus
  if (endedAt === undefined) {
    return status === 4
      ? "CompletionDate: expected a time"
      : "EnteredCurrentStatus: expected a time"
  }
  const job: EndedJob = {
    id: `${cluster}.${proc}`,
    status: status === 4 ? "completed" : "removed",
    endedAt,
  }
  const host = get("LastRemoteHost")
  if (host !== undefined) {
    if (typeof host !== "string" || host === "") return "LastRemoteHost: expected a slot name"
    job.glidein = startdOf(host)
  }
  const client = get("MachineAttrGLIDEIN_Client0")
  if (client !== undefined) {
    if (typeof client !== "string") return "MachineAttrGLIDEIN_Client0: expected a string"
    job.client = client
  }
  const started = numbers.JobCurrentStartDate ?? numbers.JobStartDate
  if (started !== undefined) job.startedAt = started
  if (numbers.RemoteWallClockTime !== undefined) job.wallS = numbers.RemoteWallClockTime
  const exitCode = get("ExitCode")
  if (exitCode !== undefined) {
    if (typeof exitCode !== "number" || !Number.isInteger(exitCode)) {
      return "ExitCode: expected a whole number"
    }
    job.exitCode = exitCode
  }
  const bySignal = get("ExitBySignal")
  if (bySignal !== undefined) {
    if (typeof bySignal !== "boolean") return "ExitBySignal: expected true or false"
    job.bySignal = bySignal
  }
  return job
}

/**
 * Seconds the job's last run took: from its start to its end, or its wall-clock time when
 * the start is not known; undefined when neither is.
 */
export function lastRunS(job: EndedJob): number | undefined {
  if (job.startedAt !== undefined && job.startedAt <= job.endedAt) {
    return job.endedAt - job.startedAt
  }
  return job.wallS
}

/** Parses condor_history output pushed in chunks; `finish()` gives the jobs. */
export class EndedJobParser {
  private readonly lines: AfLineParser<EndedJob>

  /** `maxJobs`: more than this many jobs mark the answer cut short. */
  constructor(maxJobs = MAX_JOBS) {
    this.lines = new AfLineParser(HISTORY_COLUMNS, jobOf, maxJobs)
  }

  /** Parses every complete line in `chunk`, keeping the incomplete tail. */
  push(chunk: Uint8Array): void {
    this.lines.push(chunk)
  }

  /** The jobs; a last line without its newline is counted as bad (the output was cut). */
  finish(): EndedJobs {
    const { items, ...rest } = this.lines.finish()
    return { jobs: items, ...rest }
  }
}

/** Parses a whole condor_history answer at once. */
export function parseEndedJobs(text: string): EndedJobs {
  const parser = new EndedJobParser()
  parser.push(new TextEncoder().encode(text))
  return parser.finish()
}
