import { describe, expect, test } from "bun:test"
import { adapterJob, type ConfigKeys, resources } from "./fixtures.ts"
import { lsf } from "./lsf.ts"

function render(
  patch: Parameters<typeof adapterJob>[2] = {},
  site: Parameters<typeof adapterJob>[3] = {},
  keys: ConfigKeys = {},
) {
  const job = lsf.render(adapterJob(lsf, keys, patch, site))
  return { job, text: job.files[job.submitFile]! }
}

describe("lsf", () => {
  test("render() writes -M in KB by default and in mem_scale units when set", () => {
    expect(render({ resources: resources({ cpus: 1, memoryMb: 4200 }) }).text).toContain(
      "#BSUB -M 4200000\n",
    )
    const mb = render(
      { resources: resources({ cpus: 1, memoryMb: 2100 }) },
      {},
      { mem_scale: 0.001 },
    )
    expect(mb.text).toContain("#BSUB -M 2100\n")
  })

  test("render() limits the whole glidein's memory, not pyglidein's per-core figure", () => {
    expect(render({ resources: resources({ cpus: 9, memoryMb: 16800 }) }).text).toContain(
      "#BSUB -M 16800000\n",
    )
  })

  test("render() keeps a multi-core glidein on one host", () => {
    expect(render({ resources: resources({ cpus: 4 }) }).text).toContain(
      '#BSUB -n 4\n#BSUB -R "span[hosts=1]"\n',
    )
    expect(render({ resources: resources({ cpus: 1 }) }).text).not.toContain("span")
  })

  test("render() writes wall time as H:MM with the reference host", () => {
    const { text } = render(
      { resources: resources({ walltimeS: 18 * 3600 }) },
      {},
      { ref_host: "j0001" },
    )
    expect(text).toContain("#BSUB -W 18:00/j0001\n")
  })

  test("render() names arrays glidein[1-N] so that counting finds them", () => {
    const { text, job } = render({ count: 3 }, { groupJobs: true })
    expect(text).toContain('#BSUB -J "glidein[1-3]"\n')
    expect(text).toContain("#BSUB -o /home/user/glidein/glidein-%J_%I.out\n")
    expect(job).toMatchObject({ argv: ["bsub"], stdinFile: "glidein.lsf", runs: 1 })
  })

  test("render() asks for GPUs with -gpu, or the site's gpu_submit", () => {
    expect(render({ resources: resources({ gpus: 2 }) }).text).toContain('#BSUB -gpu "num=2"\n')
    const queue = render({ resources: resources({ gpus: 1 }) }, {}, { gpu_submit: "#BSUB -q gpu" })
    expect(queue.text).toContain("#BSUB -q gpu\n")
    expect(queue.text).not.toContain("-gpu")
  })
})
