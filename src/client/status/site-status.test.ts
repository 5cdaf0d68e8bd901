import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test"
import { mkdirSync } from "node:fs"
import { appendJournal } from "../site/journal.ts"
import { type FakeServer, startFakeServer, type TestSite, testSite } from "../submit/test-site.ts"
import { type StatusDeps, siteStatus } from "./site-status.ts"

let server: FakeServer
beforeAll(() => {
  server = startFakeServer()
})
afterAll(() => server.stop())
const sites: TestSite[] = []
afterEach(() => {
  for (const s of sites.splice(0)) s.remove()
})

const BODY = `[Cluster]
scheduler = slurm
running_cmd = echo 4
idle_cmd = echo 1
max_idle_jobs = 3
partitions = gpu, cpu
[gpu]
gpu_only = True
[cpu]
cpu_only = True
`

function site(body = BODY) {
  const s = testSite(server.url, body)
  sites.push(s)
  const deps: StatusDeps = {
    run: s.run,
    env: s.env,
    stdout: (t) => s.stdout.push(t),
    rpc: { timeoutMs: 2000, retries: 0, retryDelayMs: 1 },
    stateRoot: s.stateRoot,
  }
  return { ...s, deps }
}

describe("siteStatus()", () => {
  test("siteStatus() shows counts, limits and what a run would submit, submitting nothing", async () => {
    const s = site()
    mkdirSync(s.paths.dir, { recursive: true })
    appendJournal(s.paths.journal, {
      kind: "submit",
      time: "2026-03-01T00:00:00.000Z",
      partition: "cpu",
      scheduler: "slurm",
      count: 2,
      resources: { cpus: 2, memoryMb: 2100, diskKb: 11264000, gpus: 0, walltimeS: 72000 },
      jobIds: ["7", "8"],
    })
    expect(await siteStatus(s.config, { json: true }, s.deps)).toBe(0)
    expect(s.commands.every((c) => c.line.startsWith("echo"))).toBe(true)
    const status = JSON.parse(s.stdout.join(""))
    expect(status.demand_jobs).toBe(9)
    expect(status.partitions[1]).toMatchObject({
      partition: "cpu",
      running: 4,
      idle: 1,
      limit: 2,
      limit_by: "max_idle_jobs 3 − 1 idle",
      would_submit: [{ count: 2, cpus: 2, memory_mb: 2100 }],
      last_submit: { count: 2, jobIds: ["7", "8"] },
      journaled_not_cancelled: 2,
    })
    expect(status.partitions[0].would_submit).toEqual([
      expect.objectContaining({ count: 1, gpus: 1 }),
    ])
  })

  test("siteStatus() still shows the batch counts when the server is down, and exits 1", async () => {
    const s = site()
    const closed = Bun.serve({ port: 0, fetch: () => new Response("") })
    const dead = `http://127.0.0.1:${closed.port}`
    closed.stop(true)
    expect(await siteStatus(s.config, { json: false, server: dead }, s.deps)).toBe(1)
    const text = s.stdout.join("")
    expect(text).toContain("demand unavailable: server http://127.0.0.1")
    expect(text).toContain("[cpu] slurm\n  4 running, 1 idle")
    expect(text).toContain("a run now would submit nothing")
  })

  test("siteStatus() plans around a demand row no site could run and says it skipped it", async () => {
    const s = site()
    const before = server.state
    server.state = [
      ...(before as object[]),
      { cpus: 200_000, memory: 2000, disk: 10000, gpus: 0, count: 1 },
    ]
    try {
      expect(await siteStatus(s.config, { json: false }, s.deps)).toBe(0)
      const text = s.stdout.join("")
      expect(text).toContain("9 idle jobs wanted, from server")
      expect(text).toContain(
        "\nnote: skipped 1 demand row no site could run: cpus 200000 > 100000\n",
      )
      s.stdout.length = 0
      expect(await siteStatus(s.config, { json: true }, s.deps)).toBe(0)
      expect(JSON.parse(s.stdout.join("")).demand_skipped).toEqual({
        rows: 1,
        first: "cpus 200000 > 100000",
      })
    } finally {
      server.state = before
    }
  })
})
