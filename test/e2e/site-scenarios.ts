/**
 * @module
 * The scenarios run on each cluster, in order: submit, glideins, journal, limits, lock,
 * report, cancel. Each returns the note of its PASS line or throws CheckFailed.
 */
import { chmodSync, chownSync, copyFileSync, mkdirSync, readFileSync } from "node:fs"
import { writeFile } from "node:fs/promises"
import { join } from "node:path"
import { ApiClientsSchema } from "../../src/protocol/api.ts"
import type { FakeS3 } from "../../src/runtime/fake-s3.ts"
import { tarNamesOf } from "../../src/tarball/test-support.ts"
import type { Cluster } from "./batch.ts"
import { DEMAND_JOBS, FIRST_RUN } from "./expected.ts"
import { glideinsScenario } from "./glideins.ts"
import {
  CheckFailed,
  check,
  describeRun,
  type Runner,
  run,
  runOk,
  show,
  tail,
  waitFor,
} from "./harness.ts"
import type { Context } from "./pool.ts"
import { type MasterRecord, masterAlive } from "./records.ts"
import {
  batchOutput,
  counts,
  journalRecords,
  LOG_UPLOAD_INTERVAL_S,
  lockFile,
  prepareSite,
  recordsOf,
  type Site,
  same,
  submit,
  writeSiteConfig,
} from "./site.ts"

/**
 * Runs every per-cluster scenario on `c`, each skipped when what it builds on failed, and
 * returns the site for the scenarios that span clusters.
 */
export async function clusterScenarios(
  runner: Runner,
  ctx: Context,
  c: Cluster,
  bucket: FakeS3,
): Promise<Site> {
  const site = await prepareSite(ctx, c, bucket.bucket)
  const g = c.name
  await runner.scenario(g, "submit", ["all/serve", "all/tarball"], () =>
    submitScenario(ctx, c, site),
  )
  await runner.scenario(g, "glideins", ["submit"], () => glideinsScenario(ctx, c, site))
  await runner.scenario(g, "logs", ["glideins"], () => logsScenario(ctx, c, site, bucket))
  await runner.scenario(g, "journal", ["submit"], () => journalScenario(ctx, c, site))
  await runner.scenario(g, "limits", ["submit"], () => limitsScenario(ctx, c, site))
  await runner.scenario(g, "lock", ["limits"], () => lockScenario(ctx, c, site))
  await runner.scenario(g, "report", ["submit"], () => reportScenario(ctx, site))
  await runner.scenario(g, "cancel", ["submit"], () => cancelScenario(ctx, c, site))
  return site
}

/** Scenario `submit`: one run puts FIRST_RUN glideins into the batch system and each starts its master. */
async function submitScenario(ctx: Context, c: Cluster, site: Site): Promise<string> {
  copyFileSync(ctx.tarball, site.tarball)
  chownSync(site.tarball, ctx.user.uid, ctx.user.gid)
  chmodSync(site.tarball, 0o600)

  const r = await submit(ctx, site)
  check(r.code === 0, `glidein submit exited ${r.code}`, describeRun(r))
  const jobs = await waitFor(`${FIRST_RUN} glideins in the batch system`, 20, async () => {
    const list = await c.jobs(ctx.user.name)
    return list.length >= FIRST_RUN ? list : undefined
  })
  check(
    jobs.length === FIRST_RUN,
    `${jobs.length} glideins in the batch system, want ${FIRST_RUN}`,
    `${show(jobs)}\n${describeRun(r)}`,
  )
  let seen = 0
  await waitFor(
    "every glidein to start its condor_master",
    60,
    async () => {
      seen = recordsOf(ctx, c).length
      return seen >= FIRST_RUN ? true : undefined
    },
    500,
    () => `${seen} master(s) recorded; batch jobs: ${show(jobs)}\n${describeRun(r)}`,
  ).catch(async (error: unknown) => {
    if (error instanceof CheckFailed)
      throw new CheckFailed(error.message, `${error.details ?? ""}\n${await batchOutput(site)}`)
    throw error
  })
  return `submit ${r.seconds.toFixed(1)} s; jobs ${jobs
    .map((j) => j.id)
    .sort((a, b) => Number(a) - Number(b))
    .join(", ")} started their masters`
}

/**
 * Scenario `logs`: every running glidein uploads its HTCondor logs to the bucket through the
 * signed form (the stand-in checks each upload as S3 does), under a name of its own, and
 * advertises where; its condor_master, and so its payload jobs, never see the form.
 */
async function logsScenario(ctx: Context, c: Cluster, site: Site, bucket: FakeS3): Promise<string> {
  const records = recordsOf(ctx, c)
  const ours = () =>
    new Set(bucket.uploads.filter((u) => u.key.startsWith(`${site.name}_`)).map((u) => u.key))
  const keys = await waitFor(
    `a log upload from each of the ${FIRST_RUN} glideins`,
    30,
    async () => (ours().size >= FIRST_RUN ? ours() : undefined),
    250,
    () => `uploaded: ${show([...ours()])}; refused: ${show(bucket.refusals)}`,
  )
  check(bucket.refusals.length === 0, "the bucket refused uploads", show(bucket.refusals))
  const base = `${site.logs.url}/${site.logs.bucket}/`
  const advertised = records.map((r) => r.env._condor_GLIDEIN_LogsURL ?? "")
  check(
    same(
      advertised,
      [...keys].map((k) => `"${base}${k}"`),
    ),
    "the glideins do not advertise the objects they upload",
    `advertised ${show(advertised)}
uploaded ${show([...keys])}`,
  )
  for (const r of records) {
    const leaked = Object.keys(r.env).filter((k) => k.startsWith("LOG_UPLOAD"))
    check(leaked.length === 0, `condor_master was started with ${leaked.join(", ")}`, show(r.env))
  }
  const last = bucket.uploads.filter((u) => keys.has(u.key)).at(-1)!
  const listing = tarNamesOf(last.bytes)
  check(listing.includes("log/"), `${last.key} does not hold log/`, show(listing))
  const uploads = bucket.uploads.filter((u) => keys.has(u.key)).length
  return `${keys.size} glideins uploaded their logs (${uploads} uploads so far, every ${LOG_UPLOAD_INTERVAL_S} s) and advertise GLIDEIN_LogsURL`
}

/** Scenario `journal`: the journal and `status --config` (text and JSON) show the glideins. */
async function journalScenario(ctx: Context, c: Cluster, site: Site): Promise<string> {
  const journal = await journalRecords(site)
  const submits = journal.filter((j) => j.kind === "submit")
  const jobIds = submits.flatMap((s) => s.jobIds ?? [])
  const batch = (await c.jobs(ctx.user.name)).map((j) => j.id)
  check(
    submits.reduce((n, s) => n + (s.count ?? 0), 0) === FIRST_RUN,
    `the journal does not record ${FIRST_RUN} glideins`,
    show(journal),
  )
  check(
    same(jobIds, batch),
    "the journal's job ids are not the batch system's",
    `journal ${show(jobIds)}\nbatch ${show(batch)}`,
  )

  // status --config: what the batch system and the journal hold, and what a run would do.
  const asUser = { user: ctx.user, env: site.env, cwd: site.dir }
  const json = await runOk([ctx.bin, "status", "--config", site.config, "--json"], asUser)
  const status = JSON.parse(json.stdout) as {
    demand_jobs?: number
    partitions?: {
      running?: number
      idle?: number
      journaled_not_cancelled?: number
      would_submit?: unknown[]
    }[]
  }
  const p = status.partitions?.[0]
  const seen = {
    demand_jobs: status.demand_jobs,
    partitions: status.partitions?.length,
    running: p?.running,
    idle: p?.idle,
    journaled_not_cancelled: p?.journaled_not_cancelled,
    would_submit: p?.would_submit?.length,
  }
  const want = {
    demand_jobs: DEMAND_JOBS,
    partitions: 1,
    running: FIRST_RUN,
    idle: 0,
    journaled_not_cancelled: FIRST_RUN,
    would_submit: 0, // max_total_jobs is reached
  }
  check(
    show(seen) === show(want),
    "status --config --json disagrees",
    `got ${show(seen)}\nwant ${show(want)}\n${json.stdout}`,
  )
  const text = await runOk([ctx.bin, "status", "--config", site.config], asUser)
  check(
    text.stdout.includes(`${FIRST_RUN} running, 0 idle`),
    `status --config does not say "${FIRST_RUN} running, 0 idle"`,
    describeRun(text),
  )
  const listed = new Set(
    text.stdout
      .split("\n")
      .filter((l) => l.includes("journal"))
      .flatMap((l) => l.split(/[\s,:]+/)),
  )
  const unlisted = batch.filter((id) => !listed.has(id))
  check(
    unlisted.length === 0,
    `status --config does not list the journal's job ${unlisted.join(", ")}`,
    describeRun(text),
  )
  return `journal lists jobs ${[...jobIds].sort((a, b) => Number(a) - Number(b)).join(", ")}; status --config: ${FIRST_RUN} running, 0 idle, ${DEMAND_JOBS} idle jobs wanted, nothing to submit`
}

/** Scenario `limits`: max_idle_jobs holds with more demand than the node can run. */
async function limitsScenario(ctx: Context, c: Cluster, site: Site): Promise<string> {
  // The node is full (4 cores, 3 glideins); demand is 7 jobs. With max_idle_jobs = 2 one run
  // queues 2 more, and the next run none, however much demand there is.
  await writeSiteConfig(ctx, c, site, { maxTotal: 10, maxIdle: 2, perSubmit: 10 })
  const first = await submit(ctx, site)
  check(first.code === 0, `glidein submit exited ${first.code}`, describeRun(first))
  const after1 = await counts(ctx, c)
  check(
    after1.running === FIRST_RUN && after1.pending === 2 && after1.other.length === 0,
    `after one run: ${after1.running} running, ${after1.pending} pending, want ${FIRST_RUN} and 2`,
    `${show(after1.jobs)}\n${describeRun(first)}`,
  )
  const second = await submit(ctx, site)
  check(second.code === 0, `the second glidein submit exited ${second.code}`, describeRun(second))
  const after2 = await counts(ctx, c)
  check(
    after2.running === FIRST_RUN && after2.pending === 2,
    `after a second run: ${after2.running} running, ${after2.pending} pending; max_idle_jobs = 2 should have stopped it`,
    `${show(after2.jobs)}\n${describeRun(second)}`,
  )
  return `max_idle_jobs = 2 with ${DEMAND_JOBS} idle jobs of demand on a full node: +2 pending, then +0`
}

/** Scenario `lock`: a run overlapping another of the same config is refused and submits nothing. */
async function lockScenario(ctx: Context, c: Cluster, site: Site): Promise<string> {
  // Each run may submit one glidein (limit_per_submit = 1), so a second run that submits
  // anything, at once or after waiting, shows. The first run is slowed down while it counts
  // (its squeue/qstat sleeps 2 s); the second starts once the first holds the lock.
  await writeSiteConfig(ctx, c, site, { maxTotal: 10, maxIdle: 10, perSubmit: 1 })
  const slow = join(ctx.work, `slow-${c.name}`)
  mkdirSync(slow, { recursive: true })
  const real = (await runOk(["sh", "-c", `command -v ${c.countCommand}`])).stdout.trim()
  await writeFile(join(slow, c.countCommand), `#!/bin/sh\nsleep 2\nexec ${real} "$@"\n`, {
    mode: 0o755,
  })
  chmodSync(slow, 0o755)

  const journalBefore = (await journalRecords(site)).length
  const lock = await lockFile(site)
  const holderBefore = readFileSync(lock, "utf8")
  const order: string[] = []
  const first = submit(ctx, site, { PATH: `${slow}:${site.env.PATH}` }).then((r) => {
    order.push("first")
    return r
  })
  // The lock file names its holder once the lock is taken.
  await waitFor("the first run to take the lock", 10, async () =>
    readFileSync(lock, "utf8") !== holderBefore || order.length > 0 ? true : undefined,
  )
  const second = await submit(ctx, site)
  order.push("second")
  const firstDone = await first
  check(
    firstDone.code === 0,
    `the first (slow) submit exited ${firstDone.code}`,
    describeRun(firstDone),
  )
  check(
    second.code === 0,
    `the overlapping submit exited ${second.code}, want 0 (another run is active)`,
    describeRun(second),
  )
  check(
    order[0] === "second",
    "the overlapping submit ended after the first one: it waited for the lock instead of leaving",
    `${describeRun(second)}\n${describeRun(firstDone)}`,
  )
  const said = `${second.stdout}\n${second.stderr}`
  check(
    said.includes(`glidein submit: another run for ${site.config} is still active (lock `),
    "the overlapping submit did not say another run holds the lock",
    describeRun(second),
  )
  const now = await counts(ctx, c)
  check(
    now.running === FIRST_RUN && now.pending === 3,
    `${now.running} running, ${now.pending} pending, want ${FIRST_RUN} and 3 (one submission, not two)`,
    `${show(now.jobs)}\n${describeRun(firstDone)}\n${describeRun(second)}`,
  )
  const journalAfter = await journalRecords(site)
  check(
    journalAfter.length === journalBefore + 1,
    `the journal grew by ${journalAfter.length - journalBefore} records, want 1`,
    show(journalAfter.slice(journalBefore)),
  )
  return `a run started while another held the lock left at once and said so; 1 glidein added, not 2`
}

/** Scenario `report`: the server's /api/clients and status page show the site's last report. */
async function reportScenario(ctx: Context, site: Site): Promise<string> {
  const res = await fetch(`${ctx.serverUrl}/api/clients`)
  check(res.ok, `GET /api/clients answered ${res.status}`)
  const body = (await res.json()) as unknown
  const parsed = ApiClientsSchema.safeParse(body)
  check(parsed.success, "GET /api/clients is not the API's client list", show(body))
  const client = parsed.data.clients.find((c) => c.uuid === site.uuid)
  check(client !== undefined, `/api/clients has no client "${site.uuid}"`, show(body))
  const running = client.metrics.glideins_running ?? {}
  check(
    Object.values(running).reduce((a, b) => a + b, 0) === FIRST_RUN,
    `/api/clients reports ${show(running)} running glideins for "${site.uuid}", want ${FIRST_RUN}`,
    show(client),
  )
  // The page is rendered at most every few seconds (so that browsers never slow get_state):
  // a report shows on it within seconds, not at once.
  let page = await fetch(`${ctx.serverUrl}/`)
  let html = await page.text()
  for (let i = 0; i < 30 && !(page.ok && html.includes(site.uuid)); i++) {
    await Bun.sleep(500)
    page = await fetch(`${ctx.serverUrl}/`)
    html = await page.text()
  }
  check(
    page.ok && html.includes(site.uuid),
    `the status page does not show "${site.uuid}" 15 s after its report`,
    tail(html, 40),
  )
  return `/api/clients and / show ${site.uuid} with ${JSON.stringify(running)} running`
}

/** Scenario `cancel`: `glidein cancel --config` removes every glidein and every master ends. */
async function cancelScenario(ctx: Context, c: Cluster, site: Site): Promise<string> {
  const before = await c.jobs(ctx.user.name)
  const r = await run([ctx.bin, "cancel", "--config", site.config], {
    user: ctx.user,
    env: site.env,
    cwd: site.dir,
  })
  check(r.code === 0, `glidein cancel --config exited ${r.code}`, describeRun(r))
  let left: unknown = []
  await waitFor(
    "the batch system to drop every glidein",
    30,
    async () => {
      const jobs = await c.jobs(ctx.user.name)
      left = jobs
      return jobs.length === 0 ? true : undefined
    },
    500,
    () => `still listed: ${show(left)}\n${describeRun(r)}`,
  )
  let alive: MasterRecord[] = []
  await waitFor(
    "every stand-in condor_master to end",
    20,
    async () => {
      alive = recordsOf(ctx, c).filter(masterAlive)
      return alive.length === 0 ? true : undefined
    },
    500,
    () => `still running: ${alive.map((a) => `pid ${a.pid} (${a.dir})`).join(", ")}`,
  )
  const journal = await journalRecords(site)
  const cancelled = new Set(
    journal.filter((j) => j.kind === "cancel").flatMap((j) => j.jobIds ?? []),
  )
  const missing = before.map((j) => j.id.replace(/\..*$/, "")).filter((id) => !cancelled.has(id))
  check(
    missing.length === 0,
    `the journal has no cancel record for ${missing.join(", ")}`,
    show(journal),
  )
  const stops = new Map<string, number>()
  for (const m of recordsOf(ctx, c)) {
    const how = !m.stopped
      ? "SIGKILL"
      : m.stopped === "lifetime"
        ? "its lifetime"
        : `SIG${m.stopped}`
    stops.set(how, (stops.get(how) ?? 0) + 1)
  }
  const how = [...stops].map(([sig, n]) => `${n} by ${sig}`).join(", ")
  return `${before.length} glideins removed in ${r.seconds.toFixed(1)} s; masters ended: ${how}`
}
