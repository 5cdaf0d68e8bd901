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

const IMPORT = /^\s*(?:import|export)\s+(type\s+)?[^"';]*?from\s+["'](\.{1,2}\/[^"']+)["']/gm

/** Every reach across areas that the tables above do not allow, as "file → target". */
function violations(): string[] {
  const out: string[] = []
  for (const file of productModules()) {
    const from = areaOf(file)
    for (const [, typeOnly, spec] of readFileSync(file, "utf8").matchAll(IMPORT)) {
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

describe("folder boundaries", () => {
  test("every module imports only from the areas its folder may use", () => {
    expect(violations()).toEqual([])
  })

  test("every folder of src/ has its place in the map", () => {
    const areas = new Set(productModules().map(areaOf))
    expect([...areas].filter((a) => !(a in MAY_IMPORT))).toEqual([])
  })

  test("the check sees a reach it does not allow", () => {
    // The server never runs the site's code: a server module importing from client/ is
    // exactly what the map forbids.
    expect(MAY_IMPORT.server).not.toContain("client/submit")
    expect(areaOf(join(SRC, "client/submit/run-submit.ts"))).toBe("client/submit")
    expect(areaOf(join(SRC, "errors.ts"))).toBe("shared")
    expect(areaOf(join(SRC, "../templates/glidein_start.sh"))).toBe("outside")
  })
})
