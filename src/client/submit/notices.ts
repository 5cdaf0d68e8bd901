/**
 * @module
 * What a quiet cron run leaves unsaid. cron mails whatever a run prints, so a notice that is
 * true on every run (demand this site can never run, the same held glideins) would arrive
 * every ten minutes. Each notice has a key; a run says it only when the previous run did not,
 * and remembers what it said in the state folder. Failures are never notices: they are said
 * every time.
 */
import { readSmallFile, writeIfChanged } from "../lib/write-if-changed.ts"

/** Keys remembered at most; a site with more distinct notices than this hears them again. */
const MOST_KEYS = 1000

/** The notices of one run (or round), against those of the one before. */
export class Notices {
  private before: Set<string>
  private said = new Set<string>()

  /** `file` holds the previous run's keys; without it every notice is new (a dry run). */
  constructor(private readonly file?: string) {
    this.before = file === undefined ? new Set() : readKeys(file)
  }

  /** True when `key` is new since the last run; it is remembered for the next either way. */
  fresh(key: string): boolean {
    const hashed = hashKey(key)
    if (this.said.size < MOST_KEYS) this.said.add(hashed)
    return !this.before.has(hashed)
  }

  /** Keeps this run's keys for the next run (or round). A failed write only costs a repeat. */
  save(): void {
    this.before = this.said
    this.said = new Set()
    if (this.file === undefined) return
    try {
      writeIfChanged(this.file, `${[...this.before].sort().join("\n")}\n`, 0o600)
    } catch {
      // The next run says its notices again; nothing is lost.
    }
  }
}

function readKeys(file: string): Set<string> {
  const text = readSmallFile(file, MOST_KEYS * 40) ?? ""
  return new Set(
    text
      .split("\n")
      .filter((k) => /^[0-9a-f]{32}$/.test(k))
      .slice(0, MOST_KEYS),
  )
}

/** A short fixed-size stand-in for a notice, so the file stays small whatever it said. */
function hashKey(key: string): string {
  return new Bun.CryptoHasher("sha256").update(key).digest("hex").slice(0, 32)
}
