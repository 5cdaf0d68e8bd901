import { afterAll, describe, expect, test } from "bun:test"
import { partition, row } from "../../allotment/test-fixtures.ts"
import { createApp } from "../../server/app.ts"
import { ReportStore } from "../../server/report-store.ts"
import { demandSnapshot } from "../../test-support.ts"
import { allotmentLines, askAllotment, planAllotted } from "./allotment.ts"

const NOW = 1_800_000_000_000
const store = ReportStore.open(":memory:")
afterAll(() => store.close())

function app(policy?: Parameters<typeof createApp>[0]["allotPolicy"]) {
  const a = createApp({
    demand: () => demandSnapshot([row(10), row(2, 1)], NOW),
    store,
    log: () => {},
    version: "test",
    delayMs: 300_000,
    now: () => NOW,
    ...(policy ? { allotPolicy: policy } : {}),
  })
  return { fetch: (url: string, init: RequestInit) => Promise.resolve(a.request(url, init)) }
}

const URL = "http://pool.example.org:11001/jsonrpc"
const cpu = { policy: partition({ name: "cpu", cpuOnly: true }), counts: { running: 0, idle: 3 } }
const gpu = { policy: partition({ name: "gpu", gpuOnly: true }), counts: { running: 1, idle: 0 } }

describe("askAllotment()", () => {
  test("askAllotment() decodes what serve's get_allotment encodes, per partition with its terms", async () => {
    const allotment = await askAllotment(URL, "site-a", [cpu, gpu], true, app())
    if (allotment === "unsupported") throw new Error("unsupported")
    expect(allotment.uuid).toBe("site-a")
    expect(allotment.partitions).toEqual([
      { partition: "cpu", count: 7, rows: [row(7)] },
      { partition: "gpu", count: 2, rows: [row(2, 1)] },
    ])
    expect(allotment.terms.find((t) => t.name === "queued")?.value).toBe(3)
    const plan = planAllotted(allotment, [cpu, gpu], [])
    expect(plan.submissions.map((s) => [s.partition, s.count])).toEqual([
      ["cpu", 7],
      ["gpu", 2],
    ])
    expect(allotmentLines(allotment)[0]).toBe(
      "server allotment: 9 glideins (normal): [cpu] 7, [gpu] 2",
    )
  })

  test("askAllotment() gets the server's policy: a per-round cap", async () => {
    const policy = {
      defaults: { ...(await import("../../allotment/allot-policy.ts")).DEFAULT_TERMS, perRound: 4 },
      sites: {},
    }
    const allotment = await askAllotment(URL, "site-a", [cpu, gpu], true, app(policy))
    expect(allotment === "unsupported" ? 0 : allotment.total).toBe(4)
  })

  test("askAllotment() says unsupported when the server has no such method (pyglidein's)", async () => {
    const fetch = async (_url: string, init: RequestInit) => {
      const { id } = JSON.parse(String(init.body)) as { id: number }
      const error = { code: -32601, message: "Method not found" }
      return Response.json({ jsonrpc: "2.0", error, id })
    }
    expect(await askAllotment(URL, "site-a", [cpu], false, { fetch })).toBe("unsupported")
  })

  test("askAllotment() refuses a hostile allotment with text for a submit file", async () => {
    const fetch = async (_url: string, init: RequestInit) => {
      const { id } = JSON.parse(String(init.body)) as { id: number }
      const result = {
        uuid: "a",
        at: 0,
        total: 1,
        state: "normal",
        partitions: [
          { partition: "cpu", count: 1, rows: [{ ...row(1), os: "el7\n#SBATCH --uid=0" }] },
        ],
        terms: [],
      }
      return Response.json({ jsonrpc: "2.0", result, id })
    }
    const error = await askAllotment(URL, "a", [cpu], false, { fetch }).catch((e) => e)
    expect(error.message).toContain(
      "get_allotment reply is not an allotment (partitions.0.rows.0.os",
    )
  })

  test("serve's get_allotment refuses params that are not a site's partitions", async () => {
    const { fetch } = app()
    const body = JSON.stringify({
      jsonrpc: "2.0",
      method: "get_allotment",
      params: { uuid: "a" },
      id: 1,
    })
    const reply = (await (await fetch(URL, { method: "POST", body })).json()) as {
      error: { code: number }
    }
    expect(reply.error.code).toBe(-32602)
  })

  test("the status page shows each asking site's latest allotment, with its terms on hover", async () => {
    const { fetch } = app()
    const report = {
      jsonrpc: "2.0",
      method: "monitoring",
      params: {
        uuid: "page-site",
        timestamp: NOW / 1000,
        metrics: { glideins_running: { cpu: 0 }, glideins_idle: { cpu: 3 }, glideins_launched: {} },
      },
      id: 1,
    }
    await fetch(URL, { method: "POST", body: JSON.stringify(report) })
    const allotment = await askAllotment(URL, "page-site", [cpu, gpu], false, { fetch })
    if (allotment === "unsupported") throw new Error("unsupported")
    const page = await (await fetch("http://pool.example.org:11001/", { method: "GET" })).text()
    expect(page).toContain(">Allotment</th>")
    expect(page).toContain(`>${allotment.total} (normal)</td>`)
    expect(page).toContain("share ")
  })
})
