/**
 * @module
 * The demand table as it travels in pyglidein's `get_state` reply: one row's fields, and the
 * bounds every `glidein submit` accepts. The server (src/demand) publishes only what these
 * bounds allow and the client (src/client/demand.ts) validates against the same values, so
 * the two sides cannot drift apart.
 */

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
