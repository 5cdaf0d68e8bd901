/**
 * The real pyglidein configs in ../shared/corpus: every one loads and means what it meant
 * to pyglidein (checked against the settings pyglidein 1.1.23 reported in ../shared/golden).
 */
import { describe, expect, test } from "bun:test"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import path from "node:path"
import { ConfigError } from "../errors.ts"
import { formatWarning } from "./describe.ts"
import { parseSiteConfig } from "./site-config.ts"
import type { IniValue } from "./types.ts"

const shared = path.resolve(import.meta.dir, "../..", "../shared")
const corpusDir = path.join(shared, "corpus/pyglidein-configs")
const goldenDir = path.join(shared, "golden/pyglidein-client")
const hasCorpus = existsSync(corpusDir)
const hasGolden = existsSync(goldenDir)
if (!hasCorpus) console.warn(`${corpusDir} not found: skipping the corpus tests`)
if (!hasGolden) console.warn(`${goldenDir} not found: skipping the golden comparison`)

const INDENTED_COMMENT =
  'is indented like part of this value but starts with "#", so it is read as a comment and left out (as pyglidein did); put such lines in a submit_template instead'
const STARTD_TYPO =
  "[StardChecks] unknown section, did you mean [StartdChecks]? Its keys are ignored (pyglidein ignored them too)"
const EXECUTABLE =
  "[Glidein] executable: unknown key in [Glidein]; it belongs in [SubmitFile] and is ignored here"
const MAX_DISK = "[Cluster] max_disk: unknown key, did you mean max_disk_per_job? It is ignored"
const SBATCH = "[SubmitFile] sbatch: unknown key; it is ignored (pyglidein ignored it too)"

const UNUSED = "accepted for pyglidein compatibility; glidein does not use it"
const DEBUG = `[Mode] debug: ${UNUSED} (batch output is always kept, in the state folder's out/; --debug gives a verbose run)`
const CVMFS = `[Cluster] cvmfs: ${UNUSED} (nothing in glidein depends on it)`
const CLEANUP = `[Cluster] cleanup: ${UNUSED} (each glidein job removes its own directory when it ends)`

/** The warnings each corpus config must get; files not listed get none. */
const EXPECTED_WARNINGS: Record<string, string[]> = {
  "aachen.config": [
    `73: [SubmitFile] custom_header: line 73 ${INDENTED_COMMENT}`,
    `41: ${MAX_DISK}`,
    `35: ${CVMFS}`,
  ],
  "aachen.gpu.config": [
    `73: [SubmitFile] custom_header: line 73 ${INDENTED_COMMENT}`,
    `74: [SubmitFile] custom_header: line 74 ${INDENTED_COMMENT}`,
    `35: ${CVMFS}`,
  ],
  "bartol.config": [`2: ${DEBUG}`, `19: ${CVMFS}`],
  "bridges.config": [`73: ${SBATCH}`, `81: ${STARTD_TYPO}`, `2: ${DEBUG}`],
  "cluster_htcondor_example.config": [`24: ${EXECUTABLE}`, `46: ${CVMFS}`],
  "cluster_pbs_example.config": [
    `24: ${EXECUTABLE}`,
    `50: ${MAX_DISK}`,
    `56: ${CVMFS}`,
    `91: ${CLEANUP}`,
  ],
  "comet.config": [
    `19: [gpu] section is not used: it is not one of [Cluster] partitions ("gpu-shared")`,
    `56: ${STARTD_TYPO}`,
    `2: ${DEBUG}`,
  ],
  "lido3_gpu.config": [`2: ${DEBUG}`, `13: ${CVMFS}`, `27: ${CLEANUP}`],
  "lido_quad.config": [`2: ${DEBUG}`, `16: ${CVMFS}`, `29: ${CLEANUP}`],
  "lido_std.config": [`2: ${DEBUG}`, `16: ${CVMFS}`, `29: ${CLEANUP}`],
  "mainz_gpu.config": [`14: ${CVMFS}`],
  "parallel.config": [`22: ${CLEANUP}`],
  "phido_long.config": [`2: ${DEBUG}`, `15: ${CVMFS}`, `32: ${CLEANUP}`],
  "phido_short.config": [`2: ${DEBUG}`, `15: ${CVMFS}`, `32: ${CLEANUP}`],
  "tum.config": [`11: ${CVMFS}`],
  "xsede_osg.config": [`8: ${EXECUTABLE}`],
  "xsede_osg_himem.config": [`8: ${EXECUTABLE}`],
  "xstream.config": [`29: ${SBATCH}`, `41: ${STARTD_TYPO}`, `2: ${DEBUG}`],
}

/** umd.config relied on pyglidein's built-in IceCube server address, which we do not have. */
const EXPECTED_ERRORS: Record<string, string> = {
  "umd.config":
    "umd.config:4: [Glidein] address: missing: set address = http://HOST:PORT/jsonrpc (your glidein serve) or ssh_state = True",
}

const UNUSED_UMD_SECTIONS = ["whole", "half", "quarter", "single"].map(
  (s) => `[${s}] section is not used: it is not one of [Cluster] partitions ("gpu", "cpu")`,
)

describe.skipIf(!hasCorpus)("the pyglidein corpus", () => {
  const files = hasCorpus ? readdirSync(corpusDir).filter((f) => f.endsWith(".config")) : []

  test("parseSiteConfig() loads every corpus config with exactly the expected warnings", () => {
    expect(files.length).toBeGreaterThan(20)
    for (const name of files) {
      const text = readFileSync(path.join(corpusDir, name), "utf8")
      if (name in EXPECTED_ERRORS) {
        expect(() => parseSiteConfig(text, name)).toThrow(
          new ConfigError({}, EXPECTED_ERRORS[name]!),
        )
        continue
      }
      const config = parseSiteConfig(text, name)
      const expected = (EXPECTED_WARNINGS[name] ?? []).map((w) => `${name}:${w}`)
      expect({ name, warnings: config.warnings.map(formatWarning) }).toEqual({
        name,
        warnings: expected,
      })
    }
  })

  test("parseSiteConfig() loads umd.config once it says where its server is", () => {
    const text = readFileSync(path.join(corpusDir, "umd.config"), "utf8")
    const fixed = text.replace(
      "[Glidein]\n",
      "[Glidein]\naddress = http://pool.umd.example/jsonrpc\n",
    )
    const config = parseSiteConfig(fixed, "umd.config")
    expect(config.partitions).toEqual(["gpu", "cpu"])
    expect(config.warnings.map((w) => `[${w.place.section}] ${w.message}`)).toEqual([
      EXECUTABLE.replace("[Glidein] executable:", "[Glidein]"),
      ...UNUSED_UMD_SECTIONS,
      CVMFS.replace("[Cluster] cvmfs:", "[Cluster]"),
    ])
  })
})

describe.skipIf(!hasGolden)("the settings pyglidein 1.1.23 reported for each corpus config", () => {
  const dirs = hasGolden
    ? readdirSync(goldenDir).filter((d) => existsSync(path.join(goldenDir, d, "meta.json")))
    : []

  test("parseSiteConfig() agrees with pyglidein on partitions, scheduler and every partition setting", () => {
    expect(dirs.length).toBeGreaterThan(20)
    for (const dir of dirs) {
      const meta = JSON.parse(readFileSync(path.join(goldenDir, dir, "meta.json"), "utf8"))
      // The settings are pyglidein's reading of the original file; where the harness had to
      // insert an address (umd.config relied on the packaged one), insert it too.
      const overrides: { section: string; key: string; original: string | null; new: string }[] =
        JSON.parse(readFileSync(path.join(goldenDir, dir, "overrides.json"), "utf8"))
      let text = readFileSync(path.join(goldenDir, dir, "config.original"), "utf8")
      for (const o of overrides)
        if (o.original === null)
          text = text.replace(`[${o.section}]\n`, `[${o.section}]\n${o.key} = ${o.new}\n`)
      const config = parseSiteConfig(text, dir)
      expect({ dir, partitions: config.partitions }).toEqual({ dir, partitions: meta.partitions })
      expect({ dir, sections: Object.keys(config.sections).sort() }).toEqual({
        dir,
        sections: [...meta.sections].sort(),
      })
      expect(config.sections.Cluster!.scheduler).toBe(meta.scheduler)
      expect(config.mode.debug).toBe(meta.debug)
      expect(config.glidein.ssh_state).toBe(meta.ssh_state)
      expect(config.startdLogging.send_startd_logs).toBe(meta.send_startd_logs)
      for (const [p, settings] of Object.entries<Record<string, IniValue>>(
        meta.partition_settings,
      )) {
        const ours = config.sections[p]!
        for (const [key, value] of Object.entries(settings)) {
          const actual =
            key === "has_running_cmd"
              ? "running_cmd" in ours
              : key === "has_idle_cmd"
                ? "idle_cmd" in ours
                : ours[key]
          expect({ dir, p, key, value: actual }).toEqual({ dir, p, key, value })
        }
      }
    }
  })
})
