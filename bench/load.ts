/**
 * `glidein serve` under sustained mixed load: wrk holds 200 connections for 60 s, mixing
 * get_state (what every site asks), monitoring (what every site reports, from 400 distinct
 * sites, each from an address of its own through X-Forwarded-For as behind a proxy: the store
 * refuses new sites beyond 500, and one address adds 16 an hour) and GET / (the status page), while
 * a probe measures each kind's latency as one more client would see it.
 *
 *   bun bench/load.ts [--seconds 60] [--connections 200] [--idle 30] [--smoke]
 *
 * Reports throughput (and its ratio to get_state alone on the same server, measured just
 * before), latency (p50/p99 overall from wrk, per kind from the probe), errors (non-2xx,
 * socket errors and timeouts, probe failures) and the server's RSS (VmRSS from /proc): at start, after
 * a warm-up and a pause (the level before the load), at its peak during the load, and after
 * the load and a pause of --idle seconds. Judged: no errors, and RSS back within
 * max(16 MB, 15 %) of its level before the load (see docs/security.md for why).
 * `--smoke` runs 5 s for CI. Needs wrk (Debian: apt-get install wrk); without it, skips.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { parseArgs } from "node:util"
import { GET_STATE_LUA, parseWrk, type WrkReport } from "./lib/wrk.ts"

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    seconds: { type: "string", default: "60" },
    connections: { type: "string", default: "200" },
    idle: { type: "string", default: "30" },
    smoke: { type: "boolean" },
  },
})
const seconds = values.smoke ? 5 : Number(values.seconds)
const connections = Number(values.connections)
const idleS = values.smoke ? 10 : Number(values.idle)
const warmupS = values.smoke ? 2 : 10
/** The reference: the same server, get_state only, just before the mixed load. */
const referenceS = values.smoke ? 2 : 10

const wrk = Bun.which("wrk")
if (wrk === null) {
  console.log("bench/load: wrk not found; skipped. Install it with: apt-get install wrk")
  process.exit(0)
}

const MAIN = resolve(import.meta.dir, "../src/main.ts")
const dir = mkdtempSync(join(tmpdir(), "glidein-load-"))

/** Out of every 20 requests: 14 get_state, 5 monitoring, 1 status page. */
const LUA = `
local counter = 0
local threads = {}
local get_state = '{"jsonrpc": "2.0", "method": "get_state", "params": {}, "id": 1}'
local json = { ["Content-Type"] = "application/json" }

function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

function request()
  counter = counter + 1
  local slot = counter % 20
  if slot < 14 then
    return wrk.format("POST", "/jsonrpc", json, get_state)
  elseif slot < 19 then
    -- thread_id is the global setup() gave this thread's Lua state.
    local site = ((thread_id or 0) * 7919 + counter) % 400
    local headers = { ["Content-Type"] = "application/json",
      ["X-Forwarded-For"] = "10.0." .. math.floor(site / 256) .. "." .. (site % 256) }
    local body = '{"jsonrpc": "2.0", "method": "monitoring", "params": {"uuid": "load' .. site ..
      '@login.example.org", "timestamp": 1763726400, "metrics": {"glideins_running": {"Cluster": ' ..
      (counter % 50) .. '}, "glideins_idle": {"Cluster": 1}, "glideins_launched": {"Cluster": 1}}}, "id": ' ..
      counter .. '}'
    return wrk.format("POST", "/jsonrpc", headers, body)
  else
    return wrk.format("GET", "/")
  end
end
`

function rssMB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) / 1024
}

function loadAverage(): string {
  return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")
}

async function runWrk(url: string, script: string, durationS: number): Promise<WrkReport> {
  const proc = Bun.spawn(
    [
      wrk!,
      "-t2",
      `-c${connections}`,
      `-d${durationS}s`,
      "--timeout",
      "10s",
      "--latency",
      "-s",
      script,
      url,
    ],
    { stdout: "pipe", stderr: "pipe" },
  )
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ])
  if (code !== 0) throw new Error(`wrk failed:\n${out}${err}`)
  return parseWrk(out)
}

const REPORT = JSON.stringify({
  jsonrpc: "2.0",
  method: "monitoring",
  params: {
    uuid: "probe@bench",
    timestamp: 1763726400,
    metrics: { glideins_running: { Cluster: 1 } },
  },
  id: 1,
})
const PROBES: Record<string, RequestInit & { path: string }> = {
  get_state: {
    path: "/jsonrpc",
    method: "POST",
    body: '{"jsonrpc": "2.0", "method": "get_state", "params": {}, "id": 7}',
  },
  monitoring: { path: "/jsonrpc", method: "POST", body: REPORT },
  "GET /": { path: "/", method: "GET" },
}

/** One more client, 10 requests a second of each kind, timing each; stops when told. */
async function probe(url: string, stop: { done: boolean }) {
  const times: Record<string, number[]> = Object.fromEntries(
    Object.keys(PROBES).map((k) => [k, []]),
  )
  let failures = 0
  while (!stop.done) {
    for (const [kind, { path, ...init }] of Object.entries(PROBES)) {
      const started = performance.now()
      try {
        const res = await fetch(`${url}${path}`, init)
        await res.arrayBuffer()
        if (!res.ok) failures++
        times[kind]!.push(performance.now() - started)
      } catch {
        failures++
      }
    }
    await Bun.sleep(100)
  }
  return { times, failures }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN
}

const server = Bun.spawn(
  [
    process.execPath,
    MAIN,
    "serve",
    "--demo",
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--db",
    join(dir, "serve.db"),
  ],
  // Its log goes to a file, as under systemd: an unread pipe would hold it in memory.
  { stdin: "ignore", stdout: "ignore", stderr: Bun.file(join(dir, "serve.log")) },
)
try {
  let url: string | undefined
  for (let i = 0; i < 400 && url === undefined; i++) {
    await Bun.sleep(25)
    url = /listening on (http:\/\/\S+)/.exec(readFileSync(join(dir, "serve.log"), "utf8"))?.[1]
    if (server.exitCode !== null) break
  }
  if (url === undefined)
    throw new Error(`serve did not start:\n${readFileSync(join(dir, "serve.log"), "utf8")}`)
  for (let i = 0; i < 400; i++) {
    const state = (await (await fetch(`${url}/api/state`)).json()) as { rows: unknown[] | null }
    if (state.rows !== null) break
    await Bun.sleep(25)
  }
  const script = join(dir, "mix.lua")
  writeFileSync(script, LUA)
  const rss: Record<string, number> = { start: rssMB(server.pid) }
  const loadBefore = loadAverage()

  // Warm-up with the same mix (JIT, caches, a full store), then a pause: the level before.
  await runWrk(url, script, warmupS)
  const referenceScript = join(dir, "get-state.lua")
  writeFileSync(referenceScript, GET_STATE_LUA)
  const reference = await runWrk(`${url}/jsonrpc`, referenceScript, referenceS)
  await Bun.sleep(idleS * 1000)
  rss.before = rssMB(server.pid)

  let peak = 0
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssMB(server.pid))
  }, 250)
  const stop = { done: false }
  const probing = probe(url, stop)
  const result = await runWrk(url, script, seconds)
  stop.done = true
  clearInterval(sampler)
  const probed = await probing
  rss.peak = peak
  const loadAfter = loadAverage()
  await Bun.sleep(idleS * 1000)
  rss.after = rssMB(server.pid)
  const health = await fetch(`${url}/healthz`)

  const margin = Math.max(16, rss.before! * 0.15)
  const back = rss.after! <= rss.before! + margin
  const errors =
    result.non2xx +
    reference.non2xx +
    (result.socketErrors || reference.socketErrors ? 1 : 0) +
    probed.failures
  console.log(
    `serve under load: wrk -t2 -c${connections} -d${seconds}s, 14 get_state : 5 monitoring (400 sites) : 1 GET / per 20 requests`,
  )
  console.log(`  load average before ${loadBefore}, after ${loadAfter} (2 cores, shared)`)
  console.log(
    `  throughput   ${result.rps.toFixed(0)} req/s (${result.requests.toLocaleString("en-US")} requests): ${((100 * result.rps) / reference.rps).toFixed(0)} % of get_state alone on the same server (${reference.rps.toFixed(0)} req/s, p99 ${reference.p99.toFixed(2)} ms, ${referenceS} s just before)`,
  )
  console.log(
    `  latency      p50 ${result.p50.toFixed(2)} ms  p99 ${result.p99.toFixed(2)} ms (all kinds, wrk)`,
  )
  for (const [kind, list] of Object.entries(probed.times)) {
    const sorted = [...list].sort((a, b) => a - b)
    console.log(
      `  ${kind.padEnd(12)} p50 ${percentile(sorted, 50).toFixed(2)} ms  p99 ${percentile(sorted, 99).toFixed(2)} ms  (probe, ${sorted.length} requests)`,
    )
  }
  console.log(
    `  errors       ${result.non2xx} non-2xx, socket: ${result.socketErrors || "none"}, probe failures: ${probed.failures}`,
  )
  console.log(
    `  RSS          start ${rss.start!.toFixed(0)} MB, before the load ${rss.before!.toFixed(0)} MB, peak ${rss.peak!.toFixed(0)} MB, after ${idleS} s idle ${rss.after!.toFixed(0)} MB (${rss.after! >= rss.before! ? "+" : ""}${(rss.after! - rss.before!).toFixed(0)} MB; margin ${margin.toFixed(0)} MB: ${back ? "back to its level" : "NOT back"})`,
  )
  console.log(`  /healthz after: ${health.status}`)
  // A smoke run (CI, shared machine) fails on wrong answers and a server that stopped
  // answering; socket timeouts and the memory margin depend on the machine's load and are
  // judged in full runs only.
  const wrong = result.non2xx + reference.non2xx + probed.failures > 0 || health.status !== 200
  if (wrong || (!values.smoke && (errors > 0 || !back))) process.exitCode = 1
} finally {
  server.kill("SIGTERM")
  await server.exited
  rmSync(dir, { recursive: true, force: true })
}
