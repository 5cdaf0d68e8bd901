/**
 * Running `condor_status` for the glideins' startd ads: the argv (never a shell), and what
 * counts as a failed answer. The rules are condor_q's (src/demand/condor-q-run.ts): a missing
 * program, a timeout, a signal or a non-zero exit fail the run, and so does an answer that is
 * partial — cut short past MAX_SLOTS, or lines printed of which none parsed — so the caller
 * keeps its last good view instead of publishing a pool that lost its glideins.
 */
import { GlideinError } from "../errors.ts"
import { runCondorTool } from "../run-condor-tool.ts"
import { answerFault } from "./af-lines.ts"
import {
  GlideinAdParser,
  type GlideinAds,
  MAX_SLOTS,
  STARTD_COLUMNS,
} from "./condor-status-parse.ts"

/** What condor_status reported that could not be used. */
export class CondorStatusError extends GlideinError {}

/** Only the glideins' slots: those that say they are one (glidein_condor_config). */
export const GLIDEIN_CONSTRAINT = "IS_GLIDEIN =?= True"

/** The condor_status arguments (after the program) for the glideins' startd ads. */
export function condorStatusArgv(pool?: string): string[] {
  // No query option: slot ads, which are the default (`-startd` asks for the startd daemons'
  // own ads since HTCondor 23, which carry the glidein attributes but no slot state).
  const argv = ["-constraint", GLIDEIN_CONSTRAINT, "-af:tV", ...STARTD_COLUMNS]
  // -pool asks another collector than the one CONDOR_CONFIG names
  if (pool !== undefined) argv.unshift("-pool", pool)
  return argv
}

/** Options for one condor_status run. */
export interface RunCondorStatusOptions {
  /** The condor_status program (a path, or a name looked up in PATH). */
  program: string
  argv: string[]
  timeoutMs: number
  signal?: AbortSignal
}

/**
 * Runs condor_status and parses its output as it streams. Throws CondorStatusError when the
 * run fails or its answer is partial; lines that did not parse beside good ones are counted
 * in the result (`badLines`, `firstBad`), as condor_q's are.
 */
export async function runCondorStatus(options: RunCondorStatusOptions): Promise<GlideinAds> {
  const parser = new GlideinAdParser()
  await runCondorTool({
    ...options,
    name: "condor_status",
    onStdout: (chunk) => parser.push(chunk),
    fail: (message) => new CondorStatusError(message),
  })
  const result = parser.finish()
  const fault = answerFault("condor_status", result, result.slots.length, [
    MAX_SLOTS,
    "glidein slots",
  ])
  if (fault !== undefined) throw new CondorStatusError(fault)
  return result
}
