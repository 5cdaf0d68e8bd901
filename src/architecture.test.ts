/**
 * The layout is the architecture: which folder of src/ may import which. A product module
 * that reaches across a boundary not listed here fails this test, so the folders keep
 * saying what depends on what (docs/architecture.md draws the same map).
 */
import { describe, expect, test } from "bun:test"
import { readdirSync, readFileSync } from "node:fs"
import { basename, dirname, join, normalize, relative, sep } from "node:path"

const SRC = import.meta.dir

/**
 * What each area may import (besides itself). "shared" is the files at the top of src/
 * (errors, printable, version…); "outside" is what lives beside src/ (templates, package.json).
 */
const MAY_IMPORT: Record<string, string[]> = {
  shared: ["outside"],
  // The wire: pure messages. Its only reach beyond the shared files is for the types of what
  // travels (a partition's limits, an allotment), see TYPES_ONLY.
  protocol: ["shared"],
  config: ["shared", "schedulers"],
  schedulers: ["shared", "config", "outside"],
  demand: ["shared", "protocol"],
  runtime: ["shared", "outside"],
  tarball: ["shared", "config", "runtime"],
  pool: ["shared", "protocol", "demand"],
  // The allotment plans with the client's partition model (what a partition can run), the
  // one piece of the client the server shares.
  allotment: ["shared", "protocol", "demand", "client/site"],
  server: ["shared", "protocol", "demand", "allotment", "pool"],
  // A replay reads a server's database and draws with its charts, through the allotment.
  replay: ["shared", "protocol", "demand", "allotment", "server", "client/site"],
  "client/lib": ["shared", "protocol", "schedulers"],
  "client/site": ["shared", "client/lib", "protocol", "config", "schedulers", "tarball"],
  "client/submit": [
    "shared",
    "client/lib",
    "client/site",
    "protocol",
    "config",
    "schedulers",
    "tarball",
  ],
  "client/status": ["shared", "client/lib", "client/site", "client/submit", "protocol", "config"],
  "client/cancel": ["shared", "client/lib", "client/site", "client/submit", "config", "schedulers"],
  // The commands wire everything together; main only dispatches to them.
  cli: ["*"],
  main: ["shared", "cli", "client/lib"],
}

/** Reaches allowed for `import type` only: nothing runs across them. */
const TYPES_ONLY: Record<string, string[]> = {
  protocol: ["allotment", "client/site"],
  "client/submit": ["allotment"],
}

/** Test support outside *.test.ts files: test helpers may reach anywhere. */
const TEST_SUPPORT = new Set([
  "test-support.ts",
  "fixtures.ts",
  "fake-s3.ts",
  "loopback-pool.ts",
  "page-fixture.ts",
  "test-server.ts",
  "test-site.ts",
  "test-fixtures.ts",
  "replay-testdata.ts",
  "small-disk.ts",
])

/** The area of a path under src/ ("client/site", "server", "shared"…), or "outside". */
function areaOf(path: string): string {
  const rel = relative(SRC, path)
  if (rel.startsWith("..")) return "outside"
  const parts = rel.split(sep)
  if (parts.length === 1) return parts[0] === "main.ts" ? "main" : "shared"
  if (parts[0] === "client" && parts.length > 2) return `client/${parts[1]}`
  return parts[0]!
}

function productModules(): string[] {
  return readdirSync(SRC, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && !f.endsWith(".d.ts"))
    .filter((f) => !f.split(sep).includes("testdata") && !TEST_SUPPORT.has(basename(f)))
    .map((f) => join(SRC, f))
}

/** A relative module specifier, in quotes. */
const SPEC = String.raw`["'](\.{1,2}\/[^"']+)["']`
/** Every way a module reaches another: `import … from`, `export … from`, a bare `import`,
 *  `import()` and `require()`. The first group says whether the reach is for types only. */
const REACHES = [
  new RegExp(String.raw`^\s*(?:import|export)\s+(type\s+)?[^"';]*?from\s+${SPEC}`, "gm"),
  new RegExp(String.raw`^\s*import()\s+${SPEC}`, "gm"),
  new RegExp(String.raw`\bimport()\s*\(\s*${SPEC}`, "g"),
  new RegExp(String.raw`\brequire()\s*\(\s*${SPEC}`, "g"),
]

/** The reaches of `file` (its text `text`) that the tables above do not allow. */
function violationsOf(file: string, text: string): string[] {
  const out: string[] = []
  const from = areaOf(file)
  for (const pattern of REACHES) {
    for (const [, typeOnly, spec] of text.matchAll(pattern)) {
      const to = areaOf(normalize(join(dirname(file), spec!)))
      if (to === from) continue
      const allowed = MAY_IMPORT[from] ?? []
      if (allowed.includes("*") || allowed.includes(to)) continue
      if (typeOnly && TYPES_ONLY[from]?.includes(to)) continue
      out.push(`${relative(SRC, file)} (${from}) → ${spec} (${to}${typeOnly ? ", types" : ""})`)
    }
  }
  return out
}

/** Every reach across areas in src/ that the tables do not allow, as "file → target". */
function violations(): string[] {
  return productModules().flatMap((file) => violationsOf(file, readFileSync(file, "utf8")))
}

describe("folder boundaries", () => {
  test("every module imports only from the areas its folder may use", () => {
    expect(violations()).toEqual([])
  })

  test("every folder of src/ has its place in the map", () => {
    const areas = new Set(productModules().map(areaOf))
    expect([...areas].filter((a) => !(a in MAY_IMPORT))).toEqual([])
  })

  test("the check sees every way a module can reach one it may not", () => {
    // The server never runs the site's code: a server module reaching into client/ is
    // exactly what the map forbids, however it imports.
    const file = join(SRC, "server/reach.ts")
    const text = [
      'import { runSubmit } from "../client/submit/run-submit.ts"',
      'export { tidyQueue } from "../client/submit/queue-hygiene.ts"',
      'import "../client/submit/notices.ts"',
      'const late = await import("../client/submit/allotment.ts")',
      'const old = require("../client/lib/run-command.ts")',
      'import type { Run } from "../client/submit/run.ts"',
      'import { ok } from "./app.ts"',
      'import { version } from "../version.ts"',
    ].join("\n")
    expect(violationsOf(file, text)).toEqual([
      "server/reach.ts (server) → ../client/submit/run-submit.ts (client/submit)",
      "server/reach.ts (server) → ../client/submit/queue-hygiene.ts (client/submit)",
      "server/reach.ts (server) → ../client/submit/run.ts (client/submit, types)",
      "server/reach.ts (server) → ../client/submit/notices.ts (client/submit)",
      "server/reach.ts (server) → ../client/submit/allotment.ts (client/submit)",
      "server/reach.ts (server) → ../client/lib/run-command.ts (client/lib)",
    ])
    expect(areaOf(join(SRC, "errors.ts"))).toBe("shared")
    expect(areaOf(join(SRC, "../templates/glidein_start.sh"))).toBe("outside")
  })
})
