import { describe, expect, test } from "bun:test"
import path from "node:path"
import { ConfigError } from "../errors.ts"
import { formatWarning } from "./describe.ts"
import { parseSiteConfig, pyglideinView } from "./site-config.ts"

const BASE =
  "[Glidein]\naddress = http://pool.example.org:11001/jsonrpc\n\n[Cluster]\nscheduler = slurm\n"

function load(text: string) {
  return parseSiteConfig(text, "site.ini")
}

function errorOf(text: string): string {
  try {
    load(text)
  } catch (e) {
    if (e instanceof ConfigError) return e.message
    throw e
  }
  throw new Error("expected a ConfigError")
}

function warningsOf(text: string): string[] {
  return load(text).warnings.map(formatWarning)
}

describe("parseSiteConfig() builds pyglidein's Config dict", () => {
  test("parseSiteConfig() starts from pyglidein's client defaults", () => {
    const c = load(BASE)
    expect(c.sections.Cluster).toEqual({
      max_total_jobs: 1000,
      max_idle_jobs: 1000,
      limit_per_submit: 50,
      walltime_hrs: 20,
      prioritize_jobs: ["gpu", "memory"],
      whole_node: false,
      max_cpus_per_job: 12,
      max_gpus_per_job: 8,
      max_memory_per_job: 24000,
      max_disk_per_job: 100000,
      scheduler: "slurm",
    })
    expect(c.sections.Mode).toEqual({ debug: false })
    expect(c.sections.SubmitFile).toEqual({ cvmfs_job_wrapper: false })
    expect(c.sections.StartdLogging).toEqual({ send_startd_logs: false })
    expect(c.partitions).toEqual(["Cluster"])
  })

  test("parseSiteConfig() has no default server address", () => {
    expect(pyglideinView("[Cluster]\nscheduler = pbs\n", "site.ini").Glidein).toEqual({})
    expect(errorOf("[Cluster]\nscheduler = pbs\n")).toBe(
      "site.ini: [Glidein] address: missing: set address = http://HOST:PORT/jsonrpc (your glidein serve) or ssh_state = True",
    )
    expect(errorOf("[Glidein]\nsite = x\n[Cluster]\nscheduler = pbs\n")).toStartWith(
      "site.ini:1: [Glidein] address: missing:",
    )
    expect(
      load("[Glidein]\nssh_state = True\n[Cluster]\nscheduler = pbs\n").glidein.ssh_state,
    ).toBe(true)
  })

  test("parseSiteConfig() needs no address when the command line names the demand source", () => {
    const c = parseSiteConfig("[Cluster]\nscheduler = pbs\n", "site.ini", {
      demandFromCommandLine: true,
    })
    expect(c.glidein).toEqual({ ssh_state: false })
  })

  test("parseSiteConfig() gives each partition every [Cluster] key, its own keys winning", () => {
    const c = load(
      `${BASE}max_total_jobs = 10\npartitions = a, b\n[a]\nmax_total_jobs = 3\ngpu_only = True\n[b]\n`,
    )
    expect(c.partitions).toEqual(["a", "b"])
    expect(c.sections.Cluster!.partitions).toEqual(["a", "b"])
    expect(c.sections.a!.max_total_jobs).toBe(3)
    expect(c.sections.a!.gpu_only).toBe(true)
    expect(c.sections.a!.partitions).toEqual(["a", "b"])
    expect(c.sections.b!.max_total_jobs).toBe(10)
    expect(c.partitionSettings.a!.max_total_jobs).toBe(3)
    expect(c.partitionSettings.b!.scheduler).toBe("slurm")
    expect(c.place("a", "scheduler")).toEqual({
      file: "site.ini",
      line: 5,
      section: "Cluster",
      key: "scheduler",
    })
    expect(c.place("a", "max_total_jobs").line).toBe(9)
  })

  test("parseSiteConfig() lets [DEFAULT] keys count as every section's own, as pyglidein did", () => {
    const c = load(`[DEFAULT]\nwalltime_hrs = 4\n${BASE}walltime_hrs = 8\npartitions = p\n[p]\n`)
    // ConfigParser lists [DEFAULT] keys under [p] too, so they override [Cluster]'s.
    expect(c.sections.Cluster!.walltime_hrs).toBe(8)
    expect(c.sections.p!.walltime_hrs).toBe(4)
    expect(c.place("p", "walltime_hrs")).toEqual({
      file: "site.ini",
      line: 2,
      section: "DEFAULT",
      key: "walltime_hrs",
    })
  })

  test("parseSiteConfig() refuses a partition without a section, suggesting one", () => {
    expect(errorOf(`${BASE}partitions = gpu\n[gpus]\ngpu_only = True\n`)).toBe(
      'site.ini:6: [Cluster] partitions: names partition "gpu", but there is no section of that name (did you mean [gpus]?)',
    )
  })

  test("parseSiteConfig() ignores empty and repeated partition names, with warnings", () => {
    const c = load(`${BASE}partitions = a,, a,\n[a]\n`)
    expect(c.partitions).toEqual(["a"])
    expect(c.warnings.map(formatWarning)).toEqual([
      "site.ini:6: [Cluster] partitions: has an empty name (a stray comma?); it is ignored",
      'site.ini:6: [Cluster] partitions: names "a" twice; it is used once (pyglidein submitted for it twice)',
      "site.ini:6: [Cluster] partitions: has an empty name (a stray comma?); it is ignored",
    ])
  })

  test("parseSiteConfig() accepts partitions written as a Python list", () => {
    expect(load(`${BASE}partitions = ["a", "b"]\n[a]\n[b]\n`).partitions).toEqual(["a", "b"])
  })

  test("parseSiteConfig() reads the scheduler name in any case", () => {
    expect(load(BASE.replace("slurm", "HTCondor")).partitionSettings.Cluster!.scheduler).toBe(
      "htcondor",
    )
  })

  test("parseSiteConfig() keeps text keys as written, and None leaves one unset", () => {
    const c = load(
      `${BASE}user = 12345\nos = 7.10\nnode_property = None\n[CustomEnv]\nGPUS_LIST = 0,1\n`,
    )
    expect(c.sections.Cluster!.user).toBe(12345)
    expect(c.partitionSettings.Cluster!.user).toBe("12345")
    expect(c.partitionSettings.Cluster!.os).toBe("7.10")
    expect(c.partitionSettings.Cluster!.node_property).toBeUndefined()
    expect(c.customEnv).toEqual({ GPUS_LIST: "0,1" })
  })

  test("parseSiteConfig() reads gpu_submit = False or None as no GPU option", () => {
    for (const off of ["False", "None"])
      expect(load(`${BASE}[SubmitFile]\ngpu_submit = ${off}\n`).submitFile.gpu_submit).toBe(false)
    expect(load(`${BASE}[SubmitFile]\ngpu_submit = --gpus=%%d\n`).submitFile.gpu_submit).toBe(
      "--gpus=%d",
    )
    expect(load(`${BASE}[SubmitFile]\ngpu_submit = 1\n`).submitFile.gpu_submit).toBe("1")
    expect(load(BASE).submitFile.gpu_submit).toBeUndefined()
  })

  test("parseSiteConfig() reads node_property and mma_cmd = False or None as unset, as pyglidein's truth tests did", () => {
    for (const off of ["False", "None"]) {
      const c = load(`${BASE}node_property = ${off}\nmma_cmd = ${off}\n`)
      expect(c.partitionSettings.Cluster!.node_property).toBeUndefined()
      expect(c.partitionSettings.Cluster!.mma_cmd).toBeUndefined()
    }
    // A partition's False takes back the [Cluster] value, as pyglidein's dict update did.
    const p = load(
      `${BASE}node_property = quad\npartitions = cpu, gpu\n[cpu]\n[gpu]\nnode_property = False\n`,
    )
    expect(p.partitionSettings.cpu!.node_property).toBe("quad")
    expect(p.partitionSettings.gpu!.node_property).toBeUndefined()
    // Other values are still text as written; True was truthy to pyglidein too.
    expect(load(`${BASE}node_property = True\n`).partitionSettings.Cluster!.node_property).toBe(
      "True",
    )
    expect(load(`${BASE}node_property = 2\n`).partitionSettings.Cluster!.node_property).toBe("2")
  })

  test("parseSiteConfig() keeps False as text where pyglidein wrote the value regardless", () => {
    // `if "partition" in cluster_config:` then `--partition=%s`: pyglidein wrote False too.
    const c = load(`${BASE}partition = False\nuser = False\n[SubmitFile]\nlocal_dir = False\n`)
    expect(c.partitionSettings.Cluster!.partition).toBe("False")
    expect(c.partitionSettings.Cluster!.user).toBe("False")
    expect(c.submitFile.local_dir).toBe("False")
  })

  test("parseSiteConfig() leaves $VAR for the shell and expands %(name)s", () => {
    const c = load(
      `[DEFAULT]\nd = /scratch\n${BASE}running_cmd = squeue -u $USER | wc -l\ndir_cleanup = %(d)s/$USER\n`,
    )
    expect(c.partitionSettings.Cluster!.running_cmd).toBe("squeue -u $USER | wc -l")
    expect(c.partitionSettings.Cluster!.dir_cleanup).toBe("/scratch/$USER")
  })
})

describe("parseSiteConfig() errors name file:line [section] key and what was expected", () => {
  test("parseSiteConfig() wants whole numbers for job counts", () => {
    expect(errorOf(`${BASE}max_total_jobs = lots\n`)).toBe(
      'site.ini:6: [Cluster] max_total_jobs: expected a whole number, got "lots"',
    )
    expect(errorOf(`${BASE}limit_per_submit = -1\n`)).toBe(
      'site.ini:6: [Cluster] limit_per_submit: expected a whole number ≥ 0, got "-1"',
    )
    expect(errorOf(`${BASE}max_idle_jobs = 2.5\n`)).toBe(
      'site.ini:6: [Cluster] max_idle_jobs: expected a whole number, got "2.5"',
    )
  })

  test("parseSiteConfig() wants True or False for switches", () => {
    expect(errorOf(`${BASE}gpu_only = true\n`)).toBe(
      'site.ini:6: [Cluster] gpu_only: expected True or False, got "true"',
    )
    expect(load(`${BASE}gpu_only = 1\n`).partitionSettings.Cluster!.gpu_only).toBe(true)
  })

  test("parseSiteConfig() names the schedulers it knows", () => {
    expect(errorOf(BASE.replace("slurm", "torque"))).toBe(
      'site.ini:5: [Cluster] scheduler: expected one of htcondor, slurm, pbs, uge, sge, lsf, got "torque"',
    )
    expect(errorOf("[Glidein]\nssh_state = True\n[Cluster]\nuser = x\n")).toBe(
      "site.ini:3: [Cluster] scheduler: missing; expected one of htcondor, slurm, pbs, uge, sge, lsf",
    )
  })

  test("parseSiteConfig() puts a key all partitions lack in [Cluster]", () => {
    expect(errorOf("[Glidein]\nssh_state = True\n[Cluster]\npartitions = a\n[a]\n")).toBe(
      "site.ini:3: [Cluster] scheduler: missing; expected one of htcondor, slurm, pbs, uge, sge, lsf",
    )
  })

  test("parseSiteConfig() names the typo that hides a required key", () => {
    expect(errorOf("[Glidein]\nssh_state = True\n[Cluster]\nschedular = slurm\n")).toBe(
      'site.ini:3: [Cluster] scheduler: missing; did you mean "schedular" (line 4)?',
    )
    expect(errorOf("[Glidein]\nssh_state = True\n[Cluster]\nScheduler = slurm\n")).toBe(
      'site.ini:3: [Cluster] scheduler: missing; did you mean "Scheduler" (line 4)?',
    )
    expect(
      errorOf("[Glidein]\nadress = http://pool:11001/jsonrpc\n[Cluster]\nscheduler = pbs\n"),
    ).toBe('site.ini:1: [Glidein] address: missing; did you mean "adress" (line 2)?')
    expect(errorOf("[Glidein]\nssh_sate = True\n[Cluster]\nscheduler = pbs\n")).toBe(
      'site.ini:1: [Glidein] address: missing; did you mean "ssh_sate" (line 2) to be ssh_state?',
    )
    expect(
      errorOf("[Glidein]\nssh_state = True\n[Cluster]\npartitions = a\n[a]\nschedular = pbs\n"),
    ).toBe('site.ini:3: [Cluster] scheduler: missing; did you mean "schedular" (line 6, in [a])?')
  })

  test("parseSiteConfig() names the misspelled section that hides a required key", () => {
    expect(errorOf("[Glidein]\nssh_state = True\n[cluster]\nscheduler = slurm\n")).toBe(
      "site.ini: [Cluster] scheduler: missing; did you mean [cluster] (line 3)? Section names are case-sensitive",
    )
    expect(errorOf("[Glidein]\nssh_state = True\n[Clustre]\nscheduler = slurm\n")).toBe(
      "site.ini: [Cluster] scheduler: missing; did you mean [Clustre] (line 3)?",
    )
    expect(
      errorOf("[glidein]\naddress = http://pool:11001/jsonrpc\n[Cluster]\nscheduler = pbs\n"),
    ).toBe(
      "site.ini: [Glidein] address: missing; did you mean [glidein] (line 1)? Section names are case-sensitive",
    )
  })

  test("parseSiteConfig() checks numbers of MB and hours", () => {
    expect(errorOf(`${BASE}walltime_hrs = 0\n`)).toBe(
      'site.ini:6: [Cluster] walltime_hrs: expected a number > 0 (hours), got "0"',
    )
    expect(errorOf(`${BASE}mem_per_core = 2GB\n`)).toBe(
      'site.ini:6: [Cluster] mem_per_core: expected a number (MB), got "2GB"',
    )
  })

  test("parseSiteConfig() checks prioritize_jobs names demand columns", () => {
    expect(errorOf(`${BASE}prioritize_jobs = memory\n`)).toBe(
      'site.ini:6: [Cluster] prioritize_jobs: expected a list like ["memory", "disk"], got "memory"',
    )
    expect(errorOf(`${BASE}prioritize_jobs = ["ram"]\n`)).toBe(
      'site.ini:6: [Cluster] prioritize_jobs: expected a list of "cpus", "gpus", "memory", "disk", got "[\\"ram\\"]"',
    )
  })

  test("parseSiteConfig() wants an http(s) URL for address", () => {
    expect(errorOf("[Glidein]\naddress = pool:11001\n[Cluster]\nscheduler = lsf\n")).toBe(
      'site.ini:2: [Glidein] address: expected an http:// or https:// URL, got "pool:11001"',
    )
  })

  test("parseSiteConfig() refuses whole_node without the node's size", () => {
    expect(errorOf(`${BASE}whole_node = True\nwhole_node_cpus = 8\n`)).toBe(
      "site.ini:6: [Cluster] whole_node: whole_node = True also needs whole_node_memory, whole_node_disk",
    )
  })

  test("parseSiteConfig() says which partition an inherited setting fails for", () => {
    expect(errorOf(`${BASE}whole_node = True\npartitions = p\n[p]\nwhole_node_cpus = 8\n`)).toBe(
      "site.ini:6: [Cluster] whole_node: whole_node = True also needs whole_node_memory, whole_node_disk (for partition [p])",
    )
  })

  test("parseSiteConfig() refuses settings that can never match demand", () => {
    expect(errorOf(`${BASE}cpu_only = True\ngpu_only = True\n`)).toBe(
      "site.ini:7: [Cluster] gpu_only: cpu_only and gpu_only are both True, so no demand can ever match",
    )
    expect(errorOf(`${BASE}min_cpus_per_job = 16\nmax_cpus_per_job = 8\n`)).toBe(
      "site.ini:6: [Cluster] min_cpus_per_job: is 16, above max_cpus_per_job = 8, so no demand can ever match",
    )
  })

  test("parseSiteConfig() wants url and bucket with startd logs", () => {
    expect(errorOf(`${BASE}[StartdLogging]\nsend_startd_logs = True\nurl = s3.example.org\n`)).toBe(
      "site.ini:7: [StartdLogging] send_startd_logs: send_startd_logs = True also needs bucket",
    )
  })

  test("parseSiteConfig() refuses [CustomEnv] names a shell cannot export", () => {
    expect(errorOf(`${BASE}[CustomEnv]\nMY-VAR = 1\n`)).toBe(
      "site.ini:7: [CustomEnv] MY-VAR: is not a valid environment variable name (letters, digits and _, not starting with a digit)",
    )
  })

  test("parseSiteConfig() explains a key indented under another key", () => {
    expect(errorOf(`${BASE.replace("slurm", "slurm\n  max_total_jobs = 4")}`)).toBe(
      'site.ini:5: [Cluster] scheduler: expected one of htcondor, slurm, pbs, uge, sge, lsf, got "slurm …"; the indented line "max_total_jobs = 4" below it continues this value: unindent it to make it a key',
    )
  })

  test("parseSiteConfig() reports the first problem in the file and counts the rest", () => {
    expect(
      errorOf(`${BASE}max_total_jobs = x\nmax_idle_jobs = y\npartitions = a, b\n[a]\n[b]\n`),
    ).toBe(
      'site.ini:6: [Cluster] max_total_jobs: expected a whole number, got "x" (and 1 more problem)',
    )
  })
})

describe("parseSiteConfig() warnings", () => {
  test("parseSiteConfig() suggests the section a typo meant ([StardChecks])", () => {
    expect(warningsOf(`${BASE}[StardChecks]\nenable_startd_checks = False\n`)).toEqual([
      "site.ini:6: [StardChecks] unknown section, did you mean [StartdChecks]? Its keys are ignored (pyglidein ignored them too)",
    ])
    expect(load(`${BASE}[StardChecks]\nenable_startd_checks = False\n`).startdChecks).toEqual({
      enable_startd_checks: true,
    })
  })

  test("parseSiteConfig() points out partition sections that [Cluster] does not list", () => {
    expect(warningsOf(`${BASE}partitions = a\n[a]\n[b]\ngpu_only = True\n`)).toEqual([
      'site.ini:8: [b] section is not used: it is not one of [Cluster] partitions ("a")',
    ])
    expect(warningsOf(`${BASE}[Notes]\nx = 1\n`)).toEqual([
      "site.ini:6: [Notes] unknown section; its keys are ignored",
    ])
  })

  test("parseSiteConfig() suggests the key a typo meant, or the section it belongs in", () => {
    expect(warningsOf(`${BASE}groups_jobs = True\nmax_disk = 10\n[Mode]\nsite = x\n`)).toEqual([
      "site.ini:6: [Cluster] groups_jobs: unknown key, did you mean group_jobs? It is ignored",
      "site.ini:7: [Cluster] max_disk: unknown key, did you mean max_disk_per_job? It is ignored",
      "site.ini:9: [Mode] site: unknown key in [Mode]; it belongs in [Glidein] and is ignored here",
    ])
  })

  test("parseSiteConfig() does not flag keys that serve %(name)s interpolation", () => {
    expect(warningsOf(`${BASE}base = /x\nrunning_cmd = %(base)s/count\n`)).toEqual([])
  })

  test("parseSiteConfig() says which pyglidein settings glidein accepts but does not use", () => {
    const unused = "accepted for pyglidein compatibility; glidein does not use it"
    expect(
      warningsOf(
        `[Mode]\ndebug = True\n${BASE}cleanup = True\ndir_cleanup = /scratch/$USER\ncvmfs = True\nmma_cmd = qstat\n[SubmitFile]\ncvmfs_job_wrapper = True\n[StartdChecks]\nenable_startd_checks = False\n`,
      ),
    ).toEqual([
      `site.ini:2: [Mode] debug: ${unused} (batch output is always kept, in the state folder's out/; --debug gives a verbose run)`,
      `site.ini:8: [Cluster] cleanup: ${unused} (each glidein job removes its own directory when it ends)`,
      `site.ini:10: [Cluster] cvmfs: ${unused} (nothing in glidein depends on it)`,
      `site.ini:11: [Cluster] mma_cmd: ${unused} (the report to the server leaves out idle times)`,
      `site.ini:13: [SubmitFile] cvmfs_job_wrapper: ${unused} (to wrap every payload job, set GLIDEIN_JOB_WRAPPER in [CustomEnv]; a glidein_script of your own gets CVMFS_JOB_WRAPPER=1)`,
      `site.ini:15: [StartdChecks] enable_startd_checks: ${unused} (the built-in glidein_start.sh runs no startd checks; a glidein_script of your own gets DISABLE_STARTD_CHECKS=1 for False)`,
    ])
    // Values that ask for nothing are quiet; dir_cleanup without cleanup is named itself.
    expect(
      warningsOf(
        `[Mode]\ndebug = False\n${BASE}cleanup = False\n[SubmitFile]\ncvmfs_job_wrapper = False\n`,
      ),
    ).toEqual([])
    expect(warningsOf(`${BASE}dir_cleanup = /scratch\n`)).toEqual([
      `site.ini:6: [Cluster] dir_cleanup: ${unused} (each glidein job removes its own directory when it ends)`,
    ])
  })

  test("parseSiteConfig() passes startd-check and CVMFS-wrapper settings quietly to a site's own glidein_script", () => {
    expect(
      warningsOf(
        `${BASE.replace("[Glidein]\n", "[Glidein]\nglidein_script = start.sh\n")}[SubmitFile]\ncvmfs_job_wrapper = True\n[StartdChecks]\nenable_startd_checks = False\n`,
      ),
    ).toEqual([])
  })

  test("parseSiteConfig() takes cpus_per_node for an unknown key: no scheduler used it", () => {
    expect(warningsOf(`${BASE}cpus_per_node = 16\n`)).toEqual([
      "site.ini:6: [Cluster] cpus_per_node: unknown key; it is ignored (pyglidein ignored it too)",
    ])
  })

  test("parseSiteConfig() spots a section header glued to a value", () => {
    expect(warningsOf(`${BASE}[CustomEnv]\nGROUP = Alberta[Mode]\n`)).toEqual([
      'site.ini:7: [CustomEnv] GROUP: value ends with "[Mode]"; is a line break missing before that section header?',
    ])
  })

  test("parseSiteConfig() says [DEFAULT] keys reach the glidein environment", () => {
    const c = load(`[DEFAULT]\nroot = /x\n${BASE}[CustomEnv]\nA = 1\n`)
    expect(c.customEnv).toEqual({ A: "1", root: "/x" })
    expect(c.warnings.map(formatWarning)).toEqual([
      "site.ini:8: [CustomEnv] also gets every [DEFAULT] key (root) as an environment variable of the glidein, as in pyglidein",
    ])
  })
})

describe("parseSiteConfig() typed views", () => {
  test("parseSiteConfig() fills every typed view with defaults", () => {
    const c = load(BASE)
    expect(c.mode).toEqual({ debug: false, dryrun: false })
    expect(c.glidein).toEqual({
      address: "http://pool.example.org:11001/jsonrpc",
      ssh_state: false,
    })
    expect(c.submitFile).toEqual({ cvmfs_job_wrapper: false })
    expect(c.startdLogging).toEqual({ send_startd_logs: false })
    expect(c.startdChecks).toEqual({ enable_startd_checks: true })
    expect(c.customEnv).toEqual({})
    expect(c.partitionSettings.Cluster).toMatchObject({
      scheduler: "slurm",
      max_total_jobs: 1000,
      max_idle_jobs: 1000,
      limit_per_submit: 50,
      walltime_hrs: 20,
      whole_node: false,
      group_jobs: false,
      set_gpu_req: true,
    })
  })

  test("parseSiteConfig() reads the syntax fixture as Python would", async () => {
    const file = path.join(import.meta.dir, "testdata/syntax.ini")
    const c = parseSiteConfig(await Bun.file(file).text(), "syntax.ini")
    const p = c.partitionSettings.Cluster!
    expect(p.submit_command).toBe("sbatch --parsable")
    expect(p.max_total_jobs).toBe(1000)
    expect(p.max_idle_jobs).toBe(32)
    expect(p.walltime_hrs).toBe(1.5)
    expect(p.mem_per_core).toBe(2000)
    expect(p.prioritize_jobs).toEqual(["memory", "disk", "-cpus"])
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax, on purpose
    expect(p.idle_cmd).toBe("squeue -h -u ${USER} -n glidein -t PENDING | wc -l  # not a comment")
    expect(p.account).toBe("proj-123")
    expect(p.queue).toBe("normal")
    expect(p.user).toBe("/home/glide")
    expect(c.mode).toEqual({ debug: true, dryrun: false })
    expect(c.glidein.uuid).toBe("2021")
    expect(c.submitFile.custom_middle).toBe("module load cuda\nexport A=1\n\nexport B=2")
    expect(c.submitFile.custom_header).toBe("#SBATCH --account=abc")
    expect(c.submitFile.custom_end).toBe("echo 100% done")
    expect(c.submitFile.filename).toBe("submit:slurm.sh")
    expect(c.customEnv.Proxy).toBe("case matters")
    expect(c.customEnv.EMPTY).toBe("")
  })
})
