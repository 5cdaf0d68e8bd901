/**
 * Sites that waste their allocation (issue 15, item 4): over a configurable span, a site
 * whose glideins run in its batch system but never join the pool, join but are never
 * claimed while jobs wait, or run jobs that all end within seconds (a black hole), is flagged
 * with the likely reason. Pure: it reads samples the server took, one a poll, and the clock.
 */

/** What the server saw of one site at one poll. */
export interface SiteSample {
  /** When (ms since the epoch). */
  at: number
  /** Glideins the site's batch system runs, by its own report. */
  running: number
  /** Of its glideins, those in the collector. */
  joined: number
  /** Of those, glideins with a claimed slot. */
  claimed: number
  /** Idle jobs in the pool at the time. */
  idleJobs: number
  /** Jobs that completed on its glideins since the previous sample, by the schedd's history
   *  (absent when it was not read: a removed job says nothing of the site). */
  jobsEnded?: number
  /** Of those, jobs whose last run took at most the rule's `fastS`, failing or not. */
  jobsEndedFast?: number
}

/** How long a pattern must hold before a site is flagged. */
export interface FlagRule {
  /** The span (ms) every sample in it must show the pattern; default 1 h. */
  spanMs: number
  /** A job that ends within this many seconds failed fast; default 60. */
  fastS: number
  /** Fewest jobs ended in the span for a black hole to be called one; default 5. */
  minJobs: number
}

export const DEFAULT_FLAG_RULE: FlagRule = { spanMs: 3_600_000, fastS: 60, minJobs: 5 }

/** Why a site is flagged. */
export interface SiteFlag {
  kind: "never-joins" | "never-claimed" | "black-hole"
  /** Since when the pattern holds (ms): the first sample of the span. */
  since: number
  /** The likely reason, one sentence for the page, the terminal and the site's submit. */
  reason: string
}

/** `90 min`, `2 h`. */
function spanText(ms: number): string {
  const min = Math.round(ms / 60_000)
  return min < 120 ? `${min} min` : `${Math.round(min / 60)} h`
}

/**
 * The flag for a site whose `samples` (oldest first) show waste through the whole span up to
 * `now`, or undefined. A span not yet covered by samples flags nothing: a new site is not
 * judged on its first minutes.
 *
 * `judgeJoins`: whether the site's glideins say who they are (GLIDEIN_Client); a pyglidein
 * site's glideins do not, so that they never show as joined is no evidence. A raised flag
 * (`previous`) holds until the pool shows what it lacked — a glidein joined, one claimed, a
 * job that ran longer than `fastS` — and not merely until the site stops running glideins:
 * a flagged site is held to probes, so quiet polls are what it would show either way.
 */
export function flagSite(
  samples: readonly SiteSample[],
  now: number,
  rule: FlagRule = DEFAULT_FLAG_RULE,
  options: { judgeJoins?: boolean; previous?: SiteFlag } = {},
): SiteFlag | undefined {
  const { previous, judgeJoins = true } = options
  if (previous !== undefined && !cleared(previous, samples)) return previous
  const from = now - rule.spanMs
  const first = samples.findLastIndex((s) => s.at <= from)
  if (first === -1) return undefined
  const span = samples.slice(first).filter((s) => s.at <= now)
  const since = (span[0] as SiteSample).at
  const over = spanText(rule.spanMs)
  // Glideins with a bad credential die within minutes: polls between two batches run none,
  // and they count neither way. Two polls that saw some running are the least evidence.
  const ran = span.filter((s) => s.running > 0).length
  if (judgeJoins && ran >= 2 && span.every((s) => s.joined === 0)) {
    return {
      kind: "never-joins",
      since,
      reason: `its glideins run at the site but none joined the pool in ${over}: likely a wrong or expired pool credential, a wrong collector address, or a firewall between its nodes and the collector`,
    }
  }
  if (span.every((s) => s.joined > 0 && s.claimed === 0 && s.idleJobs > 0)) {
    return {
      kind: "never-claimed",
      since,
      reason: `its glideins joined the pool but none was claimed in ${over} while jobs waited: likely the jobs' requirements do not match them (site, operating system, memory, GPUs) or the schedd cannot reach them`,
    }
  }
  // the first sample counts what ended before the span
  const ended = span.slice(1).reduce((n, s) => n + (s.jobsEnded ?? 0), 0)
  const fast = span.slice(1).reduce((n, s) => n + (s.jobsEndedFast ?? 0), 0)
  if (ended >= rule.minJobs && fast === ended) {
    return {
      kind: "black-hole",
      since,
      reason: `all ${ended} jobs that ended on its glideins in ${over} ended within ${rule.fastS} s: likely a black hole (software, a file system or a node image the jobs need is broken there)`,
    }
  }
  return undefined
}

/** Whether the samples since `flag` was raised show the one thing its kind lacked. */
function cleared(flag: SiteFlag, samples: readonly SiteSample[]): boolean {
  return samples.some((s) => {
    if (s.at <= flag.since) return false
    if (flag.kind === "never-joins") return s.joined > 0
    if (flag.kind === "never-claimed") return s.claimed > 0
    return (s.jobsEnded ?? 0) > (s.jobsEndedFast ?? 0)
  })
}
