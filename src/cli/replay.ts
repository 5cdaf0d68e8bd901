/**
 * @module
 * `glidein replay --db serve.db [--config serve.ini] [--days N] [--json] [--svg FILE]`: the
 * server's recorded days replayed round by round under an allotment policy, through the same
 * allotment code `glidein serve` runs, against what the sites did.
 */
import { writeFileSync } from "node:fs"
import { DEFAULT_POLICY } from "../allotment/allot-policy.ts"
import { writeStderr, writeStdout } from "../client/lib/std-output.ts"
import { errorCode, GlideinError } from "../errors.ts"
import { replay } from "../replay/replay.ts"
import { readHistory } from "../replay/replay-history.ts"
import { replayJson, replaySvg, replayText } from "../replay/replay-render.ts"
import { defineCommand, flag } from "./command.ts"
import { positiveNumber, text } from "./option-types.ts"
import { resolveServeOptions } from "./serve-options.ts"

/** A report counts this long, as on the server (a site is stale after 30 minutes). */
const FRESH_MS = 1_800_000
const DAY_MS = 86_400_000

/** The `glidein replay` command. */
export const replayCommand = defineCommand({
  name: "replay",
  details: `Opens the database read-only: a live server's file is never changed. The policy is the
[allot] and [allot NAME] sections of the config file (none: the default terms). The server
does not store sites' partitions or limits: the output lists what the replay assumes.`,
  options: {
    db: {
      ...text("a file name"),
      value: "FILE",
      required: true,
      description: "the --db file of glidein serve",
    },
    config: {
      ...text("a file name"),
      value: "FILE",
      description: "a serve config whose [allot] sections are the policy to replay",
    },
    days: {
      ...positiveNumber("a number of days", 366),
      value: "N",
      default: 7,
      description: "replay the last N days",
    },
    json: flag("print the replay as JSON"),
    svg: {
      ...text("a file name"),
      value: "FILE",
      description: "also write the charts to FILE (SVG)",
    },
  },
  async run({ values }) {
    const { db, days, config } = values
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
    const svg = values.svg
    if (svg !== undefined) {
      try {
        writeFileSync(svg, replaySvg(result, source))
      } catch (error) {
        throw new GlideinError(`glidein replay: cannot write "${svg}" (${errorCode(error)})`)
      }
    }
    writeStdout(values.json ? replayJson(result, source) : replayText(result, source))
    return 0
  },
})
