import { afterEach, describe, expect, test } from "bun:test"
import { writeFileSync } from "node:fs"
import path from "node:path"
import { cleanUp, tempDir } from "../test-support.ts"
import { adapterJob, type ConfigKeys, renderFromConfig, resources } from "./fixtures.ts"
import { pbs } from "./pbs.ts"

function render(
  patch: Parameters<typeof adapterJob>[2] = {},
  site: Parameters<typeof adapterJob>[3] = {},
  keys: ConfigKeys = {},
) {
  const job = pbs.render(adapterJob(pbs, keys, patch, site))
  return { job, text: job.files[job.submitFile]! }
}

function memoryLine(flags: ConfigKeys, gpus = 0): string {
  const { text } = render({ resources: resources({ cpus: 9, memoryMb: 17203, gpus }) }, {}, flags)
  return /^#PBS -l ((?:p|v)?mem=.*)$/m.exec(text)![1]!
}

afterEach(cleanUp)

describe("pbs", () => {
  test("render() chooses the memory line by pyglidein's flags, in its order", () => {
    expect(memoryLine({})).toBe("pmem=1911mb,mem=17203mb")
    expect(memoryLine({ pmem_only: true })).toBe("pmem=1911mb")
    expect(memoryLine({ pvmem: true })).toBe("pmem=1911mb,vmem=17203mb")
    expect(memoryLine({ vmem_only: true })).toBe("vmem=17203mb")
    expect(memoryLine({ mem_only: true })).toBe("mem=17203mb")
    expect(memoryLine({ pmem_only: true, mem_only: true })).toBe("pmem=1911mb")
  })

  test("render() gives a GPU glidein's processes all of its memory, as pyglidein did", () => {
    expect(memoryLine({ pmem_only: true }, 1)).toBe("pmem=17203mb")
  })

  test("render() reports what the memory line asks for in total", () => {
    const { job } = render(
      { resources: resources({ cpus: 9, memoryMb: 17203 }) },
      {},
      { pmem_only: true },
    )
    expect(job.request.memoryMb).toBe(1911 * 9)
    const { job: both } = render({ resources: resources({ cpus: 9, memoryMb: 17203 }) })
    expect(both.request.memoryMb).toBe(17203)
  })

  test("render() builds the nodes line with node_property and GPUs unless set_gpu_req is off", () => {
    const gpu = resources({ cpus: 4, gpus: 2 })
    expect(render({ resources: gpu }, {}, { node_property: "quad" }).text).toContain(
      "#PBS -l nodes=1:ppn=4:quad:gpus=2\n",
    )
    expect(render({ resources: gpu }, {}, { set_gpu_req: false }).text).toContain(
      "#PBS -l nodes=1:ppn=4\n",
    )
  })

  test("render() adds no node property for a config's node_property = False, as pyglidein did", async () => {
    const file = path.join(tempDir("glidein-pbs-"), "site.ini")
    writeFileSync(
      file,
      "[Glidein]\naddress = http://pool.example.org:11001/jsonrpc\ntarball = /shared/glidein.tar.gz\n" +
        "[Cluster]\nscheduler = pbs\nnode_property = False\n",
    )
    const { text } = await renderFromConfig(file, "Cluster")
    expect(text).toMatch(/^#PBS -l nodes=1:ppn=\d+$/m)
    expect(text).not.toContain("False")
  })

  test("render() makes -t 1-N for N glideins (pyglidein's -t 0-N made N+1)", () => {
    const { text, job } = render({ count: 4 }, { groupJobs: true })
    expect(text).toContain("#PBS -t 1-4\n")
    expect(text).not.toContain("-t 0-")
    expect(job.runs).toBe(1)
  })

  test("render() names the job glidein and sends output to a directory", () => {
    const { text } = render(
      {},
      { outputDir: "/data/out" },
      { queue: "long", account: "ngw-282-ac" },
    )
    for (const line of [
      "#PBS -N glidein",
      "#PBS -q long",
      "#PBS -A ngw-282-ac",
      "#PBS -o /data/out/",
      "#PBS -e /data/out/",
    ])
      expect(text).toContain(`${line}\n`)
  })

  test("countArgv() selects by user, name and state", () => {
    expect(pbs.countArgv("running", { user: "bob" })).toEqual([
      "qselect",
      "-u",
      "bob",
      "-N",
      "glidein",
      "-s",
      "R",
    ])
    expect(pbs.countArgv("idle", {})).toEqual(["qselect", "-N", "glidein", "-s", "Q"])
    expect(pbs.countArgv("held", { queue: "long" })).toEqual([
      "qselect",
      "-N",
      "glidein",
      "-q",
      "long",
      "-s",
      "H",
    ])
  })

  test("liveArgv() leaves out exiting and completed jobs", () => {
    expect(pbs.liveArgv({ user: "bob" })).toEqual([
      "qselect",
      "-u",
      "bob",
      "-N",
      "glidein",
      "-s",
      "HQRTW",
    ])
  })
})
