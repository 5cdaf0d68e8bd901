/**
 * @module
 * `glidein serve`: polls condor_q for the pool's idle jobs and serves the demand to sites
 * (pyglidein's JSON-RPC), with a JSON API, Prometheus metrics and a status page. Runs in the
 * foreground and logs to stderr; SIGTERM or SIGINT finish in-flight requests, stop condor_q,
 * close the database and exit 0; SIGHUP reads the tokens file again.
 */

import { hostname } from "node:os"
import { AllotmentBook } from "../allotment/allotment-book.ts"
import {
  condorQArgv,
  DemandPoller,
  type DemandSource,
  demoJobCounts,
  demoQueue,
  parseCondorQ,
  runCondorQ,
} from "../demand/index.ts"
import { GlideinError } from "../errors.ts"
import {
  condorStatusArgv,
  DEFAULT_FLAG_RULE,
  historySource,
  PoolPoller,
  PoolWatch,
  runCondorStatus,
} from "../pool/index.ts"
import { type AlertWatch, startAlerts } from "../server/alerts-watch.ts"
import { DEFAULT_STALE_AFTER_MS } from "../server/app.ts"
import {
  type AppDeps,
  createApp,
  DatabaseWatch,
  type DemandPoint,
  demandPointOf,
  listen,
  loadTokens,
  lockDatabase,
  ReportStore,
  reloadTokens,
  ServerMetrics,
} from "../server/index.ts"
import { VERSION } from "../version.ts"
import { defineCommand } from "./command.ts"
import {
  resolveServeOptions,
  SERVE_OPTIONS,
  SERVE_SECTION,
  type ServeOptions,
} from "./serve-options.ts"

/** condor_q gets this long per poll: -global over a big pool takes minutes, not hours. */
const CONDOR_Q_TIMEOUT_MS = 10 * 60_000
/** In-flight requests get this long after SIGTERM before connections are closed. */
const DRAIN_MS = 10_000
/** How often the database file is looked for (and at every report). */
const DB_CHECK_MS = 10_000

function log(line: string): void {
  process.stderr.write(`${new Date().toISOString()} ${line}\n`)
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.")
}

/** Where demand comes from: condor_q, or the simulated queue of `--demo`. */
function demandSource(options: ServeOptions): DemandSource {
  if (options.demo) return () => parseCondorQ(demoQueue(Date.now()))
  const argv = condorQArgv({ constraint: options.constraint, user: options.user })
  const timeoutMs = Math.min(CONDOR_Q_TIMEOUT_MS, Math.max(60_000, options.delayS * 1000))
  return (signal) => runCondorQ({ program: options.condorQ, argv, timeoutMs, signal })
}

/**
 * The pool watcher: condor_status every --delay seconds (its own timer, beside condor_q),
 * each good answer followed per site with what the fresh sites last reported. None with
 * --demo (no pool) or --no-pool-watch.
 */
function poolPoller(
  options: ServeOptions,
  store: ReportStore,
  allotments: AllotmentBook,
  idleJobs: () => number,
  alerts: AlertWatch | undefined,
): PoolPoller | undefined {
  if (options.demo || options.noPoolWatch) return undefined
  const argv = condorStatusArgv()
  const timeoutMs = Math.min(CONDOR_Q_TIMEOUT_MS, Math.max(60_000, options.delayS * 1000))
  const flagged = new Set<string>()
  return new PoolPoller({
    source: (signal) => runCondorStatus({ program: options.condorStatus, argv, timeoutMs, signal }),
    ...(options.noHistory ? {} : { history: historySource(options.condorHistory, timeoutMs) }),
    delayMs: options.delayS * 1000,
    watch: new PoolWatch({ ...DEFAULT_FLAG_RULE, spanMs: options.flagAfter * 60_000 }),
    reports: () => {
      const now = Date.now()
      return store
        .clients()
        .filter((c) => now - c.lastSeen <= DEFAULT_STALE_AFTER_MS)
        .map((c) => ({ uuid: c.uuid, running: c.running, advertises: allotments.asked(c.uuid) }))
    },
    idleJobs,
    log,
    onPoll: (view, watch) => {
      alerts?.condorStatus(view)
      if (alerts === undefined) return
      // Every site the watch holds, and once more each site that left it, so flags resolve.
      const now = new Set<string>()
      for (const site of watch.view(Date.now())) {
        now.add(site.client)
        alerts.siteFlagged(site.client, site.flag)
      }
      for (const site of flagged) if (!now.has(site)) alerts.siteFlagged(site, undefined)
      flagged.clear()
      for (const site of now) flagged.add(site)
    },
  })
}

/**
 * A demo with an empty history would show empty charts for a day: fill the past week of
 * demand from the same simulation (never for condor_q, and never over recorded points).
 */
function backfillDemoHistory(store: ReportStore, now: number): void {
  const week = 7 * 86_400_000
  if (store.demandHistory(now - week).length > 0) return
  const points: DemandPoint[] = []
  for (let t = now - week; t < now; t += 5 * 60_000) {
    points.push({ t, ...demandPointOf(demoJobCounts(t)) })
  }
  store.recordDemandHistory(points)
}

function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    const handler = (signal: string) => {
      process.off("SIGTERM", handler)
      process.off("SIGINT", handler)
      resolve(signal)
    }
    process.on("SIGTERM", handler)
    process.on("SIGINT", handler)
  })
}

/** The `glidein serve` command. */
export const serveCommand = defineCommand({
  name: "serve",
  details: `Polls condor_q at start-up and then every --delay seconds, and serves the demand:
  POST /jsonrpc      get_state and monitoring (pyglidein's JSON-RPC 2.0)
  GET  /             status page: demand, sites, charts of the last day and week
  GET  /api/state    GET /api/clients    GET /metrics (Prometheus)    GET /healthz
A failed poll keeps serving the last good table. Reports and history are kept in --db.
--demo serves a simulated queue instead of condor_q. --alert-url posts a JSON event to a
webhook (Slack, Mattermost…) when a site goes stale or condor_q keeps failing, and when
that ends.`,
  options: SERVE_OPTIONS,
  configFile: { option: "config", section: SERVE_SECTION },
  async run(args) {
    const env = process.env as Record<string, string | undefined>
    // The flags as given, not their checked values: a default must not hide the file's key.
    const { options, warnings } = await resolveServeOptions(args.given, args.values.config, env)
    for (const w of warnings) log(`warning: ${w}`)
    const tokens = options.tokens === undefined ? undefined : loadTokens(options.tokens)
    const store = ReportStore.open(options.db)
    const lock = lockDatabase(options.db)
    if (!lock.held) log(`warning: ${lock.why}`)
    const watch = new DatabaseWatch(options.db, log)
    const watchTimer = setInterval(() => watch.check(), DB_CHECK_MS)
    if (options.demo) backfillDemoHistory(store, Date.now())
    const metrics = new ServerMetrics()
    const alerts: AlertWatch | undefined =
      options.alertUrl === undefined
        ? undefined
        : startAlerts({
            url: options.alertUrl,
            store,
            staleAfterMs: DEFAULT_STALE_AFTER_MS,
            log,
            origin: `glidein serve on ${hostname()}`,
          })
    const poller = new DemandPoller({
      source: metrics.timePolls(demandSource(options)),
      sourceName: options.demo ? "demo" : "condor_q",
      delayMs: options.delayS * 1000,
      log,
      onPoll: (snapshot, ok) => {
        alerts?.condorQ(snapshot)
        if (!ok || snapshot.rows === null || snapshot.updated === null) return
        store.recordDemand(demandPointOf(snapshot.rows), snapshot.updated)
      },
    })
    const allotments = new AllotmentBook()
    const pool = poolPoller(options, store, allotments, () => poller.snapshot().jobs, alerts)
    const deps: AppDeps = {
      demand: () => poller.snapshot(),
      store,
      staleAfterMs: DEFAULT_STALE_AFTER_MS,
      tokens,
      log,
      version: VERSION,
      delayMs: options.delayS * 1000,
      databaseProblem: () => watch.check(),
      metrics,
      ...(options.allot ? { allotPolicy: options.allot } : {}),
      allotments,
      ...(pool ? { pool: { view: () => pool.view(), watch: pool.watch } } : {}),
    }
    const app = createApp(deps)
    // Bun's default for SIGHUP is to exit: a `systemctl reload` or a closed terminal would
    // stop the server. It reads the tokens file again instead, keeping the old set if the
    // new file is bad.
    const reload = () => {
      if (options.tokens === undefined || deps.tokens === undefined) {
        log("SIGHUP: no --tokens file to read again")
        return
      }
      const { tokens: next, said } = reloadTokens(options.tokens, deps.tokens)
      deps.tokens = next
      log(`SIGHUP: ${said}`)
    }
    process.on("SIGHUP", reload)
    let server: ReturnType<typeof Bun.serve>
    try {
      server = listen(app, { hostname: options.host, port: options.port })
    } catch (error) {
      process.off("SIGHUP", reload)
      clearInterval(watchTimer)
      await alerts?.stop()
      if (lock.held) lock.release()
      store.close()
      const code = (error as NodeJS.ErrnoException).code
      const why = code === "EADDRINUSE" ? "the address is in use" : (error as Error).message
      throw new GlideinError(
        `glidein serve: cannot listen on ${options.host}:${options.port}: ${why}`,
      )
    }
    const where = options.host.includes(":") ? `[${options.host}]` : options.host
    log(
      `listening on http://${where}:${server.port} (glidein ${VERSION}; ${options.demo ? "demo queue" : `${options.condorQ} every ${options.delayS} s`}; database ${options.db})`,
    )
    if (!isLoopback(options.host) && tokens === undefined) {
      log(
        "note: monitoring reports are accepted from anyone who can reach this port; --tokens FILE restricts them",
      )
    }
    poller.start()
    pool?.start()
    const signal = await waitForSignal()
    log(`${signal}: shutting down`)
    await Promise.all([poller.stop(), pool?.stop()])
    await alerts?.stop()
    const drained = await Promise.race([
      server.stop().then(() => true),
      Bun.sleep(DRAIN_MS).then(() => false),
    ])
    if (!drained) await server.stop(true)
    process.off("SIGHUP", reload)
    clearInterval(watchTimer)
    store.close()
    if (lock.held) lock.release()
    log("stopped")
    return 0
  },
})
