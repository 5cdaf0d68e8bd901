/**
 * @module
 * `glidein replay --db serve.db [--config serve.ini] [--days N] [--json] [--svg FILE]`: the
 * server's recorded days replayed round by round under an allotment policy, through the same
 * allotment code `glidein serve` runs, against what the sites did.
 */
import { writeFileSync } from "node:fs"
import { DEFAULT_POLICY } from "../allotment/allot-policy.ts"
import { replay } from "../allotment/replay.ts"
import { readHistory } from "../allotment/replay-history.ts"
import { replayJson, replaySvg, replayText } from "../allotment/replay-render.ts"
import { writeStderr, writeStdout } from "../client/std-output.ts"
import { errorCode, GlideinError, UsageError } from "../errors.ts"
import { resolveServeOptions } from "../server/serve-options.ts"
import type { Command } from "./command.ts"

/** A report counts this long, as on the server (a site is stale after 30 minutes). */
const FRESH_MS = 1_800_000
const DAY_MS = 86_400_000

/** The `glidein replay` command. */
export const replayCommand: Command = {
  name: "replay",
  usage: "--db FILE [--config FILE] [--days N] [--json] [--svg FILE]",
  details: `Opens the database read-only: a live server's file is never changed. The policy is the
[allot] and [allot NAME] sections of the config file (none: the default terms). The server
does not store sites' partitions or limits: the output lists what the replay assumes.`,
  options: {
    db: { type: "string", value: "FILE", description: "the --db file of glidein serve" },
    config: {
      type: "string",
      value: "FILE",
      description: "a serve config whose [allot] sections are the policy to replay",
    },
    days: { type: "string", value: "N", description: "replay the last N days (default 7)" },
    json: { type: "boolean", description: "print the replay as JSON" },
    svg: { type: "string", value: "FILE", description: "also write the charts to FILE (SVG)" },
  },
  async run(args) {
    const db = args.requireString("db")
    const daysText = args.string("days") ?? "7"
    const days = Number(daysText)
    if (!/^\d+(\.\d+)?$/.test(daysText) || days <= 0 || days > 366) {
      throw new UsageError(
        `glidein replay: --days expects a number of days from 0 to 366, got "${daysText}"`,
      )
    }
    const config = args.string("config")
    let policy = DEFAULT_POLICY
    let source = "default terms (no --config)"
    if (config !== undefined) {
      const { options, warnings } = await resolveServeOptions({}, config, {})
      for (const w of warnings) writeStderr(`warning: ${w}\n`)
      policy = options.allot ?? DEFAULT_POLICY
      source = options.allot ? `[allot] of ${config}` : `default terms (${config} has no [allot])`
    }
    const to = Date.now()
    const from = to - days * DAY_MS
    const result = replay(readHistory(db, from), { policy, from, to, freshMs: FRESH_MS })
    const svg = args.string("svg")
    if (svg !== undefined) {
      try {
        writeFileSync(svg, replaySvg(result, source))
      } catch (error) {
        throw new GlideinError(`glidein replay: cannot write "${svg}" (${errorCode(error)})`)
      }
    }
    writeStdout(args.flag("json") ? replayJson(result, source) : replayText(result, source))
    return 0
  },
}
