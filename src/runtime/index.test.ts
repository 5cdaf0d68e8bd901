import { afterAll, describe, expect, test } from "bun:test"
import { readFileSync, writeFileSync } from "node:fs"
import path from "node:path"
import { put, removeTempDirs, tempDir } from "../tarball/test-support.ts"
import { VERSION } from "../version.ts"
import { GLIDEIN_CONDOR_CONFIG, GLIDEIN_START_SH, USER_JOB_WRAPPER_SH } from "./index.ts"

afterAll(removeTempDirs)

/** Macros HTCondor defines itself, or that a line appends to (`X = $(X) more`). */
const BUILT_IN = new Set(["STARTD_ATTRS", "MASTER_ATTRS", "FULL_HOSTNAME", "HOSTNAME"])

/** Names the configuration defines (`NAME = …`, `SUBSYS.NAME = …`). */
function defined(config: string): Set<string> {
  const names = new Set<string>()
  for (const line of config.split("\n")) {
    const match = /^(?:\w+\.)?(\w+)\s*=/.exec(line)
    if (match?.[1]) names.add(match[1].toUpperCase())
  }
  return names
}

/** Names glidein_start.sh sets through `_condor_NAME` variables. */
function fromScript(script: string): Set<string> {
  return new Set([...script.matchAll(/_condor_(\w+)=/g)].map((m) => (m[1] ?? "").toUpperCase()))
}

describe("the runtime templates", () => {
  test("are embedded as text", () => {
    expect(GLIDEIN_START_SH).toStartWith("#!/bin/sh\n")
    expect(USER_JOB_WRAPPER_SH).toStartWith("#!/bin/sh\n")
    expect(GLIDEIN_CONDOR_CONFIG).toContain("\nGLIDEIN_RUNTIME_VERSION = 1\n")
    const file = path.resolve(import.meta.dir, "../../templates/glidein_start.sh")
    const template = readFileSync(file, "utf8")
    // the same but for the one line that carries this executable's version
    const filled = `glidein_version="${VERSION}"`
    expect(GLIDEIN_START_SH).toContain(`\n${filled}\n`)
    expect(GLIDEIN_START_SH.replace(filled, 'glidein_version=""')).toBe(template)
  })

  test("glidein_condor_config uses only macros that it, glidein_start.sh or HTCondor defines", () => {
    const known = new Set([
      ...defined(GLIDEIN_CONDOR_CONFIG),
      ...fromScript(GLIDEIN_START_SH),
      ...BUILT_IN,
    ])
    const used = [...GLIDEIN_CONDOR_CONFIG.matchAll(/\$\((\w+)\)/g)].map((m) => m[1] ?? "")
    expect(used.filter((name) => !known.has(name.toUpperCase()))).toEqual([])
  })

  test("every GLIDEIN_* value glidein_start.sh sets is used by the configuration", () => {
    const config = GLIDEIN_CONDOR_CONFIG.toUpperCase()
    const unused = [...fromScript(GLIDEIN_START_SH)]
      .filter((name) => name.startsWith("GLIDEIN_"))
      .filter((name) => !config.includes(`$(${name})`) && !new RegExp(` ${name}\\b`).test(config))
    expect(unused).toEqual([])
  })

  test("glidein_condor_config: the settings a real pool showed were missing", () => {
    const settings = new Map(
      GLIDEIN_CONDOR_CONFIG.split("\n")
        .map((line) => /^([\w.]+)\s*=\s*(.*)$/.exec(line))
        .filter((m) => m !== null)
        .map((m) => [m[1] as string, m[2] as string]),
    )
    // the master evaluates DAEMON_SHUTDOWN only when it sends its ad (300 s by default)
    expect(settings.get("MASTER_UPDATE_INTERVAL")).toBe("$(UPDATE_INTERVAL)")
    expect(settings.get("LOCK")).toBe("$(GLIDEIN_LOCK_DIR)")
    expect(settings.get("RUN")).toBe("$(GLIDEIN_LOCK_DIR)")
    expect(settings.get("STARTD_SHOULD_WRITE_CLAIM_ID_FILE")).toBe("False")
    expect(settings.get("CREATE_CGROUP_WITHOUT_ROOT")).toBe("True")
    // after PREEMPT and MAXJOBRETIREMENTTIME, which it adds to
    const policy = GLIDEIN_CONDOR_CONFIG.indexOf("\nuse POLICY : HOLD_IF_MEMORY_EXCEEDED\n")
    expect(policy).toBeGreaterThan(GLIDEIN_CONDOR_CONFIG.indexOf("\nMAXJOBRETIREMENTTIME ="))
    expect(policy).toBeGreaterThan(GLIDEIN_CONDOR_CONFIG.indexOf("\nPREEMPT ="))
    expect(settings.get("PYGLIDEIN_TIME_TO_LIVE")).toBe("$(GLIDEIN_ToRetire) - time()")
    expect(settings.get("STARTD_ATTRS")?.split(" ")).toEqual(
      expect.arrayContaining([
        "$(STARTD_ATTRS)",
        "PYGLIDEIN_TIME_TO_LIVE",
        "$(GLIDEIN_IDENTITY_ATTRS)",
        "$(GLIDEIN_EXTRA_ATTRS)",
      ]),
    )
    // the pool's view of each site's glideins reads who they are from either ad
    expect(settings.get("MASTER_ATTRS")).toBe("$(MASTER_ATTRS) $(GLIDEIN_IDENTITY_ATTRS)")
    expect(settings.get("GLIDEIN_IDENTITY_ATTRS")?.split(" ")).toEqual([
      "IS_GLIDEIN",
      "GLIDEIN_Site",
      "GLIDEIN_ResourceName",
      "GLIDEIN_Client",
      "GLIDEIN_Partition",
      "GLIDEIN_BatchJobId",
      "GLIDEIN_Version",
      "GLIDEIN_TarballDigest",
      "GLIDEIN_TarballVersion",
    ])
    // HTCondor's regex replacement misplaces matches on 64-bit builds: the script decides
    expect(settings.has("ENVIRONMENT_FOR_AssignedGPUs")).toBe(false)
    for (const level of ["ALLOW_ADMINISTRATOR", "ALLOW_DAEMON", "ALLOW_NEGOTIATOR"]) {
      expect(settings.get(level)).toContain("condor@password/*")
    }
  })

  test("glidein_condor_config has no inline comments, which HTCondor would read as values", () => {
    const inline = GLIDEIN_CONDOR_CONFIG.split("\n").filter((l) => /^[^#].*=.*\s#/.test(l))
    expect(inline).toEqual([])
  })
})

describe("user_job_wrapper.sh", () => {
  function wrap(vars: { [name: string]: string }, ...job: string[]) {
    const dir = tempDir()
    const wrapper = path.join(dir, "user_job_wrapper.sh")
    writeFileSync(wrapper, USER_JOB_WRAPPER_SH)
    const pairs = Object.entries(vars).map(([k, v]) => `${k}=${v}`)
    const r = Bun.spawnSync(["/usr/bin/env", "-i", ...pairs, "/bin/sh", wrapper, ...job], {
      cwd: dir,
    })
    return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString(), dir }
  }

  test("runs the job with a HOME, a PATH, and without the glidein's _condor_ settings", () => {
    const scratch = tempDir()
    const r = wrap(
      {
        _CONDOR_SCRATCH_DIR: scratch,
        _condor_SEC_PASSWORD_FILE: "/glidein/passwdfile",
        _CONDOR_JOB_AD: "/x/.job.ad",
        http_proxy: "http://proxy:3128",
      },
      "/usr/bin/env",
    )
    expect(r.code).toBe(0)
    const env = r.out.split("\n")
    expect(env).toContain(`HOME=${scratch}`)
    expect(env).toContain("http_proxy=http://proxy:3128")
    expect(env).toContain("_CONDOR_JOB_AD=/x/.job.ad")
    expect(r.out).not.toContain("_condor_SEC_PASSWORD_FILE")
    expect(env.find((l) => l.startsWith("PATH="))).toContain("/usr/bin:/bin")
  })

  test("runs the job without the glidein's CONDOR_CONFIG and the variables that started it", () => {
    const r = wrap(
      {
        CONDOR_CONFIG: "/glidein/glidein_condor_config",
        GLIDEIN_TARBALL: "/shared/site.tar.gz",
        SITE: "Test Site",
        CPUS: "8",
        MEMORY: "16000",
        CLUSTER: "pool.example.org",
        GLIDEIN_Site: "Test Site",
        http_proxy: "http://proxy:3128",
      },
      "/usr/bin/env",
    )
    const names = r.out.split("\n").map((l) => l.split("=")[0])
    for (const gone of ["CONDOR_CONFIG", "GLIDEIN_TARBALL", "SITE", "CPUS", "MEMORY", "CLUSTER"]) {
      expect(names).not.toContain(gone)
    }
    expect(names).toEqual(expect.arrayContaining(["GLIDEIN_Site", "http_proxy"]))
  })

  test("passes the job's arguments through unchanged and returns its exit status", () => {
    const r = wrap({}, "/bin/sh", "-c", 'printf "%s|" "$@"; exit 7', "sh", "a b", "", "*")
    expect(r.out).toBe("a b||*|")
    expect(r.code).toBe(7)
  })

  test("runs the job through GLIDEIN_JOB_WRAPPER when a site sets one", () => {
    const site = path.join(tempDir(), "site-wrapper")
    put(site, '#!/bin/sh\necho "site wrapper for $1"\nexec "$@"\n', 0o755)
    const r = wrap({ GLIDEIN_JOB_WRAPPER: site }, "/bin/echo", "payload")
    expect(r.out).toBe("site wrapper for /bin/echo\npayload\n")
  })

  test("reports a missing site wrapper to HTCondor through the wrapper error file", () => {
    const errorFile = path.join(tempDir(), "wrapper-error")
    const r = wrap(
      { GLIDEIN_JOB_WRAPPER: "/nonexistent/wrap", _CONDOR_WRAPPER_ERROR_FILE: errorFile },
      "/bin/true",
    )
    expect(r.code).toBe(1)
    expect(readFileSync(errorFile, "utf8")).toBe(
      'GLIDEIN_JOB_WRAPPER "/nonexistent/wrap" is not an executable file\n',
    )
  })
})
