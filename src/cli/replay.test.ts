import { Database } from "bun:sqlite"
import { afterEach, describe, expect, test } from "bun:test"
import { readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { ROUND_MS, recordHistory } from "../replay/replay-testdata.ts"
import { cleanUp, runGlidein, tempDir } from "../test-support.ts"

afterEach(cleanUp)

const T0 = Math.floor(Date.now() / ROUND_MS) * ROUND_MS - 5 * ROUND_MS
const NAME = `a<&"lab'>`

/** Tags balanced, attributes quoted, no bare `<` or `&` in text: well-formed XML. */
function wellFormed(xml: string): boolean {
  const body = xml.replace(/^<\?xml[^>]*\?>\s*/, "")
  const stack: string[] = []
  const tag = /<(\/?)([\w:-]+)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g
  let at = 0
  for (const m of body.matchAll(tag)) {
    const text = body.slice(at, m.index)
    if (/<|&(?!(amp|lt|gt|quot|#39|#x27|apos);)/.test(text)) return false
    at = m.index + m[0].length
    if (m[1]) {
      if (stack.pop() !== m[2]) return false
    } else if (!m[4]) stack.push(m[2]!)
  }
  return stack.length === 0 && body.slice(at).trim() === ""
}

describe("glidein replay", () => {
  test("prints per site what was recorded and what the policy would have done, with its assumptions", () => {
    const dir = tempDir("glidein-replay-")
    const db = join(dir, "serve.db")
    recordHistory(db, T0, { a: NAME, b: "b" })
    const config = join(dir, "serve.ini")
    writeFileSync(config, "[allot lab]\nbackoff_after = 1\n")
    const text = runGlidein(["replay", "--db", db, "--config", config, "--days", "1"])
    expect(text.stderr).toBe("")
    expect(text.code).toBe(0)
    expect(text.stdout).toContain(`sites, policy [allot] of ${config}`)
    expect(text.stdout).toMatch(
      /a<&"lab'>\s+4 → 10\s+0 → 1\.5\s+0\.3 → 0\.3\s+0 → 10\s+4\s+4\s+0 rounds/,
    )
    expect(text.stdout).toMatch(/b \(failing\)\s+0 → 0 .* 1 rounds/)
    expect(text.stdout).toContain("every site can run every demand row")

    const json = runGlidein(["replay", "--db", db, "--json"])
    expect(json.code).toBe(0)
    const parsed = JSON.parse(json.stdout)
    expect(parsed.policy).toBe("default terms (no --config)")
    expect(parsed.sites.map((s: { uuid: string }) => s.uuid)).toEqual([NAME, "b"])
    expect(parsed.sites[0].replayed).toMatchObject({ launched: 10, run: 4, wasted: 4 })
    // The default backs off after 3 failed rounds: b is not backed off here.
    expect(parsed.sites[1].replayed.backedOffRounds).toBe(0)
    expect(parsed.assumptions.length).toBeGreaterThan(3)
  })

  test("--svg writes a well-formed SVG with the site names escaped", () => {
    const dir = tempDir("glidein-replay-")
    const db = join(dir, "serve.db")
    recordHistory(db, T0, { a: NAME, b: "b" })
    const svg = join(dir, "replay.svg")
    const run = runGlidein(["replay", "--db", db, "--svg", svg])
    expect(run.code).toBe(0)
    const text = readFileSync(svg, "utf8")
    expect(text).toStartWith(
      '<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg"',
    )
    expect(wellFormed(text)).toBe(true)
    expect(text).not.toContain(NAME)
    expect(text).toContain("a&lt;&amp;&quot;lab&#39;&gt;")
    expect(text).toContain("Glideins queued, all sites")
  })

  test("refuses a database that is not glidein serve's, in one line", () => {
    const dir = tempDir("glidein-replay-")
    const other = join(dir, "other.db")
    const db = new Database(other)
    db.exec("CREATE TABLE notes (text TEXT)")
    db.close()
    const notSqlite = join(dir, "notes.txt")
    writeFileSync(
      notSqlite,
      "not a database at all, just some text long enough to have a header".repeat(2),
    )
    for (const [file, why] of [
      [other, "is not a glidein serve database"],
      [notSqlite, "is not an SQLite database"],
      [join(dir, "missing.db"), "file not found"],
    ] as const) {
      const run = runGlidein(["replay", "--db", file])
      expect(run.code).toBe(1)
      expect(run.stdout).toBe("")
      expect(run.stderr).toContain(`database "${file}"`)
      expect(run.stderr).toContain(why)
      expect(run.stderr.trimEnd().split("\n")).toHaveLength(1)
    }
  })

  test("leaves the database's bytes and mtime as they were", () => {
    const dir = tempDir("glidein-replay-")
    const db = join(dir, "serve.db")
    recordHistory(db, T0)
    const before = { bytes: readFileSync(db), mtime: statSync(db).mtimeMs }
    expect(runGlidein(["replay", "--db", db, "--json"]).code).toBe(0)
    expect(readFileSync(db).equals(before.bytes)).toBe(true)
    expect(statSync(db).mtimeMs).toBe(before.mtime)
  })
})
