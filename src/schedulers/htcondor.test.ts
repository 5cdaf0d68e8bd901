import { describe, expect, test } from "bun:test"
import { adapterJob, jobSpec, resources } from "./fixtures.ts"
import { htcondor } from "./htcondor.ts"

describe("htcondor", () => {
  test("render() requests the planned glidein and transfers glidein_start.sh and the tarball", () => {
    const job = htcondor.render(
      jobSpec({ resources: resources({ cpus: 4, memoryMb: 17600, diskKb: 45056000 }) }),
    )
    const text = job.files[job.submitFile]!
    expect(text).toContain("request_cpus = 4\nrequest_memory = 17600\nrequest_disk = 45056000\n")
    expect(text).not.toContain("request_gpus")
    expect(text).toContain(
      "transfer_input_files = /home/user/glidein/glidein_start.sh,/shared/glidein.tar.gz\n",
    )
    expect(text).toContain("batch_name = glidein\n")
    expect(text).toMatch(/\nqueue 1\n$/)
    expect(job.argv).toEqual(["condor_submit", "glidein.submit"])
  })

  test("render() names the wrapper after its content, so a later submission cannot replace it", () => {
    const a = htcondor.render(jobSpec())
    const b = htcondor.render(jobSpec({ env: { ...jobSpec().env, CPUS: "8" } }))
    const wrapper = (j: typeof a) => Object.keys(j.files).find((f) => f !== j.submitFile)!
    expect(wrapper(a)).toMatch(/^glidein-wrapper-[0-9a-f]{12}\.sh$/)
    expect(wrapper(a)).not.toBe(wrapper(b))
    expect(a.files[a.submitFile]).toContain(`executable = ${wrapper(a)}\n`)
    const named = htcondor.render(adapterJob(htcondor, { env_wrapper_name: "env_wrapper.sh" }))
    expect(Object.keys(named.files)).toContain("env_wrapper.sh")
  })

  test("render() places custom_middle before the requests and custom_footer before queue", () => {
    const job = htcondor.render(
      adapterJob(
        htcondor,
        { custom_footer: "+Footer = 1", log: "glidein.log" },
        {},
        { customMiddle: '+ProjectName = "IceCube"' },
      ),
    )
    const text = job.files[job.submitFile]!
    expect(text).toContain('+ProjectName = "IceCube"\nrequest_cpus')
    expect(text).toContain("+Footer = 1\nqueue 1\n")
    expect(text).toContain("log = glidein.log\n")
  })

  test("render() refuses paths that would break transfer_input_files", () => {
    const paths = { ...jobSpec().paths, tarball: "/data/a,b.tar.gz" }
    expect(() => htcondor.render(jobSpec({ paths }))).toThrow("cannot be used in a submit file")
  })

  test("countArgv() selects glideins by batch name and status", () => {
    expect(htcondor.countArgv("idle", {})).toEqual([
      "condor_q",
      "-constraint",
      'JobBatchName =?= "glidein" && JobStatus == 1',
      "-af",
      "ClusterId",
      "ProcId",
    ])
  })

  test("render() tags each glidein with its partition, and countArgv() counts by it", () => {
    const job = htcondor.render(jobSpec({ partition: 'gpu "A"' }))
    expect(job.files[job.submitFile]).toContain('+GlideinPartition = "gpu \\"A\\""\n')
    expect(htcondor.countArgv("held", { user: "ice", partition: "gpu" })).toEqual([
      "condor_q",
      "ice",
      "-constraint",
      'JobBatchName =?= "glidein" && (JobStatus == 5 || JobStatus == 7) && (GlideinPartition =?= "gpu" || GlideinPartition =?= undefined)',
      "-af",
      "ClusterId",
      "ProcId",
    ])
  })
})
