/**
 * @module
 * The pool side of the suite: the run directory (site binary, stand-in HTCondor install,
 * fake condor_q, results folder), `glidein serve`, and the scenarios that need no cluster:
 * the server's demand, the tarball, and the server's shutdown.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs"
import { writeFile } from "node:fs/promises"
import { join } from "node:path"
import { ApiStateSchema } from "../../src/protocol/api.ts"
import { type DemandRow, parseDemand } from "../../src/protocol/demand.ts"
import { DEMAND_LINES, EXPECTED_DEMAND, MASTER_CAP_S, POOL_PASSWORD } from "./expected.ts"
import { check, lookupUser, runOk, show, tail, type User, waitFor } from "./harness.ts"

export interface Context {
  work: string
  bin: string
  user: User
  e2eDir: string
  results: string
  pool: string
  condor: string
  tarball: string
  port: number
  serverUrl: string
}

/** The run directory: binary, stand-in install, fake condor_q, results folder. */
export async function prepare(
  work: string,
  bin: string,
  e2eDir: string,
  userName: string,
): Promise<Context> {
  const user = await lookupUser(userName)
  mkdirSync(work, { recursive: true, mode: 0o755 })
  chmodSync(work, 0o755)
  // The site user runs its own copy, as a site would after `scp`.
  const siteBin = join(work, "glidein")
  copyFileSync(bin, siteBin)
  chmodSync(siteBin, 0o755)
  // Masters run as the site user and write here; sticky so they cannot touch each other's.
  const results = join(work, "results")
  mkdirSync(results, { recursive: true })
  chmodSync(results, 0o1777)
  const condor = join(work, "condor")
  await runOk([
    join(import.meta.dir, "standin/make-condor.sh"),
    condor,
    results,
    String(MASTER_CAP_S),
  ])
  const pool = join(work, "pool")
  mkdirSync(pool, { recursive: true })
  copyFileSync(join(import.meta.dir, "standin/condor_q"), join(pool, "condor_q"))
  chmodSync(join(pool, "condor_q"), 0o755)
  await writeFile(join(pool, "demand.txt"), `${DEMAND_LINES.join("\n")}\n`)
  await writeFile(join(work, "pool_password"), POOL_PASSWORD, { mode: 0o600 })
  const port = await freePort()
  return {
    work,
    bin: siteBin,
    user,
    e2eDir,
    results,
    pool,
    condor,
    tarball: join(work, "glidein.tar.gz"),
    port,
    serverUrl: `http://127.0.0.1:${port}`,
  }
}

/** A TCP port nobody listens on at the moment. */
async function freePort(): Promise<number> {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } })
  const { port } = listener
  listener.stop(true)
  return port
}

export type Server = ReturnType<typeof startServer>

/** `glidein serve` on a free port, over the fake condor_q, polling every second. */
export function startServer(ctx: Context) {
  const log = Bun.file(join(ctx.work, "server.log"))
  const argv = [
    ctx.bin,
    "serve",
    "--host",
    "127.0.0.1",
    "--port",
    String(ctx.port),
    "--condor-q",
    join(ctx.pool, "condor_q"),
    "--db",
    join(ctx.work, "server.db"),
    "--delay",
    "1",
  ]
  return Bun.spawn(argv, { stdin: "ignore", stdout: log, stderr: log, cwd: ctx.work })
}

/** The end of the server's log, for failure details. */
function serverLog(ctx: Context): string {
  const path = join(ctx.work, "server.log")
  return existsSync(path)
    ? `--- server.log (last lines)\n${tail(readFileSync(path, "utf8"), 30)}`
    : ""
}

// ---------------------------------------------------------------------------------- serve

/** Scenario `all/serve`: the fake queue's demand on /api/state and get_state; how condor_q was run. */
export async function serveScenario(ctx: Context, server: Server): Promise<string> {
  let last = ""
  const rows = await waitFor(
    "the server to publish the fake condor_q's demand on /api/state",
    20,
    async () => {
      check(server.exitCode === null, `glidein serve exited ${server.exitCode}`, serverLog(ctx))
      try {
        const res = await fetch(`${ctx.serverUrl}/api/state`)
        last = `GET /api/state → ${res.status} ${await res.clone().text()}`
        if (!res.ok) return undefined
        const state = ApiStateSchema.safeParse(await res.json())
        check(state.success, "GET /api/state is not the API's state object", last)
        const found = state.data.rows
        return found && found.length > 0 ? found : undefined
      } catch (error) {
        last = `GET /api/state: ${(error as Error).message}`
        return undefined
      }
    },
    250,
    () => `${last}\n${serverLog(ctx)}`,
  )
  check(
    sameDemand(rows, EXPECTED_DEMAND),
    "/api/state is not the fake condor_q's demand",
    show(rows),
  )

  const health = await fetch(`${ctx.serverUrl}/healthz`)
  check(health.ok, `GET /healthz answered ${health.status}`)

  const rpc = await fetch(`${ctx.serverUrl}/jsonrpc`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "get_state", params: {} }),
  })
  const reply = (await rpc.json()) as { result?: unknown }
  // Read as a site reads it.
  let rpcRows: DemandRow[] = []
  try {
    rpcRows = parseDemand(reply.result, "get_state").rows
  } catch (error) {
    check(false, `JSON-RPC get_state: ${(error as Error).message}`, show(reply))
  }
  check(
    sameDemand(rpcRows, EXPECTED_DEMAND),
    "JSON-RPC get_state does not return the demand",
    show(reply),
  )

  // condor_q was asked for idle jobs, with the constraint as one argument (no shell).
  const calls = readFileSync(join(ctx.pool, "calls.log"), "utf8")
    .split("\n\n")
    .filter((c) => c.trim() !== "")
    .map((c) => c.split("\n"))
  const query = calls.find((args) => args.some((a) => a.startsWith("-af")))
  check(
    query !== undefined,
    "condor_q was never run with -af",
    calls.map((c) => c.join(" ")).join("\n"),
  )
  for (const want of ["RequestCpus", "RequestMemory", "RequestDisk", "RequestGpus"]) {
    check(query.includes(want), `condor_q was not asked for ${want}`, query.join("\n"))
  }
  check(
    query.some((a) => /^JobStatus\s*==\s*1$/.test(a.trim())),
    'condor_q was not given "JobStatus == 1" as one argument',
    query.join("\n"),
  )
  return `demand ${EXPECTED_DEMAND.map((d) => `${d.count}×(${d.cpus} cpu, ${d.memory} MB, ${d.gpus} gpu)`).join(" + ")} on /api/state and get_state; condor_q ran ${calls.length}×`
}

/** What sameDemand() compares. */
interface DemandCounts {
  cpus: number
  memory: number
  disk: number
  gpus: number
  count: number
}

/** Same rows, in any order (the `os` column is not compared). */
function sameDemand(rows: DemandCounts[], expected: DemandCounts[]): boolean {
  const key = (r: DemandCounts) => `${r.cpus}/${r.memory}/${r.disk}/${r.gpus}/${r.count}`
  return (
    JSON.stringify(rows.map(key).sort()) === JSON.stringify(expected.map(key).sort()) &&
    rows.length === expected.length
  )
}

// -------------------------------------------------------------------------------- tarball

/** Scenario `all/tarball`: build from the stand-in install, inject the password, check the archive. */
export async function tarballScenario(ctx: Context): Promise<string> {
  const bare = join(ctx.work, "glidein-nopw.tar.gz")
  const built = await runOk([ctx.bin, "tarball", "build", "--condor", ctx.condor, "-o", bare], {
    cwd: ctx.work,
  })
  await runOk(
    [
      ctx.bin,
      "tarball",
      "inject-password",
      bare,
      "--password",
      join(ctx.work, "pool_password"),
      "-o",
      ctx.tarball,
    ],
    { cwd: ctx.work },
  )
  const mode = (await Bun.file(ctx.tarball).stat()).mode & 0o777
  check(mode === 0o600, `the tarball with the password has mode ${mode.toString(8)}, want 600`)

  const before = await listing(bare)
  const after = await listing(ctx.tarball)
  const pw = after.find((e) => /(^|\/)passwdfile$/.test(e.name))
  check(pw !== undefined, "no passwdfile in the tarball", after.map((e) => e.line).join("\n"))
  check(pw.mode === "-rw-------", `passwdfile has mode ${pw.mode}, want -rw-------`)
  const tar = Bun.spawn(["tar", "-xzOf", ctx.tarball, pw.name], { stdout: "pipe" })
  const extracted = Buffer.from(await new Response(tar.stdout).arrayBuffer())
  check((await tar.exited) === 0, "tar could not extract passwdfile")
  check(
    extracted.equals(POOL_PASSWORD),
    `passwdfile differs from the pool password (${extracted.length} bytes, want ${POOL_PASSWORD.length})`,
  )
  for (const daemon of ["condor_master", "condor_startd", "condor_starter"]) {
    check(
      after.some((e) => e.name.endsWith(`sbin/${daemon}`) && e.mode.includes("x")),
      `no executable sbin/${daemon} in the tarball`,
      after.map((e) => e.line).join("\n"),
    )
  }
  // Injecting changes nothing else.
  const describe = (entries: Entry[]) =>
    entries.filter((e) => e.name !== pw.name).map((e) => `${e.name} ${e.mode} ${e.size}`)
  check(
    JSON.stringify(describe(before)) === JSON.stringify(describe(after)),
    "inject-password changed entries other than passwdfile",
    `before:\n${describe(before).join("\n")}\nafter:\n${describe(after).join("\n")}`,
  )
  const size = (await Bun.file(ctx.tarball).stat()).size
  return `${after.length} entries, ${size} bytes, passwdfile ${POOL_PASSWORD.length} bytes byte-exact, mode 0600 (build ${built.seconds.toFixed(1)} s)`
}

interface Entry {
  name: string
  mode: string
  size: number
  line: string
}

/** `tar -tvzf` of an archive, one entry per line. */
async function listing(path: string): Promise<Entry[]> {
  const r = await runOk(["tar", "--numeric-owner", "-tvzf", path])
  return r.stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((line) => {
      // -rwxr-xr-x 0/0 1234 2024-01-01 00:00 name
      const f = line.split(/\s+/)
      return { mode: f[0]!, size: Number(f[2]), name: f.slice(5).join(" "), line }
    })
}

/** Scenario `all/shutdown`: `glidein serve` exits 0 on SIGTERM. */
export async function shutdownScenario(server: Server): Promise<string> {
  const started = performance.now()
  server.kill("SIGTERM")
  const code = await Promise.race([server.exited, Bun.sleep(10_000).then(() => "timeout" as const)])
  check(code !== "timeout", "glidein serve did not exit within 10 s of SIGTERM")
  check(code === 0, `glidein serve exited ${code} after SIGTERM, want 0`)
  return `SIGTERM → exit 0 in ${((performance.now() - started) / 1000).toFixed(1)} s`
}
