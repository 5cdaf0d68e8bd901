/**
 * @module
 * The pool's side of the story (issue 15): which glideins joined the pool, got claimed and
 * ran jobs, per site, partition and tarball, read from the collector with `condor_status`
 * (an argv, never a shell, with condor_q's fault rules), the jobs completed on them from the
 * schedd's history where it is read (`condor_history`, the same rules), and which sites waste
 * their allocation. `glidein serve --condor-status` runs a PoolPoller; src/server/funnel.ts
 * shows it.
 *
 * @example
 * let view = EMPTY_POOL_VIEW
 * try {
 *   const ads = await runCondorStatus({ program: "condor_status", argv: condorStatusArgv(), timeoutMs: 120_000 })
 *   view = nextPoolView(view, ads, Date.now())
 * } catch (error) {
 *   view = nextPoolView(view, error as Error, Date.now()) // keeps the last good slots
 * }
 * const funnel = poolFunnel(glideinsOf(view.slots ?? []))
 */
export { type AfAnswer, type AfValue, MAX_LINE, readAfValue } from "./af-lines.ts"
export {
  type EndedJob,
  EndedJobParser,
  type EndedJobs,
  HISTORY_COLUMNS,
  lastRunS,
  MAX_JOBS,
  parseEndedJobs,
  startdOf,
} from "./condor-history-parse.ts"
export {
  CondorHistoryError,
  condorHistoryArgv,
  historySource,
  type RunCondorHistoryOptions,
  runCondorHistory,
} from "./condor-history-run.ts"
export {
  GlideinAdParser,
  type GlideinAds,
  type GlideinSlot,
  MAX_SLOTS,
  parseGlideinAds,
  STARTD_COLUMNS,
} from "./condor-status-parse.ts"
export {
  CondorStatusError,
  condorStatusArgv,
  GLIDEIN_CONSTRAINT,
  type RunCondorStatusOptions,
  runCondorStatus,
} from "./condor-status-run.ts"
export { coveredDemand } from "./covered-demand.ts"
export {
  DEFAULT_FLAG_RULE,
  type FlagRule,
  flagSite,
  type SiteFlag,
  type SiteSample,
} from "./flag-site.ts"
export {
  type FunnelCounts,
  type FunnelRow,
  type Glidein,
  glideinsOf,
  type PoolFunnel,
  poolFunnel,
  UNKNOWN,
} from "./pool-funnel.ts"
export { PoolPoller, type PoolPollerOptions } from "./pool-poller.ts"
export { EMPTY_POOL_VIEW, nextPoolView, type PoolView, poolViewText } from "./pool-view.ts"
export { PoolWatch, type SiteWatch } from "./pool-watch.ts"
