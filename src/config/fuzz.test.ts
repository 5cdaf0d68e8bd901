/**
 * Property tests over random mutations of real configs: the reader never throws anything
 * but ConfigError, and where Python reads the mutated file, we read it the same way.
 */
import { afterAll, describe, expect, test } from "bun:test"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { ConfigError } from "../errors.ts"
import { seededRandom } from "../seeded-random.ts"
import { configJson, describeConfig } from "./describe.ts"
import { hasPython, pythonConfigs } from "./python-reference.ts"
import { parseSiteConfig, pyglideinView } from "./site-config.ts"

const here = import.meta.dir
const corpusDir = path.resolve(here, "../..", "../shared/corpus/pyglidein-configs")
if (!existsSync(corpusDir)) console.warn(`${corpusDir} not found: fuzzing our own fixtures only`)

/** Seed texts: the corpus when present, and always our own fixtures. */
function seeds(): string[] {
  const dirs = [path.join(here, "testdata"), corpusDir].filter(existsSync)
  return dirs.flatMap((d) =>
    readdirSync(d)
      .filter((f) => f.endsWith(".config") || f.endsWith(".ini"))
      .map((f) => readFileSync(path.join(d, f), "utf8")),
  )
}

const PIECES = [
  "[",
  "]",
  "=",
  ":",
  "%",
  "%(",
  "%(home)s",
  "%%",
  "(",
  ")",
  "#",
  ";",
  "\n",
  "\n  ",
  " ",
  "\t",
  '"',
  "'",
  "\\",
  ",",
  "$USER",
  "True",
  "None",
  "[1,",
  "0x",
  "1e999",
  "-",
  "_",
  "\r",
  "\x85",
  "\ufeff",
  "[DEFAULT]\n",
  "[Cluster]\n",
  "partitions = a, b\n",
  "[a]\n",
  "b'x'",
  "{",
  "}",
  "'''",
  "é",
  "\u2028",
]

function mutate(text: string, rnd: () => number): string {
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!
  let out = text
  const edits = 1 + Math.floor(rnd() * 4)
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(rnd() * (out.length + 1))
    const lines = out.split("\n")
    const line = Math.floor(rnd() * lines.length)
    switch (Math.floor(rnd() * 6)) {
      case 0:
        out = out.slice(0, at) + pick(PIECES) + out.slice(at)
        break
      case 1:
        out = out.slice(0, at) + out.slice(at + 1 + Math.floor(rnd() * 8))
        break
      case 2:
        lines.splice(line, 0, lines[Math.floor(rnd() * lines.length)]!)
        out = lines.join("\n")
        break
      case 3:
        lines[line] = `  ${lines[line]}`
        out = lines.join("\n")
        break
      case 4:
        lines[line] = lines[line]!.replace(/=.*/, `= ${pick(PIECES)}${pick(PIECES)}`)
        out = lines.join("\n")
        break
      default:
        out = out.slice(0, at)
    }
  }
  return out
}

/** Runs `f`; anything thrown must be a ConfigError. Returns whether it threw. */
function onlyConfigErrors(f: () => void, text: string): boolean {
  try {
    f()
    return false
  } catch (e) {
    if (!(e instanceof ConfigError))
      throw new Error(`not a ConfigError for ${JSON.stringify(text)}: ${e}`)
    expect(e.message).not.toContain("\n")
    return true
  }
}

describe("random mutations of real configs", () => {
  const base = seeds()
  const cases = Array.from({ length: 400 }, (_, i) =>
    mutate(base[i % base.length]!, seededRandom(i + 1)),
  )
  const tmp = mkdtempSync(path.join(tmpdir(), "glidein-config-fuzz-"))
  afterAll(() => rmSync(tmp, { recursive: true, force: true }))

  test("parseSiteConfig() throws nothing but a one-line ConfigError", () => {
    let loaded = 0
    for (const text of cases) {
      const failed = onlyConfigErrors(() => {
        const config = parseSiteConfig(text, "fuzz.ini")
        JSON.stringify(configJson(config))
        describeConfig(config)
      }, text)
      if (!failed) loaded++
    }
    // The mutations must leave some configs usable, or this tests only the error path.
    expect(loaded).toBeGreaterThan(20)
  })

  test.skipIf(!hasPython)("pyglideinView() matches python3 wherever python3 reads the file", () => {
    const files = cases.map((text, i) => {
      const file = path.join(tmp, `${i}.ini`)
      writeFileSync(file, text)
      return file
    })
    const expected = pythonConfigs(files)
    let compared = 0
    files.forEach((file, i) => {
      const py = expected[file]!
      let ours: unknown
      const threw = onlyConfigErrors(() => {
        ours = pyglideinView(cases[i]!, file)
      }, cases[i]!)
      if ("error" in py) return
      expect({ file, threw }).toEqual({ file, threw: false })
      expect({ file, sections: ours }).toEqual({ file, sections: py.sections })
      compared++
    })
    expect(compared).toBeGreaterThan(100)
  })
})
