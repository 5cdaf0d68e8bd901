import { afterAll, describe, expect, test } from "bun:test"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { hostname, tmpdir } from "node:os"
import { join } from "node:path"
import { parseSiteConfig } from "../../config/index.ts"
import { buildTarball } from "../../tarball/build-tarball.ts"
import { standInInstall } from "../../tarball/test-support.ts"
import { collectorOrigin, siteSetup, startScriptText } from "./site-setup.ts"

const dir = mkdtempSync(join(tmpdir(), "glidein-setup-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const home = join(dir, "home")
mkdirSync(join(home, "glidein"), { recursive: true })
writeFileSync(join(home, "glidein", "template.sh"), "#!/bin/sh\n# site template\n")
writeFileSync(join(home, "glidein", "start.sh"), "#!/bin/sh\n# site start script\n")

/** A config in `dir` whose [Glidein] and [SubmitFile] sections get `glidein` and `submitFile`. */
function setup(glidein: string, submitFile = "", env: Record<string, string> = {}) {
  const text = `[Glidein]\naddress = http://pool.example:11001/jsonrpc\ncluster = pool.example.org\n${glidein}\n[Cluster]\nscheduler = slurm\n[SubmitFile]\n${submitFile}\n`
  const config = parseSiteConfig(text, join(dir, "site.ini"))
  const fullEnv = { HOME: home, USER: "ice", ...env }
  return { setup: siteSetup(config, fullEnv, join(dir, "state")), env: fullEnv }
}

/** The partitions of a [Cluster] section `cluster` as set up with `env` and `login`. */
function partitionsOf(
  cluster: string,
  env: Record<string, string>,
  login?: () => string | undefined,
) {
  const text = `[Glidein]\naddress = http://pool.example:11001/jsonrpc\n[Cluster]\nscheduler = pbs\n${cluster}`
  const config = parseSiteConfig(text, join(dir, "site.ini"))
  return siteSetup(config, env, join(dir, "state"), login).partitions
}

describe("siteSetup()", () => {
  test("siteSetup() expands $VAR and braced names in loc and tarball, as pyglidein's shell did", () => {
    // cluster_pbs_example.config and cluster_htcondor_example.config say `loc = $HOME/glidein`.
    expect(setup("loc = $HOME/glidein\ntarball = glidein.tar.gz").setup.tarball).toBe(
      join(home, "glidein", "glidein.tar.gz"),
    )
    expect(
      setup("loc = ~/glidein\ntarball = $SITE_NAME.tar.gz", "", { SITE_NAME: "x" }).setup.tarball,
    ).toBe(join(home, "glidein", "x.tar.gz"))
    expect(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a config value under test
      setup("tarball = ${GLIDEIN_DIR}/site.tar.gz", "", { GLIDEIN_DIR: "/shared/g" }).setup.tarball,
    ).toBe("/shared/g/site.tar.gz")
  })

  test("siteSetup() leaves an unknown variable as written (os.path.expandvars) and expands ~", () => {
    expect(setup("loc = /data/$NO_SUCH_VAR").setup.tarball).toBe(
      "/data/$NO_SUCH_VAR/glidein.tar.gz",
    )
    expect(setup("tarball = ~/glidein/site.tar.gz").setup.tarball).toBe(
      join(home, "glidein", "site.tar.gz"),
    )
    expect(setup("").setup.tarball).toBe(join(dir, "glidein.tar.gz"))
  })

  test("siteSetup() reads a submit_template named with $HOME", () => {
    const { setup: s } = setup("", "submit_template = $HOME/glidein/template.sh")
    expect(s.template).toEqual({
      text: "#!/bin/sh\n# site template\n",
      file: join(home, "glidein", "template.sh"),
    })
  })
})

describe("siteSetup() login name", () => {
  const id = Bun.spawnSync(["id", "-un"]).stdout.toString().trim()

  test("siteSetup() counts the glideins of this uid's login name, with or without $USER", () => {
    // Bun's os.userInfo() said "unknown" without $USER: `qselect -u unknown` counted 0.
    expect(partitionsOf("", { HOME: home })[0]!.user).toBe(id)
    expect(partitionsOf("", { HOME: home, USER: "someone-else" })[0]!.user).toBe(id)
    // pyglidein configs say `user = $USER`; cron has no $USER.
    expect(partitionsOf("user = $USER\n", { HOME: home })[0]!.user).toBe(id)
    expect(partitionsOf("user = $USER\n", { HOME: home, USER: "ice" })[0]!.user).toBe("ice")
    expect(partitionsOf("user = icecube\n", { HOME: home })[0]!.user).toBe("icecube")
  })

  test("siteSetup() leaves the user unknown when the uid has no name, and asks only once", () => {
    let asked = 0
    const nameless = () => {
      asked++
      return undefined
    }
    const text = "partitions = a, b\n[a]\n[b]\nuser = icecube\n"
    const [a, b] = partitionsOf(text, { HOME: home }, nameless)
    expect(a!.user).toBeUndefined()
    expect(b!.user).toBe("icecube")
    expect(asked).toBe(1)
  })
})

describe("siteSetup() glidein identity", () => {
  const setupOf = (glidein: string, customEnv = "") => {
    const text = `[Glidein]\naddress = http://pool.example:11001/jsonrpc\n${glidein}[Cluster]\nscheduler = slurm\n[CustomEnv]\n${customEnv}`
    return siteSetup(parseSiteConfig(text, "site.ini"), { HOME: home }, join(dir, "state"))
  }

  test("siteSetup() refuses a config without the pool's collector, naming [Glidein] cluster", () => {
    // None of pyglidein's example configs sets it: its glidein_start.sh used IceCube's.
    // There is no tarball beside site.ini, so its collector cannot be read either: said so.
    expect(setupOf("").problems.map((p) => p.message)).toEqual([
      `site.ini: [Glidein] cluster: missing; glideins need the pool's collector to join it: set cluster = HOST[:PORT] (pyglidein's glidein_start.sh fell back to IceCube's), or put a tarball built with --collector HOST[:PORT] at ${join(process.cwd(), "glidein.tar.gz")} (there is none there)`,
    ])
    expect(setupOf("cluster = cm.example.org\n").problems).toEqual([])
    expect(setupOf("", "CLUSTER = cm.example.org\n").problems).toEqual([])
  })

  test("collectorOrigin() takes cluster, then [CustomEnv] CLUSTER, then the tarball's COLLECTOR", async () => {
    const where = join(dir, "with-collector")
    mkdirSync(where, { recursive: true })
    const tarball = join(where, "glidein.tar.gz")
    const ini = (glidein: string) =>
      parseSiteConfig(
        `[Glidein]\naddress = http://pool.example:11001/jsonrpc\n${glidein}[Cluster]\nscheduler = slurm\n`,
        join(where, "site.ini"),
      )
    const install = standInInstall(join(where, "condor"))
    await buildTarball({ condor: install, output: tarball, credentials: {}, version: "test" })
    expect(collectorOrigin(ini(""), tarball)).toBeUndefined()
    await buildTarball({
      condor: install,
      output: tarball,
      credentials: {},
      collector: "cm.example.org:9618",
      version: "test",
    })
    const plain = siteSetup(ini(""), { HOME: home }, join(dir, "state"))
    expect(plain.problems).toEqual([])
    expect(collectorOrigin(ini(""), tarball)).toEqual({
      collector: "cm.example.org:9618",
      from: `the tarball ${tarball}`,
    })
    expect(collectorOrigin(ini("cluster = other.example.org\n"), tarball)).toEqual({
      collector: "other.example.org",
      from: "[Glidein] cluster",
    })
  })

  test("siteSetup() names glideins after this host when the config names no site", () => {
    expect(setupOf("cluster = cm.example.org\n").sections.defaultSite).toBe(hostname())
  })
})

describe("siteSetup() problems", () => {
  const problemsOf = (cluster: string, customEnv = "") => {
    const text = `[Glidein]\naddress = http://pool.example:11001/jsonrpc\ncluster = pool.example.org\n[Cluster]\nscheduler = slurm\n${cluster}[CustomEnv]\n${customEnv}`
    const config = parseSiteConfig(text, "site.ini")
    return siteSetup(config, { HOME: home }, join(dir, "state")).problems.map((p) => p.message)
  }

  test("siteSetup() finds a walltime_hrs too short for glidein_start.sh, naming its line", () => {
    expect(problemsOf("walltime_hrs = 0.1\n")).toEqual([
      "site.ini:6: [Cluster] walltime_hrs: 0.1 h leaves the glidein no time for jobs before it retires (glidein_start.sh refuses it); at least 0.11 h",
    ])
    expect(problemsOf("walltime_hrs = 0.11\n")).toEqual([])
    expect(problemsOf("")).toEqual([])
  })

  test("siteSetup() checks walltime_hrs of every partition against [CustomEnv] RETIRETIME", () => {
    const partitions =
      "partitions = short, long\n[short]\nwalltime_hrs = 0.4\n[long]\nwalltime_hrs = 2\n"
    expect(problemsOf(partitions, "RETIRETIME = 1200\n")).toEqual([
      "site.ini:8: [short] walltime_hrs: 0.4 h leaves the glidein no time for jobs before it retires (glidein_start.sh refuses it); at least 0.44 h with [CustomEnv] RETIRETIME = 1200",
    ])
    expect(problemsOf("", "RETIRETIME = soon\n")).toEqual([
      'site.ini:7: [CustomEnv] RETIRETIME: expected a whole number of seconds (glidein_start.sh refuses anything else), got "soon"',
    ])
  })
})

describe("startScriptText()", () => {
  test("startScriptText() refuses a setup whose glideins glidein_start.sh would refuse", () => {
    const config = parseSiteConfig(
      "[Glidein]\naddress = http://pool.example:11001/jsonrpc\ncluster = pool.example.org\n[Cluster]\nscheduler = slurm\nwalltime_hrs = 0.05\n",
      "site.ini",
    )
    const s = siteSetup(config, { HOME: home }, join(dir, "state"))
    expect(() => startScriptText(s, "built-in", { HOME: home })).toThrow(
      "site.ini:6: [Cluster] walltime_hrs: 0.05 h leaves the glidein no time",
    )
  })

  test("startScriptText() reads a glidein_script named with braced $HOME, else gives the built-in one", () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a config value under test
    const custom = setup("glidein_script = ${HOME}/glidein/start.sh")
    expect(startScriptText(custom.setup, "built-in", custom.env)).toBe(
      "#!/bin/sh\n# site start script\n",
    )
    const plain = setup("")
    expect(startScriptText(plain.setup, "built-in", plain.env)).toBe("built-in")
  })
})
