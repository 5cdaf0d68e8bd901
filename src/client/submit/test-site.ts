/**
 * @module
 * Test support for the client's command tests: a site config in a temporary folder with a
 * fake batch system that records every command, and a fake glidein server.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseSiteConfig, type SiteConfig } from "../../config/index.ts"
import { standInTarball } from "../../tarball/test-support.ts"
import {
  type CommandOptions,
  type CommandResult,
  type CommandRunner,
  runCommand,
} from "../lib/run-command.ts"
import { type StatePaths, statePaths } from "../site/state-dir.ts"
import type { SubmitDeps } from "./run.ts"

/** pyglidein's golden demand shapes s1, s3 and s4. */
export const S1 = { cpus: 1, memory: 2000, disk: 10000, gpus: 0, os: null, count: 3 }
export const S3 = { cpus: 1, memory: 4000, disk: 10000, gpus: 1, os: null, count: 1 }
export const S4 = { cpus: 8, memory: 64000, disk: 100000, gpus: 0, os: null, count: 5 }

/** A JSON-RPC server answering `get_state` with `state`, recording `monitoring` params, and
 *  refusing any other method as pyglidein's server does — `get_allotment` too, unless
 *  `allotment` is set, which it then answers. */
export interface FakeServer {
  url: string
  state: unknown
  allotment?: unknown
  monitoring: unknown[]
  stop(): void
}

export function startFakeServer(): FakeServer {
  const fake: FakeServer = {
    url: "",
    state: [S1, S3, S4],
    monitoring: [],
    stop: () => server.stop(true),
  }
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      // pyglidein's server has nothing but JSON-RPC.
      if (req.method !== "POST") return new Response("not found", { status: 404 })
      const body = (await req.json()) as { method: string; params: unknown; id: number }
      if (body.method === "monitoring") fake.monitoring.push(body.params)
      else if (body.method === "get_allotment" && fake.allotment !== undefined) {
        return Response.json({ jsonrpc: "2.0", result: fake.allotment, id: body.id })
      } else if (body.method !== "get_state") {
        // As pyglidein's server answers a method it does not have (get_allotment).
        const error = { code: -32601, message: "Method not found" }
        return Response.json({ jsonrpc: "2.0", error, id: body.id })
      }
      const result = body.method === "get_state" ? fake.state : "ok"
      return Response.json({ jsonrpc: "2.0", result, id: body.id })
    },
  })
  fake.url = `http://127.0.0.1:${server.port}/jsonrpc`
  return fake
}

/** Writes an executable `#!/bin/sh` script `name` into `dir` and returns its path. */
export function shellScript(dir: string, name: string, body: string): string {
  const file = join(dir, name)
  writeFileSync(file, `#!/bin/sh\n${body}`, { mode: 0o755 })
  return file
}

/**
 * A glidein tarball as `glidein tarball build` makes it (a stand-in HTCondor, a pool password):
 * submit refuses to send glideins from anything less. Built once per test process.
 */
export const GLIDEIN_TARBALL: Uint8Array = await (async () => {
  const dir = mkdtempSync(join(tmpdir(), "glidein-tarball-"))
  try {
    await standInTarball(join(dir, "glidein.tar.gz"))
    return new Uint8Array(readFileSync(join(dir, "glidein.tar.gz")))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})()

/** Answers a command line (argv joined, or a shell command's text); defaults apply. */
export type FakeBatch = (line: string, options: CommandOptions) => Partial<CommandResult>

/** One test site: its config, a recording runner and captured output. */
export interface TestSite {
  dir: string
  file: string
  config: SiteConfig
  run: CommandRunner
  env: Record<string, string>
  commands: { line: string; cwd?: string; stdin?: string }[]
  stdout: string[]
  stderr: string[]
  stateRoot: string
  paths: StatePaths
  remove(): void
}

/**
 * A config (`[Glidein] address = url`, site Test, cluster pool.example.org, then `body`) in a
 * temporary folder with a tarball beside it. `echo N` commands answer N unless `fake` says
 * otherwise.
 */
export function testSite(url: string, body: string, fake: FakeBatch = () => ({})): TestSite {
  const dir = mkdtempSync(join(tmpdir(), "glidein-client-"))
  writeFileSync(join(dir, "glidein.tar.gz"), GLIDEIN_TARBALL)
  const file = join(dir, "site.ini")
  writeFileSync(
    file,
    `[Glidein]\naddress = ${url}\nsite = Test\ncluster = pool.example.org\n${body}`,
  )
  const stateRoot = join(dir, "state")
  const site: TestSite = {
    dir,
    file,
    config: parseSiteConfig(readFileSync(file, "utf8"), file),
    env: { HOME: dir, USER: "ice" },
    commands: [],
    stdout: [],
    stderr: [],
    stateRoot,
    paths: statePaths(file, stateRoot),
    async run(argv, options) {
      const line = argv[0] === "/bin/sh" ? (argv[2] ?? "") : argv.join(" ")
      site.commands.push({
        line,
        ...(options.cwd ? { cwd: options.cwd } : {}),
        ...(options.stdinFile ? { stdin: options.stdinFile } : {}),
      })
      const echoed = line.startsWith("echo ") ? `${line.slice(5)}\n` : ""
      return { exitCode: 0, stdout: echoed, stderr: "", timedOut: false, ...fake(line, options) }
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  }
  return site
}

/**
 * Dependencies of a real run for `site`: real commands (with `tools` first in PATH), a fixed
 * clock, no sleeping, stdout dropped and stderr collected into `stderr`. Patient timeouts, so
 * a busy machine cannot fail a command that works; `extra` overrides any of it.
 */
export function realDeps(
  site: TestSite,
  tools: string,
  stderr: string[],
  extra: Partial<SubmitDeps> & { env?: Record<string, string> } = {},
): SubmitDeps {
  return {
    run: runCommand,
    now: () => new Date("2026-03-01T12:00:00Z"),
    sleep: async () => {},
    stdout: () => {},
    stderr: (t) => stderr.push(t),
    startScript: "#!/bin/sh\necho start\n",
    stateRoot: site.stateRoot,
    submitTimeoutMs: 10_000,
    countTimeoutMs: 10_000,
    ...extra,
    env: { ...site.env, PATH: `${tools}:/usr/bin:/bin`, ...extra.env },
  }
}
