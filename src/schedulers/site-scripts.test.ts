/**
 * The hand-written job scripts pyglidein sites kept (../shared/corpus/pyglidein-site-scripts)
 * reproduced by a config and, where a container wraps the glidein, a site template
 * (testdata/site-scripts). Each `<script>.expect` line pairs an essential piece of the
 * original (`before =>`) with what our rendering must contain for it (`=> after`). The
 * configs go through the client's real path: config loader, partition setup, sizing, job
 * spec, adapter.
 */
import { describe, expect, test } from "bun:test"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import path from "node:path"
import { renderFromConfig } from "./fixtures.ts"

const DIR = path.join(import.meta.dir, "testdata", "site-scripts")
const CORPUS = path.resolve(import.meta.dir, "../..", "../shared/corpus/pyglidein-site-scripts")
const HAVE_CORPUS = existsSync(CORPUS)
if (!HAVE_CORPUS) console.warn(`site-scripts: originals not compared, ${CORPUS} is absent`)

interface Reproduction {
  script: string
  config: string
  partition: string
}

const INDEX: Reproduction[] = JSON.parse(readFileSync(path.join(DIR, "index.json"), "utf8"))

/** The `before => after` pairs of a script. */
function essentials(script: string): { before: string; after: string }[] {
  return readFileSync(path.join(DIR, `${script}.expect`), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const [before, after] = line.split(" => ")
      return { before: before!, after: after! }
    })
}

describe("site scripts", () => {
  test("every corpus site script has a reproduction", () => {
    const listed = INDEX.map((r) => r.script).sort()
    if (HAVE_CORPUS) {
      expect(listed).toEqual(readdirSync(CORPUS).sort())
    }
    expect(listed.length).toBe(12)
  })

  for (const r of INDEX) {
    test(`render() reproduces ${r.script} from ${r.config} [${r.partition}]`, async () => {
      const { text, warnings } = await renderFromConfig(path.join(DIR, r.config), r.partition)
      expect(warnings).toEqual([])
      const missing = essentials(r.script)
        .filter(({ after }) => !text.includes(after))
        .map(({ after }) => after)
      expect({ script: r.script, missing }).toEqual({ script: r.script, missing: [] })
      const check = Bun.spawnSync(["sh", "-n"], { stdin: new TextEncoder().encode(text) })
      expect(check.stderr.toString()).toBe("")
    })

    test.skipIf(!HAVE_CORPUS)(`${r.script}.expect names what the original does`, () => {
      const original = readFileSync(path.join(CORPUS, r.script), "utf8")
      const missing = essentials(r.script)
        .filter(({ before }) => !original.includes(before))
        .map(({ before }) => before)
      expect({ script: r.script, missing }).toEqual({ script: r.script, missing: [] })
    })
  }
})
