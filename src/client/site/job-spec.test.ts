import { describe, expect, test } from "bun:test"
import { parseSiteConfig } from "../../config/index.ts"
import { buildJobSpec, minBatchWalltimeS, WALLTIME_MARGIN_S } from "./job-spec.ts"
import { partitionPolicy } from "./partition.ts"
import type { PlannedSubmission } from "./plan-submissions.ts"

const CONFIG = `[Glidein]
address = http://127.0.0.1:9/jsonrpc
site = Test
resourcename = Test-CE
cluster = pool.example.org
[Cluster]
scheduler = slurm
partitions = gpu, pbs
partition = batch
account = ice
mem_per_core = 3000
os = RHEL7
whole_node = False
[gpu]
partition = gpu
group_jobs = True
min_gpus_per_job = 1
[pbs]
scheduler = pbs
queue = long
pmem_only = True
whole_node = True
whole_node_cpus = 8
whole_node_memory = 32000
whole_node_disk = 100000
[SubmitFile]
local_dir = $TMPDIR/glidein
custom_header = #SBATCH --qos=low
mem_safety_scale = 1.5
gpu_submit = --gpus=%%d
[StartdChecks]
enable_startd_checks = False
[CustomEnv]
http_proxy = http://squid:3128
CPUS = 99
`
const config = parseSiteConfig(CONFIG, "site.ini")
const files = {
  submitDir: "/s",
  startScript: "/s/glidein_start.sh",
  tarball: "/t/glidein.tar.gz",
  outputDir: "/o",
}
const planned = (partition: string): PlannedSubmission => ({
  partition,
  count: 3,
  resources: { cpus: 2, memoryMb: 4200, diskKb: 11264000, gpus: 1, walltimeS: 72000 },
  serves: [],
})

describe("buildJobSpec()", () => {
  test("buildJobSpec() fills the glidein environment contract, WALLTIME 300 s short, contract names first", () => {
    const spec = buildJobSpec(planned("gpu"), config.partitionSettings.gpu!, config, files)
    expect(spec.env).toEqual({
      CPUS: "2",
      MEMORY: "4200",
      DISK: "11264000",
      GPUS: "1",
      WALLTIME: "71700",
      SITE: "Test",
      ResourceName: "Test-CE",
      CLUSTER: "pool.example.org",
      GLIDEIN_PARTITION: "gpu",
      http_proxy: "http://squid:3128",
    })
  })

  test("buildJobSpec() tells a site's own glidein_script pyglidein's DISABLE_STARTD_CHECKS and CVMFS_JOB_WRAPPER", () => {
    const own = parseSiteConfig(
      CONFIG.replace(
        "cluster = pool.example.org",
        "cluster = pool.example.org\nglidein_script = start.sh",
      ).replace("mem_safety_scale = 1.5", "mem_safety_scale = 1.5\ncvmfs_job_wrapper = True"),
      "site.ini",
    )
    expect(buildJobSpec(planned("gpu"), own.partitionSettings.gpu!, own, files).env).toMatchObject({
      DISABLE_STARTD_CHECKS: "1",
      CVMFS_JOB_WRAPPER: "1",
    })
    // The built-in glidein_start.sh reads neither.
    const env = buildJobSpec(planned("gpu"), config.partitionSettings.gpu!, config, files).env
    expect(env.DISABLE_STARTD_CHECKS).toBeUndefined()
  })

  test("buildJobSpec() takes SITE and CLUSTER from [Glidein], else [CustomEnv], else SITE is the host's name", () => {
    const bare = parseSiteConfig(
      "[Glidein]\naddress = http://127.0.0.1:9/jsonrpc\n[Cluster]\nscheduler = slurm\n",
      "site.ini",
    )
    const spec = (c: typeof bare, defaultSite: string) =>
      buildJobSpec(
        planned(c.partitions[0]!),
        c.partitionSettings[c.partitions[0]!]!,
        { ...c, defaultSite },
        files,
      ).env
    expect(spec(bare, "login1.cluster.example")).toMatchObject({ SITE: "login1.cluster.example" })
    expect(spec(bare, "login1.cluster.example").CLUSTER).toBeUndefined()
    const custom = parseSiteConfig(
      "[Glidein]\naddress = http://127.0.0.1:9/jsonrpc\n[Cluster]\nscheduler = slurm\n[CustomEnv]\nSITE = Mine\nCLUSTER = cm.example.org:9619\n",
      "site.ini",
    )
    expect(spec(custom, "login1.cluster.example")).toMatchObject({
      SITE: "Mine",
      CLUSTER: "cm.example.org:9619",
    })
    expect(spec(config, "login1.cluster.example")).toMatchObject({
      SITE: "Test",
      CLUSTER: "pool.example.org",
    })
  })

  test("buildJobSpec() names the client that submits as GLIDEIN_CLIENT, over a [CustomEnv] one", () => {
    const custom = { ...config, customEnv: { GLIDEIN_CLIENT: "someone else" } }
    const env = (client?: string) =>
      buildJobSpec(planned("gpu"), config.partitionSettings.gpu!, { ...custom, client }, files).env
    expect(env("ice@login1/gpu").GLIDEIN_CLIENT).toBe("ice@login1/gpu")
    expect(env().GLIDEIN_CLIENT).toBe("someone else")
    expect(env().GLIDEIN_PARTITION).toBe("gpu")
  })

  test("buildJobSpec() passes the site's settings and the adapter's own to the adapter", () => {
    const slurm = buildJobSpec(planned("gpu"), config.partitionSettings.gpu!, config, files)
    expect(slurm).toMatchObject({
      partition: "gpu",
      count: 3,
      settings: { queue: "gpu", account: "ice", gpuSubmit: "--gpus=%d" },
      site: {
        groupJobs: true,
        localDir: "$TMPDIR/glidein",
        outputDir: "/o",
        customHeader: "#SBATCH --qos=low",
      },
      paths: { submitDir: "/s", startScript: "/s/glidein_start.sh", tarball: "/t/glidein.tar.gz" },
    })
    const pbs = buildJobSpec(planned("pbs"), config.partitionSettings.pbs!, config, files)
    expect(pbs.settings).toMatchObject({ queue: "long", memoryForm: "pmem_only" })
    expect(pbs.site.groupJobs).toBe(false)
  })
})

describe("partitionPolicy()", () => {
  test("partitionPolicy() maps a partition's keys, inherited from [Cluster], for the planner", () => {
    const gpu = partitionPolicy("gpu", config.partitionSettings.gpu!, config.submitFile)
    expect(gpu).toMatchObject({
      name: "gpu",
      scheduler: "slurm",
      limitPerSubmit: 50,
      maxTotalJobs: 1000,
      maxIdleJobs: 1000,
      maxPerJob: { cpus: 12, gpus: 8, memory: 24000, disk: 100000 },
      minPerJob: { gpus: 1 },
      memPerCore: 3000,
      memSafetyScale: 1.5,
      walltimeHours: 20,
      os: "RHEL7",
      prioritize: ["gpu", "memory"],
    })
    expect(gpu.wholeNode).toBeUndefined()
    const pbs = partitionPolicy("pbs", config.partitionSettings.pbs!, config.submitFile)
    expect(pbs.scheduler).toBe("pbs")
    expect(pbs.wholeNode).toEqual({ cpus: 8, memory: 32000, disk: 100000 })
  })
})

describe("minBatchWalltimeS()", () => {
  /** glidein_start.sh's check of WALLTIME and RETIRETIME (templates/glidein_start.sh, step 1). */
  function startAccepts(walltime: number, retire?: number): boolean {
    const r = retire ?? Math.max(1, Math.min(1200, Math.floor(walltime / 4)))
    return walltime >= 1 && r < walltime && walltime - r >= 60
  }

  test("minBatchWalltimeS() is the shortest batch limit whose glidein glidein_start.sh starts", () => {
    for (const retire of [undefined, 1, 600, 1200]) {
      const min = minBatchWalltimeS(retire)
      expect({ retire, ok: startAccepts(min - WALLTIME_MARGIN_S, retire) }).toEqual({
        retire,
        ok: true,
      })
      expect({ retire, ok: startAccepts(min - 1 - WALLTIME_MARGIN_S, retire) }).toEqual({
        retire,
        ok: false,
      })
    }
    expect(minBatchWalltimeS()).toBe(379)
    expect(minBatchWalltimeS(1200)).toBe(1560)
  })
})
