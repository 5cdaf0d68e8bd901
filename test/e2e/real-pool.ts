/**
 * @module
 * Scenario `<cluster>/real-pool`, run when GLIDEIN_TEST_CONDOR names a real HTCondor install
 * (a `make install` prefix or an unpacked release): a loopback central manager run by the site
 * user (src/runtime/loopback-pool.ts), real jobs in its queue, `glidein serve` polling its real
 * condor_q, `glidein tarball build` from the same install with a pool token, and `glidein
 * submit` on the suite's real batch system. The glideins must join the pool, run every job
 * with its output, and leave when idle, with no failed batch job.
 */
import { chownSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import {
  freePort,
  glideinToken,
  type LoopbackPool,
  ONE_HOST_GLIDEIN_ENV,
  poolTool,
  startLoopbackPool,
  stopLoopbackPool,
  until,
} from "../../src/runtime/loopback-pool.ts"
import type { Cluster } from "./batch.ts"
import { check, run, runOk, tail } from "./harness.ts"
import type { Context } from "./pool.ts"

/** The real install, or undefined: then the scenario is not run. */
export const REAL_CONDOR = process.env.GLIDEIN_TEST_CONDOR || undefined

const JOB = `#!/bin/sh
echo "site=\${GLIDEIN_Site-unset} condor_config=\${CONDOR_CONFIG-unset} host=$(hostname)"
sleep 5
`

/** Scenario `<cluster>/real-pool` (see the module comment). */
export async function realPoolScenario(ctx: Context, c: Cluster): Promise<string> {
  const condor = REAL_CONDOR as string
  const dir = join(ctx.work, `${c.name}-real`)
  const state = join(dir, "state")
  const poolDir = join(dir, "pool")
  for (const d of [dir, state, poolDir]) {
    mkdirSync(d, { recursive: true, mode: 0o755 })
    chownSync(d, ctx.user.uid, ctx.user.gid)
  }
  const u = ctx.user
  const as = (argv: string[]) => [
    "setpriv",
    `--reuid=${u.uid}`,
    `--regid=${u.gid}`,
    "--init-groups",
    ...argv,
  ]
  const pool = await startLoopbackPool(condor, poolDir, as)
  let server: ReturnType<typeof Bun.spawn> | undefined
  try {
    /** A tarball built by the site's own binary from the same install with pool token
     *  `token`, owned by the site user. */
    const tokenTarball = async (name: string, token: string) => {
      const tokenFile = join(dir, `${name}.token`)
      writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 })
      const built = join(dir, `${name}.tar.gz`)
      const collector = `127.0.0.1:${pool.port}`
      await runOk([
        ...[ctx.bin, "tarball", "build", "--condor", condor],
        ...["--token", tokenFile, "--collector", collector, "-o", built],
      ])
      chownSync(built, u.uid, u.gid)
      return built
    }
    const tarball = await tokenTarball("glidein", glideinToken(pool))

    // Real jobs: two plain ones and a two-core one that needs the glidein's own attributes.
    const jobs = join(poolDir, "jobs")
    const submits: { [name: string]: string[] } = {
      plain: ["request_cpus = 1", "queue 2"],
      multi: [
        "request_cpus = 2",
        "requirements = (IS_GLIDEIN =?= True) && (PYGLIDEIN_TIME_TO_LIVE > 300) && (GLIDEIN_BatchJobId =!= undefined)",
        "queue 1",
      ],
    }
    writeJobFile(pool, join(jobs, "job.sh"), JOB)
    Bun.spawnSync(as(["chmod", "755", join(jobs, "job.sh")]))
    for (const [name, lines] of Object.entries(submits)) {
      const text = [
        "executable = job.sh",
        `output = ${name}.$(Process).out`,
        `error = ${name}.$(Process).err`,
        "log = jobs.log",
        "should_transfer_files = YES",
        "request_memory = 200",
        "request_disk = 10000",
        ...lines,
      ].join("\n")
      writeJobFile(pool, join(jobs, `${name}.sub`), text)
      const r = poolTool(pool, "condor_submit", [`${name}.sub`], jobs)
      check(r.code === 0, `condor_submit ${name}.sub failed`, r.out)
    }

    // glidein serve on the pool's real condor_q.
    const condorQ = join(dir, "condor_q")
    writeFileSync(
      condorQ,
      // the server runs as root, which HTCondor's tools accept with the pool's account named
      `#!/bin/sh\nCONDOR_IDS=${u.uid}.${u.gid} CONDOR_CONFIG=${pool.env.CONDOR_CONFIG} exec ${condor}/bin/condor_q "$@"\n`,
      { mode: 0o755 },
    )
    // …and on its real condor_status: which glideins joined, what they ran.
    const tool = (name: string) => {
      const path = join(dir, name)
      writeFileSync(
        path,
        `#!/bin/sh\nCONDOR_IDS=${u.uid}.${u.gid} CONDOR_CONFIG=${pool.env.CONDOR_CONFIG} exec ${condor}/bin/${name} "$@"\n`,
        { mode: 0o755 },
      )
      return path
    }
    const port = freePort()
    const log = Bun.file(join(dir, "server.log"))
    server = Bun.spawn(
      [
        ctx.bin,
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        String(port),
        "--condor-q",
        condorQ,
        "--condor-status",
        tool("condor_status"),
        "--condor-history",
        tool("condor_history"),
        "--db",
        join(dir, "server.db"),
        "--delay",
        "2",
      ],
      { stdin: "ignore", stdout: log, stderr: log, cwd: dir },
    )
    const url = `http://127.0.0.1:${port}`
    const demandSeen = await until(30, () => {
      const r = Bun.spawnSync(["curl", "-sf", `${url}/api/state`])
      return r.exitCode === 0 && /"count":\s*[1-9]/.test(r.stdout.toString())
    })
    check(demandSeen, "glidein serve never showed the real queue's demand", serverLog(dir))

    // glidein submit on the real batch system, as the site user.
    /** Writes a site config for `tarball`, runs `glidein submit` as the site user, and
     *  returns the batch jobs it added. */
    const submitSite = async (site: string, siteTarball: string, siteState: string) => {
      const config = join(dir, `${site}.ini`)
      const customEnv = {
        NOCLAIMTIME: "60",
        _condor_UPDATE_INTERVAL: "15",
        ...ONE_HOST_GLIDEIN_ENV,
      }
      writeFileSync(
        config,
        [
          "[Mode]",
          "debug = True",
          "[Glidein]",
          `address = ${url}/jsonrpc`,
          `site = ${site}`,
          `uuid = ${site}-${c.name}`,
          `tarball = ${siteTarball}`,
          "[Cluster]",
          ...c.configLines,
          "walltime_hrs = 0.5",
          "max_total_jobs = 2",
          "max_idle_jobs = 2",
          "limit_per_submit = 2",
          "[CustomEnv]",
          ...Object.entries(customEnv).map(([k, v]) => `${k} = ${v}`),
          "",
        ].join("\n"),
      )
      chownSync(config, u.uid, u.gid)
      const env = {
        PATH: "/usr/local/bin:/usr/bin:/bin",
        HOME: u.home,
        LOGNAME: u.name,
        SHELL: "/bin/sh",
        GLIDEIN_STATE_DIR: siteState,
        ...c.clientEnv,
      }
      const before = new Set((await c.jobs(u.name)).map((j) => j.id))
      const submitted = await run([ctx.bin, "submit", "--config", config], {
        user: u,
        env,
        cwd: dir,
        timeoutMs: 90_000,
      })
      check(
        submitted.code === 0,
        `${site}: glidein submit exited ${submitted.code}`,
        submitted.stderr,
      )
      const added = (await c.jobs(u.name)).map((j) => j.id).filter((id) => !before.has(id))
      check(
        added.length > 0,
        `${site}: glidein submit submitted no glidein`,
        submitted.stdout + submitted.stderr,
      )
      return added
    }
    /** Waits up to 300 s for the batch jobs `ids` to end; true when they did. */
    const ended = async (ids: string[]) => {
      let left = ids
      for (let i = 0; i < 100 && left.length > 0; i++) {
        await Bun.sleep(3000)
        const now = new Set((await c.jobs(u.name)).map((j) => j.id))
        left = ids.filter((id) => now.has(id))
      }
      return left.length === 0
    }
    const ours = await submitSite("E2E-Real", tarball, state)

    // Every job runs on a glidein and completes with its output.
    const done = await until(
      300,
      () => poolTool(pool, "condor_q", ["-af", "ClusterId"]).out.trim() === "",
    )
    const history = poolTool(pool, "condor_history", ["-af:,", "ExitCode", "LastRemoteHost"]).out
    check(
      done,
      "the pool's jobs did not all complete within 300 s",
      `${history}\n${await batchTail(state)}`,
    )
    const ran = history.split("\n").filter((l) => /^0, slot1_\d+@glidein_/.test(l))
    check(ran.length === 3, `${ran.length} of 3 jobs completed with status 0 on glideins`, history)
    // The pool's side saw the site's glideins join, start the jobs and complete them (the
    // schedd's history is read after the next condor_status poll).
    type Funnel = { sites?: { uuid: string; jobsStarted: number; jobsCompleted: number }[] }
    let funnelBody = ""
    const counted = await until(30, () => {
      funnelBody = Bun.spawnSync(["curl", "-sf", `${url}/api/funnel`]).stdout.toString()
      const funnel = JSON.parse(funnelBody || "{}") as Funnel
      const seen = funnel.sites?.find((s) => s.uuid === `E2E-Real-${c.name}`)
      return seen !== undefined && seen.jobsStarted >= 3 && seen.jobsCompleted >= 3
    })
    check(
      counted,
      "/api/funnel does not show the site's glideins starting and completing the 3 jobs",
      `${funnelBody}\n${serverLog(dir)}`,
    )
    const output = readFileSync(join(jobs, "multi.0.out"), "utf8")
    check(
      output.includes("site=E2E-Real condor_config=unset"),
      "the two-core job did not see GLIDEIN_Site, or saw the glidein's CONDOR_CONFIG",
      output,
    )

    // Idle glideins leave by themselves; no batch job failed.
    const gone = await ended(ours)
    const outputs = await batchTail(state)
    check(gone, "the idle glideins did not leave within 300 s", outputs)
    check(!/glidein: exit status [1-9]/.test(outputs), "a glidein's batch job failed", outputs)
    // A glidein with a forged token is never claimed, fails its batch job and says why.
    const forged = await tokenTarball("forged", `${glideinToken(pool).slice(0, -6)}AAAAAA`)
    const forgedState = join(dir, "forged-state")
    mkdirSync(forgedState, { mode: 0o755 })
    chownSync(forgedState, u.uid, u.gid)
    // demand for it: one more job, which it cannot run
    const queued = poolTool(pool, "condor_submit", ["plain.sub"], jobs)
    check(queued.code === 0, "condor_submit plain.sub failed", queued.out)
    const demand = await until(30, () => {
      const r = Bun.spawnSync(["curl", "-sf", `${url}/api/state`])
      return r.exitCode === 0 && /"count":\s*[1-9]/.test(r.stdout.toString())
    })
    check(demand, "glidein serve never showed the new demand", serverLog(dir))
    const refused = await submitSite("E2E-Forged", forged, forgedState)
    const refusedEnded = await ended(refused)
    const refusedOutput = await batchTail(forgedState, 100_000)
    check(refusedEnded, "the glidein with a forged token did not end within 300 s", refusedOutput)
    check(
      refusedOutput.includes("glidein: never claimed, and the logs say why:") &&
        /glidein: exit status 3\b/.test(refusedOutput),
      "the glidein with a forged token did not fail with exit status 3 and the lines that say why",
      refusedOutput,
    )

    return `3 real jobs ran on ${ours.length} glideins from glidein submit (batch jobs ${ours.join(", ")}), which left when idle; a glidein with a forged token failed with status 3 and the log lines that say why`
  } finally {
    server?.kill("SIGKILL")
    await stopLoopbackPool(pool)
  }
}

/** Writes a file the pool's account owns. */
function writeJobFile(pool: LoopbackPool, path: string, text: string): void {
  Bun.spawnSync(pool.as(["sh", "-c", `cat > "${path}"`]), { stdin: Buffer.from(text) })
}

function serverLog(dir: string): string {
  return tail(readFileSync(join(dir, "server.log"), "utf8"), 30)
}

/** The ends (last `lines` lines) of the batch jobs' output files under the site's state folder. */
async function batchTail(state: string, lines = 12): Promise<string> {
  const out: string[] = []
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name)
      if (e.isDirectory()) walk(path)
      else if (/\.(out|err)$/.test(e.name))
        out.push(`--- ${path}\n${tail(readFileSync(path, "utf8"), lines)}`)
    }
  }
  walk(state)
  return out.join("\n")
}
