/**
 * @module
 * Demand: what the pool's idle jobs ask for. `condor_q` output is parsed as a stream into
 * rows of identical jobs with counts (pyglidein's wire format, `DemandRow`), polled on a
 * timer that keeps the last good table through failures. `--demo` swaps condor_q for a
 * simulated queue.
 *
 * @example
 * const poller = new DemandPoller({
 *   source: (signal) => runCondorQ({ program: "condor_q", argv: condorQArgv(), timeoutMs: 300_000, signal }),
 *   sourceName: "condor_q", delayMs: 300_000, log: console.error,
 * })
 * poller.start()
 * poller.snapshot().rows // DemandRow[] | null
 */
export { CondorQParser, parseCondorQ } from "./condor-q-parse.ts"
export {
  checkConstraint,
  checkUser,
  condorQArgv,
  constraintNote,
  runCondorQ,
} from "./condor-q-run.ts"
export {
  DemandPoller,
  type DemandSnapshot,
  type DemandSource,
  setAsideText,
} from "./demand-poller.ts"
export type { DemandRow } from "./demand-row.ts"
export { demoJobCounts, demoQueue, simulatedCondorQ } from "./demo-queue.ts"
export { fitDemand, MERGE_PERCENT, type Merged, type SetAside } from "./fit-demand.ts"
