import { describe, expect, test } from "bun:test"
import type { ApiClients, ApiState } from "../protocol/api.ts"
import { formatTable, renderStatusText } from "./status-text.ts"

const NOW = Date.UTC(2026, 10, 21, 12)
const iso = (ms: number) => new Date(ms).toISOString()

const STATE: ApiState = {
  updated: iso(NOW - 180_000),
  age_s: 180,
  error: null,
  error_at: null,
  last_poll: iso(NOW - 180_000),
  next_poll: iso(NOW + 120_000),
  source: "condor_q",
  jobs: 1127,
  bad_lines: 0,
  rows: [
    { cpus: 1, memory: 4000, disk: 10000, gpus: 0, os: "centos7", count: 1120 },
    { cpus: 1, memory: 12000, disk: 3146, gpus: 1, os: null, count: 7 },
  ],
}

const CLIENTS: ApiClients = {
  updated: iso(NOW - 60_000),
  age_s: 60,
  error: null,
  stale_after_s: 1800,
  clients: [
    {
      uuid: "alice@login1",
      token_name: "alberta",
      first_seen: iso(NOW - 86_400_000),
      last_report: iso(NOW - 60_000),
      age_s: 60,
      stale: false,
      client_timestamp: null,
      running: 12,
      idle: 3,
      launched: 5,
      metrics: {},
    },
    {
      uuid: "bob\u001b[31m@evil",
      token_name: null,
      first_seen: iso(NOW - 86_400_000),
      last_report: iso(NOW - 7_200_000),
      age_s: 7200,
      stale: true,
      client_timestamp: null,
      running: 0,
      idle: 0,
      launched: 0,
      metrics: {},
    },
  ],
}

describe("renderStatusText()", () => {
  test("shows the poll, the demand and the sites in aligned columns", () => {
    expect(renderStatusText("http://pool:11001", STATE, CLIENTS, NOW)).toBe(
      [
        "Server http://pool:11001",
        "  condor_q ok, polled 3 min ago, next in 2 min",
        "",
        "Demand: 1,127 idle jobs in 2 rows",
        "   JOBS  CPUS  MEMORY MB  DISK MB  GPUS  OS",
        "  1,120     1      4,000   10,000     0  centos7",
        "      7     1     12,000    3,146     1  any",
        "",
        "Sites: 2 (1 reporting, 1 stale after 30 min)",
        "  SITE                    LAST REPORT  RUNNING  IDLE  LAUNCHED  STATE",
        "  alberta (alice@login1)  1 min ago         12     3         5  ok",
        "  bob\\u001b[31m@evil      2 h ago            0     0         0  stale",
        "",
      ].join("\n"),
    )
  })

  test("says when condor_q fails and which table is served meanwhile", () => {
    const text = renderStatusText(
      "http://pool:11001",
      { ...STATE, error: "condor_q exited with status 1: no schedd", error_at: iso(NOW - 600_000) },
      { ...CLIENTS, clients: [] },
      NOW,
    )
    expect(text).toContain(
      "  condor_q FAILING (10 min ago): condor_q exited with status 1: no schedd\n",
    )
    expect(text).toContain("  serving the last good table, polled 3 min ago, next in 2 min\n")
    expect(text).toContain("Sites: none has reported yet\n")
  })

  test("says which partitions a site could not count instead of ok", () => {
    const failing = { ...CLIENTS.clients[0]!, metrics: { count_failed: { gpu: 1, cpu: 0 } } }
    const text = renderStatusText(
      "http://pool:11001",
      STATE,
      { ...CLIENTS, clients: [failing] },
      NOW,
    )
    expect(text).toContain(
      "  alberta (alice@login1)  1 min ago         12     3         5  count failed: gpu\n",
    )
  })

  test("says when there is no table yet", () => {
    const text = renderStatusText(
      "http://pool:11001",
      { ...STATE, rows: null, updated: null, jobs: 0, error: "condor_q not found" },
      CLIENTS,
      NOW,
    )
    expect(text).toContain("no demand table yet")
    expect(text).toContain("Demand: none yet")
  })

  test("shows a server's bidi overrides and line separators, never obeys them", () => {
    const text = renderStatusText(
      "http://pool:11001",
      {
        ...STATE,
        error: "condor_q failed\u202e gnp.exe\u2028forged line",
        error_at: iso(NOW),
        rows: [{ ...STATE.rows![0]!, os: "centos7\u202e" }],
      },
      { ...CLIENTS, clients: [{ ...CLIENTS.clients[0]!, uuid: "alice\u2066@login1" }] },
      NOW,
    )
    expect(text).toContain("condor_q failed\\u202e gnp.exe\\u2028forged line\n")
    expect(text).toContain("centos7\\u202e\n")
    expect(text).toContain("alberta (alice\\u2066@login1)")
    expect(text).not.toMatch(/[\u202e\u2066\u2028]/)
  })
})

describe("formatTable()", () => {
  test("pads to the widest cell and trims trailing space", () => {
    expect(
      formatTable(
        ["A", "NUMBER"],
        [
          ["long text", "1"],
          ["x", "100"],
        ],
        ["left", "right"],
      ),
    ).toBe("  A          NUMBER\n  long text       1\n  x             100")
  })
})
