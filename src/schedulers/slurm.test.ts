import { describe, expect, test } from "bun:test"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { ConfigError } from "../errors.ts"
import {
  adapterJob,
  type ConfigKeys,
  renderFromConfig,
  resources,
  settingsSource,
} from "./fixtures.ts"
import { slurm } from "./slurm.ts"

function script(
  patch: Parameters<typeof adapterJob>[2] = {},
  site: Parameters<typeof adapterJob>[3] = {},
  keys: ConfigKeys = {},
): string {
  const job = slurm.render(adapterJob(slurm, keys, patch, site))
  return job.files[job.submitFile]!
}

function directives(text: string): string[] {
  return text.split("\n").filter((l) => l.startsWith("#SBATCH "))
}

describe("slurm", () => {
  test("render() writes pyglidein's directives with the whole memory in --mem", () => {
    const text = script({ resources: resources({ cpus: 9, memoryMb: 16800 }) })
    expect(directives(text)).toEqual([
      "#SBATCH --job-name=glidein",
      "#SBATCH --nodes=1",
      "#SBATCH --ntasks-per-node=9",
      "#SBATCH --mem=16800",
      "#SBATCH --time=14:00:00",
      "#SBATCH --output=/home/user/glidein/glidein-%j.out",
      "#SBATCH --error=/home/user/glidein/glidein-%j.err",
    ])
  })

  test("render() makes a real array, where pyglidein refused more than one job", () => {
    const text = script({ count: 5 }, { groupJobs: true })
    expect(text).toContain("#SBATCH --array=1-5\n")
    expect(text).toContain("#SBATCH --output=/home/user/glidein/glidein-%A_%a.out\n")
  })

  test("render() asks for GPUs with --gres or the site's gpu_submit", () => {
    expect(script({ resources: resources({ gpus: 2 }) })).toContain("#SBATCH --gres=gpu:2\n")
    const custom = script(
      { resources: resources({ gpus: 1 }) },
      {},
      { gpu_submit: "--gpus-per-node=%d" },
    )
    expect(custom).toContain("#SBATCH --gpus-per-node=1\n")
    const line = script(
      { resources: resources({ gpus: 4 }) },
      {},
      { gpu_submit: "#SBATCH --gpus=%d" },
    )
    expect(line).toContain("#SBATCH --gpus=4\n")
    expect(script({ resources: resources({ gpus: 1 }) }, {}, { gpu_submit: false })).not.toMatch(
      /^#SBATCH.*gpu/im,
    )
    expect(script()).not.toContain("--gres")
  })

  test("render() writes no GPU option for a config's gpu_submit = False", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "glidein-slurm-"))
    try {
      const file = path.join(dir, "site.ini")
      writeFileSync(
        file,
        "[Glidein]\naddress = http://pool.example.org:11001/jsonrpc\ntarball = /shared/glidein.tar.gz\n" +
          "[Cluster]\nscheduler = slurm\ngpu_only = True\n[SubmitFile]\ngpu_submit = False\n",
      )
      const { text, rendered } = await renderFromConfig(file, "Cluster")
      expect(rendered.request.gpus).toBe(1)
      expect(directives(text).filter((l) => /gpu|False/i.test(l))).toEqual([])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test("render() adds the partition and account", () => {
    const text = script({}, {}, { partition: "gpu-shared", account: "wis142" })
    expect(directives(text)).toContain("#SBATCH --partition=gpu-shared")
    expect(directives(text)).toContain("#SBATCH --account=wis142")
  })

  test("readSettings() refuses a partition that would break the directive line", () => {
    expect(() => script({}, {}, { partition: "gpu\n#SBATCH --qos=high" })).toThrow(ConfigError)
    expect(() => script({}, {}, { partition: "two words" })).toThrow(
      '[Cluster] partition: "two words" cannot be used in a job directive',
    )
  })

  test("queue() and readSettings() take the partition from `partition`, else from `queue`", () => {
    const source = (keys: ConfigKeys) => settingsSource("slurm", keys)
    const both = source({ partition: "gpu", queue: "long" })
    expect(slurm.queue(both.partition)).toBe("gpu")
    expect(slurm.readSettings(both).queue).toBe("gpu")
    expect(slurm.queue(source({ queue: "long" }).partition)).toBe("long")
    expect(() => slurm.readSettings(source({ queue: "two words" }))).toThrow(
      '[Cluster] queue: "two words" cannot be used in a job directive',
    )
  })

  test("render() writes wall time as H:MM:SS", () => {
    expect(script({ resources: resources({ walltimeS: 48 * 3600 }) })).toContain(
      "--time=48:00:00\n",
    )
    expect(script({ resources: resources({ walltimeS: 5400 }) })).toContain("--time=1:30:00\n")
  })

  test("countArgv() lists array tasks one per line, by name and state", () => {
    expect(slurm.countArgv("idle", { user: "alice" })).toEqual([
      "squeue",
      "--noheader",
      "--array",
      "--user",
      "alice",
      "--name",
      "glidein",
      "--states",
      "PENDING",
      "--format",
      "%i",
    ])
    expect(slurm.countArgv("running", {})).toContain("--me")
  })

  test("countArgv() keeps to the partition and counts suspended glideins as held", () => {
    const argv = slurm.countArgv("held", { user: "alice", queue: "gpu", partition: "g" })
    expect(argv.join(" ")).toContain("--partition gpu --name glidein --states SUSPENDED")
  })

  test("liveArgv() lists every glidein of the user with its state; parseLive() skips completing ones", () => {
    expect(slurm.liveArgv({})).toEqual([
      "squeue",
      "--noheader",
      "--me",
      "--name",
      "glidein",
      "--format",
      "%i %t",
    ])
    expect(slurm.parseLive("77 CG\n78_[1-3] PD\n79_4 R\nfoo\n").sort()).toEqual(["78", "79"])
  })

  test("the journal's jobs are asked for by id, and a forgotten id is no error", () => {
    expect(slurm.countArgv("idle", { user: "alice", jobs: ["12", "13"] })).toContain("--jobs=12,13")
    // slurm_load_jobs error: Invalid job id specified (squeue exits 1 for one forgotten job).
    expect(slurm.noJobs?.test("slurm_load_jobs error: Invalid job id specified\n")).toBe(true)
  })
})
