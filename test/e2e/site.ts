/**
 * @module
 * One test site per cluster: its directory, config, cron-like environment, and the helpers
 * the per-cluster scenarios share (running `glidein submit` as the site user, reading the
 * journal and the masters' records, counting glideins).
 */
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync } from "node:fs"
import { readdir, writeFile } from "node:fs/promises"
import { join } from "node:path"
import type { LogBucket } from "../../src/client/site/log-upload.ts"
import type { Cluster } from "./batch.ts"
import { FIRST_RUN, WALLTIME_HRS } from "./expected.ts"
import { CheckFailed, check, run, tail } from "./harness.ts"
import type { Context } from "./pool.ts"
import { type MasterRecord, readRecords } from "./records.ts"

export interface Site {
  dir: string
  config: string
  state: string
  tarball: string
  uuid: string
  name: string
  env: Record<string, string>
  /** The bucket its glideins upload their logs to, and the secrets file with its keys. */
  logs: LogBucket
  secrets: string
}

/** Seconds between a glidein's log uploads in the suite (600 in production). */
export const LOG_UPLOAD_INTERVAL_S = 2

/** Limits written into the site config for a scenario. */
export interface Limits {
  maxTotal: number
  maxIdle: number
  perSubmit: number
}

/** The site directory of cluster `c`, owned by the site user, with its first config. */
export async function prepareSite(ctx: Context, c: Cluster, logs: LogBucket): Promise<Site> {
  const dir = join(ctx.work, c.name)
  const state = join(dir, "state")
  mkdirSync(state, { recursive: true })
  const tarball = join(dir, "glidein.tar.gz")
  const name = c.name === "slurm" ? "E2E-Slurm" : "E2E-GridEngine"
  const site: Site = {
    dir,
    config: join(dir, "site.ini"),
    state,
    tarball,
    uuid: `e2e-${c.name}`,
    name,
    logs,
    secrets: join(dir, "secrets.ini"),
    env: {
      PATH: "/usr/local/bin:/usr/bin:/bin",
      HOME: ctx.user.home,
      LOGNAME: ctx.user.name,
      SHELL: "/bin/sh",
      GLIDEIN_STATE_DIR: state,
      ...c.clientEnv,
    },
  }
  await writeSiteConfig(ctx, c, site, { maxTotal: FIRST_RUN, maxIdle: 10, perSubmit: 10 })
  const keys = `[StartdLogging]\naccess_key = ${logs.accessKey}\nsecret_key = ${logs.secretKey}\n`
  await writeFile(site.secrets, keys, { mode: 0o600 })
  for (const path of [dir, state, site.config, site.secrets])
    chownSync(path, ctx.user.uid, ctx.user.gid)
  chmodSync(dir, 0o755)
  return site
}

/** Writes the site config with `limits` (a scenario changes them between runs). */
export async function writeSiteConfig(ctx: Context, c: Cluster, site: Site, limits: Limits) {
  const text = [
    `# ${c.name} test site, written by test/e2e/suite.ts`,
    "[Mode]",
    "debug = True",
    "",
    "[Glidein]",
    `address = ${ctx.serverUrl}/jsonrpc`,
    `site = ${site.name}`,
    `resourcename = ${site.name}-vm`,
    "cluster = pool.e2e.invalid",
    `uuid = ${site.uuid}`,
    `tarball = ${site.tarball}`,
    "",
    "[Cluster]",
    ...c.configLines,
    `walltime_hrs = ${WALLTIME_HRS}`,
    `max_total_jobs = ${limits.maxTotal}`,
    `max_idle_jobs = ${limits.maxIdle}`,
    `limit_per_submit = ${limits.perSubmit}`,
    "",
    "[StartdLogging]",
    "send_startd_logs = True",
    `url = ${site.logs.url}`,
    `bucket = ${site.logs.bucket}`,
    "",
    "[CustomEnv]",
    `E2E_CLUSTER = ${c.name}`,
    `LOG_UPLOAD_INTERVAL = ${LOG_UPLOAD_INTERVAL_S}`,
    "",
  ].join("\n")
  await writeFile(site.config, text)
}

/** One `glidein submit` run as the site user, in its cron-like environment. */
export function submit(ctx: Context, site: Site, extraEnv: Record<string, string> = {}) {
  return run([ctx.bin, "submit", "--config", site.config, "--secrets", site.secrets], {
    user: ctx.user,
    env: { ...site.env, ...extraEnv },
    cwd: site.dir,
    timeoutMs: 90_000,
  })
}

/** The masters started by glideins of cluster `c`. */
export function recordsOf(ctx: Context, c: Cluster): MasterRecord[] {
  return readRecords(ctx.results, c.jobIdVariable).filter((r) => r.contract?.E2E_CLUSTER === c.name)
}

/** Batch output files the glideins left (debug mode), for failure details. */
export async function batchOutput(site: Site): Promise<string> {
  const out: string[] = []
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const path = join(dir, e.name)
      if (e.isDirectory()) await walk(path)
      else if (/\.(out|err)$/.test(e.name)) {
        const text = readFileSync(path, "utf8")
        if (text.trim()) out.push(`--- ${path}\n${tail(text, 15)}`)
      }
    }
  }
  await walk(site.state)
  return out.slice(-6).join("\n")
}

/** Same strings, in any order. */
export function same(a: string[], b: string[]): boolean {
  return JSON.stringify([...a].sort()) === JSON.stringify([...b].sort())
}

interface JournalLine {
  kind: string
  count?: number
  jobIds?: string[]
}

/** The lock file of the site's config (created by its first run). */
export async function lockFile(site: Site): Promise<string> {
  for (const e of await readdir(site.state, { withFileTypes: true })) {
    const path = join(site.state, e.name, "lock")
    if (e.isDirectory() && existsSync(path)) return path
  }
  throw new CheckFailed(`no lock file under ${site.state}`)
}

/** Every record of the site's journal. */
export async function journalRecords(site: Site): Promise<JournalLine[]> {
  const out: JournalLine[] = []
  for (const e of await readdir(site.state, { withFileTypes: true })) {
    const path = join(site.state, e.name, "journal.jsonl")
    if (!e.isDirectory() || !existsSync(path)) continue
    for (const line of readFileSync(path, "utf8").split("\n")) {
      if (line.trim()) out.push(JSON.parse(line) as JournalLine)
    }
  }
  check(out.length > 0, `no journal.jsonl under ${site.state}`)
  return out
}

/** The site user's glideins in the batch system, by state. */
export async function counts(ctx: Context, c: Cluster) {
  const jobs = await c.jobs(ctx.user.name)
  return {
    running: jobs.filter((j) => j.state === "running").length,
    pending: jobs.filter((j) => j.state === "pending").length,
    other: jobs.filter((j) => j.state === "other"),
    jobs,
  }
}
