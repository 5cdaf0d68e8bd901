/**
 * Differential tests: our reader against Python's (configparser + ast.literal_eval, run
 * as pyglidein's Config class ran them) over every corpus config and our own fixtures.
 */
import { describe, expect, test } from "bun:test"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import path from "node:path"
import { ConfigError } from "../errors.ts"
import { literalEval, typedValue } from "./literal-eval.ts"
import { hasPython, pythonConfigs, pythonJson, REFERENCE_SCRIPT } from "./python-reference.ts"
import { pyglideinView } from "./site-config.ts"
import type { IniValue } from "./types.ts"

const here = import.meta.dir
const corpusDir = path.resolve(here, "../..", "../shared/corpus/pyglidein-configs")
const hasCorpus = existsSync(corpusDir)

if (!hasPython) console.warn("python3 not found: skipping the differential tests against Python")
if (!hasCorpus) console.warn(`${corpusDir} not found: skipping the corpus differential test`)

function compare(files: string[]): number {
  const expected = pythonConfigs(files)
  let compared = 0
  for (const file of files) {
    const py = expected[file]!
    const text = readFileSync(file, "utf8")
    if ("error" in py) {
      // Where Python crashes, we either refuse with a ConfigError or (by design) read on.
      try {
        pyglideinView(text, file)
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError)
      }
      continue
    }
    expect({ file, sections: pyglideinView(text, file) }).toEqual({ file, sections: py.sections })
    compared++
  }
  return compared
}

describe("pyglideinView() matches pyglidein's Config on python3", () => {
  test.skipIf(!hasPython || !hasCorpus)("every corpus config", () => {
    const files = readdirSync(corpusDir)
      .filter((f) => f.endsWith(".config"))
      .map((f) => path.join(corpusDir, f))
    expect(files.length).toBeGreaterThan(20)
    expect(compare(files)).toBe(files.length)
  })

  test.skipIf(!hasPython)("our syntax fixtures", () => {
    const files = readdirSync(path.join(here, "testdata"))
      .filter((f) => f.endsWith(".ini"))
      .map((f) => path.join(here, "testdata", f))
    expect(compare(files)).toBe(files.length)
  })
})

describe("literalEval() matches ast.literal_eval on python3", () => {
  test.skipIf(!hasPython)("every case in testdata/literal-cases.json", async () => {
    const cases: string[] = await Bun.file(path.join(here, "testdata/literal-cases.json")).json()
    const script = [
      "import ast, json, sys, warnings",
      "warnings.simplefilter('ignore')",
      `exec(open(${JSON.stringify(REFERENCE_SCRIPT)}).read().split("def read(")[0])`,
      "print(json.dumps([typed(c) for c in json.load(sys.stdin)]))",
    ].join("\n")
    const expected = pythonJson(["-c", script], JSON.stringify(cases)) as IniValue[]
    const ours = cases.map(typedValue)
    // \N{NAME} needs Python's Unicode name table; we keep such a value as text.
    const known = cases.map((c, i) => (c.includes("\\N{") ? ours[i]! : expected[i]!))
    expect(ours).toEqual(known)
    expect(literalEval("'\\N{BULLET}'")).toBeUndefined()
  })
})
