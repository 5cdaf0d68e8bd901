import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { GLIDEIN_TARBALL } from "../client/submit/test-site.ts"
import { runGlidein } from "../test-support.ts"
import { secretsFile } from "./submit.ts"

const main = path.join(import.meta.dir, "..", "main.ts")
let dir = ""

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "glidein-cli-submit-"))
  writeFileSync(path.join(dir, "glidein.tar.gz"), GLIDEIN_TARBALL)
  writeFileSync(
    path.join(dir, "state.json"),
    JSON.stringify([{ cpus: 1, memory: 2000, disk: 10000, gpus: 0, os: null, count: 2 }]),
  )
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function config(name: string, text: string): string {
  const file = path.join(dir, name)
  writeFileSync(file, text)
  return file
}

const SITE = `[Glidein]
address = http://127.0.0.1:9/jsonrpc
cluster = pool.example.org
[Cluster]
scheduler = slurm
running_cmd = echo 0
idle_cmd = echo 0
submit_command = echo Submitted batch job 42 #
`

/** Runs `bun src/main.ts ...argv` with cron's small environment. */
function glidein(...argv: string[]) {
  return runGlidein(argv, {
    env: { PATH: "/usr/bin:/bin", HOME: dir, GLIDEIN_STATE_DIR: path.join(dir, "state") },
  })
}

describe("glidein submit (command line)", () => {
  test("glidein submit without --config is a usage error, exit 2", () => {
    const r = glidein("submit")
    expect(r.code).toBe(2)
    expect(r.stderr).toBe("glidein submit: missing --config FILE\n")
  })

  test("glidein submit --check says whether a config is usable: exit 0, or 2 with the place", () => {
    const good = glidein("submit", "--config", config("good.ini", SITE), "--check")
    expect(good.code).toBe(0)
    expect(good.stdout).toContain("usable")
    const bad = glidein(
      "submit",
      "--config",
      config(
        "bad.ini",
        SITE.replace("scheduler = slurm", "scheduler = slurm\nmax_total_jobs = lots"),
      ),
      "--check",
    )
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("bad.ini:6: [Cluster] max_total_jobs:")
  })

  test("glidein submit --check reads the tarball: a missing one, or one without a credential, is not usable", () => {
    const missing = SITE.replace("[Glidein]", "[Glidein]\ntarball = nowhere.tar.gz")
    const gone = glidein("submit", "--config", config("gone.ini", missing), "--check")
    expect(gone.code).toBe(2)
    expect(gone.stdout).toBe("")
    expect(gone.stderr).toBe(
      `glidein submit: the glidein tarball ${path.join(dir, "nowhere.tar.gz")} does not exist (make it with glidein tarball build)\n`,
    )
    // The password file itself, given as the tarball.
    writeFileSync(path.join(dir, "passwdfile"), "secret", { mode: 0o600 })
    const wrong = SITE.replace("[Glidein]", "[Glidein]\ntarball = passwdfile")
    const json = glidein("submit", "--config", config("wrong.ini", wrong), "--check", "--json")
    expect(json.code).toBe(2)
    const printed = JSON.parse(json.stdout)
    expect(printed.problems).toEqual([
      `"${path.join(dir, "passwdfile")}" is not a gzip file (a .tar.gz is expected)`,
    ])
    // The effective settings are printed all the same.
    expect(printed.Glidein.tarball).toBe("passwdfile")
    expect(printed.Cluster.scheduler).toBe("slurm")
    expect(json.stdout).not.toContain("secret")
  })

  /** A config a real run refuses: `--check` and a real run exit 2 with `why`; a dry run
   *  shows its plan, notes `why` and returns what it printed. */
  function refusedByARealRun(file: string, why: string, ...dryFlags: string[]) {
    const check = glidein("submit", "--config", file, "--check")
    expect({ code: check.code, stderr: check.stderr }).toEqual({
      code: 2,
      stderr: `glidein: ${why}\n`,
    })
    const state = ["--state-file", path.join(dir, "state.json")]
    const run = glidein("submit", "--config", file, ...state)
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 2, stderr: `glidein: ${why}\n` })
    const dry = glidein("submit", "--config", file, ...state, "--dry-run", ...dryFlags)
    expect(dry.code).toBe(0)
    expect(dry.stderr).toBe(`glidein submit: note: ${why}; a real run refuses this config\n`)
    return dry.stdout
  }

  test("glidein submit refuses glideins glidein_start.sh would refuse: --check and a real run exit 2, a dry run notes it", () => {
    const file = config(
      "short.ini",
      SITE.replace("scheduler = slurm", "scheduler = slurm\nwalltime_hrs = 0.1"),
    )
    const why = `${file}:6: [Cluster] walltime_hrs: 0.1 h leaves the glidein no time for jobs before it retires (glidein_start.sh refuses it); at least 0.11 h`
    const plan = JSON.parse(refusedByARealRun(file, why, "--json"))
    expect(plan.submissions[0].count).toBe(2)
    expect(plan.notes).toContain(`${why}; a real run refuses this config`)
  })

  test("glidein submit without [Glidein] cluster: --check and a real run exit 2, a dry run shows the plan and says so", () => {
    const file = config("no-cluster.ini", SITE.replace(/^cluster = .*\n/m, ""))
    const why = `${file}: [Glidein] cluster: missing; glideins need the pool's collector to join it: set cluster = HOST[:PORT] (pyglidein's glidein_start.sh fell back to IceCube's), or build the tarball ${path.join(dir, "glidein.tar.gz")} with --collector HOST[:PORT]`
    expect(refusedByARealRun(file, why)).toContain("2 glideins of")
  })

  test("glidein submit with an unreachable server exits 1 with one line and submits nothing", () => {
    const r = glidein(
      "submit",
      "--config",
      config("down.ini", SITE),
      "--server",
      "http://127.0.0.1:9",
    )
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(
      /^glidein: server http:\/\/127\.0\.0\.1:9\/jsonrpc: get_state failed: .*\n$/,
    )
  })

  test("glidein submit takes --state-file or --server in place of a missing address", () => {
    const noAddress = config("no-address.ini", SITE.replace(/^address = .*\n/m, ""))
    const refused = glidein("submit", "--config", noAddress, "--dry-run")
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain("[Glidein] address:")
    const fromFile = glidein(
      "submit",
      "--config",
      noAddress,
      "--state-file",
      path.join(dir, "state.json"),
      "--dry-run",
      "--json",
    )
    expect(fromFile.code).toBe(0)
    expect(JSON.parse(fromFile.stdout).submissions[0].count).toBe(2)
    const fromServer = glidein("submit", "--config", noAddress, "--server", "http://127.0.0.1:9")
    expect(fromServer.code).toBe(1)
    expect(fromServer.stderr).toContain("get_state failed")
  })

  test("glidein submit sends the secrets file's token to the server and prints it nowhere", async () => {
    const token = "tok-6f1c2e0a9b"
    const seen: { method: string; authorization: string | null }[] = []
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      async fetch(request) {
        const call = (await request.json()) as { method: string; id: number }
        seen.push({ method: call.method, authorization: request.headers.get("authorization") })
        const result = call.method === "get_state" ? [] : "ok"
        return Response.json({ jsonrpc: "2.0", result, id: call.id })
      },
    })
    try {
      const secrets = path.join(dir, "secrets.ini")
      writeFileSync(secrets, `[Glidein]\ntoken = ${token}\n`, { mode: 0o600 })
      const child = Bun.spawn(
        [process.execPath, main, "submit", "--config", config("token.ini", SITE)].concat([
          "--secrets",
          secrets,
          "--server",
          `http://127.0.0.1:${server.port}`,
        ]),
        { env: { PATH: "/usr/bin:/bin", HOME: dir, GLIDEIN_STATE_DIR: path.join(dir, "state") } },
      )
      const [code, stdout, stderr] = await Promise.all([
        child.exited,
        new Response(child.stdout).text(),
        new Response(child.stderr).text(),
      ])
      expect({ code, stderr }).toEqual({ code: 0, stderr: "" })
      expect(seen).toEqual([
        { method: "get_state", authorization: `Bearer ${token}` },
        { method: "get_allotment", authorization: `Bearer ${token}` },
        { method: "monitoring", authorization: `Bearer ${token}` },
      ])
      expect(stdout).not.toContain(token)
    } finally {
      server.stop(true)
    }
  })

  test("glidein submit runs the site's submit command and accepts pyglidein's -n", () => {
    const r = glidein(
      "submit",
      "-n",
      "--config",
      config("run.ini", SITE),
      "--state-file",
      path.join(dir, "state.json"),
    )
    // A real run's lines carry the time, for cron's mail.
    expect(r.stderr).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d glidein submit: \[Cluster\] submitted 2 glideins as 42 42\n$/,
    )
    expect(r.code).toBe(0)
  })

  for (const signal of ["SIGTERM", "SIGHUP"] as const) {
    test(`glidein submit stopped by ${signal} journals every glidein submitted before it, and submits no more`, async () => {
      // Each submit command takes 0.3 s and records itself; ten glideins are due.
      const calls = path.join(dir, `${signal}.calls`)
      const slow = path.join(dir, `${signal}-sbatch.sh`)
      writeFileSync(
        slow,
        `#!/bin/sh\nn=$(($(cat ${calls} 2>/dev/null || echo 0) + 1)); echo $n > ${calls}\nsleep 0.3\necho "Submitted batch job $((100 + n))"\n`,
        { mode: 0o755 },
      )
      writeFileSync(
        path.join(dir, `${signal}-state.json`),
        JSON.stringify([{ cpus: 1, memory: 1000, disk: 1000, gpus: 0, os: null, count: 10 }]),
      )
      const site = SITE.replace(/submit_command = .*/, `submit_command = ${slow}`)
      const stateDir = path.join(dir, `state-${signal}`)
      const child = Bun.spawn(
        [
          process.execPath,
          main,
          "submit",
          "--config",
          config(`${signal}.ini`, `${site}limit_per_submit = 10\n`),
          "--state-file",
          path.join(dir, `${signal}-state.json`),
        ],
        {
          env: { PATH: "/usr/bin:/bin", HOME: dir, GLIDEIN_STATE_DIR: stateDir },
          stdout: "pipe",
          stderr: "pipe",
        },
      )
      // Send the signal once the second submit command has started.
      for (let i = 0; i < 200; i++) {
        await Bun.sleep(25)
        if (
          Number(
            await Bun.file(calls)
              .text()
              .catch(() => "0"),
          ) >= 2
        )
          break
      }
      child.kill(signal)
      const code = await child.exited
      const stderr = await new Response(child.stderr).text()
      const made = Number(await Bun.file(calls).text())
      const journal = readdirSync(stateDir).find((d) => d.startsWith(`${signal}.ini-`))
      const lines = (await Bun.file(path.join(stateDir, journal ?? "none", "journal.jsonl")).text())
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l))
      // The command in flight finished and was journaled; no other started.
      expect({ code, made }).toEqual({ code: signal === "SIGTERM" ? 143 : 129, made: lines.length })
      expect(made).toBeLessThan(10)
      expect(lines.flatMap((l) => l.jobIds)).toEqual(
        Array.from({ length: made }, (_, i) => String(101 + i)),
      )
      expect(stderr).toContain(
        `glidein submit: ${signal} received; finishing the submit commands in flight`,
      )
      expect(stderr).toContain(
        `stopped by ${signal}; every glidein submitted before it is in the journal`,
      )
    })
  }

  test("glidein submit --dry-run --json prints one JSON object", () => {
    const r = glidein(
      "submit",
      "--config",
      config("dry.ini", SITE),
      "--state-file",
      path.join(dir, "state.json"),
      "--dry-run",
      "--json",
    )
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(out.submissions[0]).toMatchObject({
      partition: "Cluster",
      scheduler: "slurm",
      count: 2,
      cpus: 2,
      memory_mb: 2100,
    })
  })
})

describe("secretsFile()", () => {
  test("secretsFile() finds a relative --secrets in the current folder, else beside the config, and names both when neither has it", () => {
    const cwd = process.cwd()
    const where = mkdtempSync(path.join(tmpdir(), "glidein-secrets-"))
    try {
      const site = path.join(where, "glidein")
      mkdirSync(site)
      writeFileSync(path.join(site, "secrets"), "", { mode: 0o600 })
      process.chdir(where)
      // cron starts in $HOME: the secrets file beside the config is found.
      expect(secretsFile("secrets", path.join(site, "site.ini"))).toBe(path.join(site, "secrets"))
      expect(secretsFile("glidein/secrets", path.join(site, "site.ini"))).toBe(
        path.join(where, "glidein/secrets"),
      )
      expect(() => secretsFile("nope", path.join(site, "site.ini"))).toThrow(
        `glidein submit: --secrets nope: no such file (looked for ${path.join(where, "nope")} and ${path.join(site, "nope")})`,
      )
    } finally {
      process.chdir(cwd)
      rmSync(where, { recursive: true, force: true })
    }
  })
})
