/**
 * @module
 * The demand table as it travels in `get_state`'s reply (and in a state file): rows of
 * identical idle jobs, in pyglidein's units, and the bounds every `glidein submit` accepts.
 * The server (src/demand) publishes only what these bounds allow and the client validates
 * against the same values, so the two sides cannot drift apart. A reply is validated whole at
 * the boundary (non-negative integers, a short plain `os` token) so that a compromised or
 * broken server can never put text into a submit file or a shell command; a reply with one
 * malformed field is rejected entirely rather than partly used. A well-formed row asking for
 * more than DEMAND_LIMITS (one mistyped job wanting 200,000 cpus) is a job no site could run:
 * it is left out and counted, so it cannot stop every site's submissions.
 */
import { z } from "zod/mini"
import { GlideinError } from "../errors.ts"
import { printable } from "../printable.ts"

/** One row of the demand table: identical idle jobs grouped, in pyglidein's wire units. */
export interface DemandRow {
  /** RequestCpus (1 when undefined). */
  cpus: number
  /** RequestMemory in MB (2000 when undefined). */
  memory: number
  /** RequestDisk in KiB / 1000, rounded up — pyglidein's unit (10000 when undefined). */
  disk: number
  /** RequestGpus (0 when undefined). */
  gpus: number
  /** Normalized OS requirement (`"sl6"`, `"centos7"`, `"el8"`), or null for any OS. */
  os: string | null
  /** How many idle jobs ask for exactly this. */
  count: number
}

/**
 * Upper bounds far above any real job, low enough that arithmetic on them stays exact. A
 * client skips a row over one of them (no site could run it) and refuses a reply of more
 * than `rows` rows; the server sets such rows aside and never publishes more rows.
 */
export const DEMAND_LIMITS = {
  cpus: 100_000,
  memory: 1_000_000_000,
  disk: 1_000_000_000_000,
  gpus: 10_000,
  count: 100_000_000,
  rows: 100_000,
} as const

/** What `os` may look like on the wire: a token such as `RHEL7`, `el9`, `AlmaLinux9`, `sl6`. */
export const OS_TOKEN = /^[A-Za-z0-9_.-]{1,32}$/

// A number over `max` passes here and is skipped with its row by `overLimit`.
function whole(max: number) {
  return z
    .number({ error: (issue) => `expected a whole number, got ${describe(issue.input)}` })
    .check(
      z.refine((n: number) => n > max || (Number.isInteger(n) && n >= 0), {
        error: (issue) => `expected a whole number from 0 to ${max}, got ${describe(issue.input)}`,
      }),
    )
}

// pyglidein's server divides RequestDisk (KiB) by 1000 and sends floats such as 3145.728, so
// disk alone may be fractional; it is rounded up, never down, so a glidein is never too small.
const disk = z.pipe(
  z.number({ error: (issue) => `expected a number, got ${describe(issue.input)}` }).check(
    z.refine((n: number) => n > DEMAND_LIMITS.disk || (Number.isFinite(n) && n >= 0), {
      error: (issue) =>
        `expected a number from 0 to ${DEMAND_LIMITS.disk}, got ${describe(issue.input)}`,
    }),
  ),
  z.transform((n: number) => Math.ceil(n)),
)

const os = z.pipe(
  z
    .optional(
      z.union([z.null(), z.string()], {
        error: (issue) => `expected null or a string, got ${describe(issue.input)}`,
      }),
    )
    .check(
      z.refine(
        (v: string | null | undefined) => v === null || v === undefined || OS_TOKEN.test(v),
        {
          error: (issue) =>
            `expected a plain token of letters, digits, "_", "." or "-" (at most 32), got ${describe(issue.input)}`,
        },
      ),
    ),
  z.transform((v: string | null | undefined) => v ?? null),
)

const row = z.object(
  {
    cpus: whole(DEMAND_LIMITS.cpus),
    memory: whole(DEMAND_LIMITS.memory),
    disk,
    gpus: whole(DEMAND_LIMITS.gpus),
    os,
    count: whole(DEMAND_LIMITS.count),
  },
  { error: (issue) => `expected an object, got ${describe(issue.input)}` },
)

const reply = z
  .array(row, { error: (issue) => `expected a list of demand rows, got ${describe(issue.input)}` })
  .check(z.maxLength(DEMAND_LIMITS.rows, { error: `more than ${DEMAND_LIMITS.rows} demand rows` }))

/** Rows left out of a reply because no site could run them: how many, and why the first was. */
export interface SkippedRows {
  rows: number
  /** e.g. `cpus 200000 > 100000` */
  first: string
}

/** A validated reply: the rows to plan with, and what was skipped (undefined when nothing). */
export interface Demand {
  rows: DemandRow[]
  skipped?: SkippedRows
}

/**
 * Validates a `get_state` result (or a state file's content) and returns typed rows, dropping
 * rows with a count of 0 and skipping (counted) rows over DEMAND_LIMITS. Throws one line
 * naming `source` and the first malformed field.
 */
export function parseDemand(value: unknown, source: string): Demand {
  const result = reply.safeParse(value)
  if (!result.success) {
    const issue = result.error.issues[0]
    const path = issue ? formatPath(issue.path) : ""
    const message = issue?.message ?? "invalid"
    throw new GlideinError(`${source}: demand rejected: ${path ? `${path}: ` : ""}${message}`)
  }
  const rows: DemandRow[] = []
  let skipped: SkippedRows | undefined
  for (const row of result.data) {
    if (row.count === 0) continue
    const over = overLimit(row)
    if (over === undefined) rows.push(row)
    else if (skipped === undefined) skipped = { rows: 1, first: over }
    else skipped.rows++
  }
  return skipped === undefined ? { rows } : { rows, skipped }
}

/** The sentence said once per reply with skipped rows. */
export function skippedNote(skipped: SkippedRows): string {
  const more = skipped.rows > 1 ? `, and ${skipped.rows - 1} more` : ""
  const rows = skipped.rows === 1 ? "1 demand row" : `${skipped.rows} demand rows`
  return `skipped ${rows} no site could run: ${skipped.first}${more}`
}

const RESOURCES = ["cpus", "memory", "disk", "gpus", "count"] as const

/** `cpus 200000 > 100000` for the first field of `row` over its bound, else undefined. */
function overLimit(row: DemandRow): string | undefined {
  for (const key of RESOURCES) {
    const max = DEMAND_LIMITS[key]
    if (row[key] > max) return `${key} ${describe(row[key])} > ${max}`
  }
  return undefined
}

function formatPath(path: PropertyKey[]): string {
  return path
    .map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
    .join("")
    .replace(/^\./, "")
}

/** A short, safe rendering of a rejected value for an error line (never the whole value). */
function describe(value: unknown): string {
  if (value === undefined) return "nothing"
  if (value === null) return "null"
  if (Array.isArray(value)) return "a list"
  if (typeof value === "object") return "an object"
  // JSON quoting escapes C0 controls; printable() the rest (C1, bidi overrides).
  const text = typeof value === "string" ? JSON.stringify(value) : String(value)
  return printable(text.length > 40 ? `${text.slice(0, 37)}…` : text, 40)
}
