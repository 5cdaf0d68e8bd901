import { afterEach, describe, expect, test } from "bun:test"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir, userInfo } from "node:os"
import { join } from "node:path"
import { ConfigError, UsageError } from "../errors.ts"
import { cleanUp, tempDir } from "../test-support.ts"
import { configKeys } from "./command.ts"
import { defaultDbPath, resolveServeOptions, SERVE_OPTIONS } from "./serve-options.ts"

afterEach(cleanUp)

function configFile(text: string): string {
  const file = join(tempDir("glidein-serve-config-"), "server.ini")
  writeFileSync(file, text)
  return file
}

const ENV = { HOME: "/home/pool" }

describe("resolveServeOptions()", () => {
  test("defaults: port 11001 on all interfaces, condor_q from PATH every 300 s, XDG state db", async () => {
    const { options, warnings } = await resolveServeOptions({}, undefined, ENV)
    expect(options).toEqual({
      port: 11001,
      host: "0.0.0.0",
      delayS: 300,
      condorQ: "condor_q",
      condorStatus: "condor_status",
      condorHistory: "condor_history",
      noPoolWatch: false,
      noHistory: false,
      flagAfter: 60,
      db: "/home/pool/.local/state/glidein/serve.db",
      demo: false,
    })
    expect(warnings).toEqual([])
  })

  test("--demo polls every 10 s into its own database unless told otherwise", async () => {
    const { options } = await resolveServeOptions({ demo: true }, undefined, {
      XDG_STATE_HOME: "/var/state",
      HOME: "/x",
    })
    expect(options).toMatchObject({
      demo: true,
      delayS: 10,
      db: "/var/state/glidein/serve-demo.db",
    })
    expect(defaultDbPath({ HOME: "/h" }, false)).toBe("/h/.local/state/glidein/serve.db")
  })

  test("an empty or missing HOME (cron) takes the home directory from the password database", () => {
    const db = join(userInfo().homedir, ".local/state/glidein/serve.db")
    expect(defaultDbPath({ HOME: "" }, false)).toBe(db)
    expect(defaultDbPath({}, false)).toBe(db)
  })

  test("takes the [server] section of --config, and flags over it", async () => {
    const file = configFile(
      "[server]\nport = 12000\nhost = 127.0.0.1\nconstraint = RequestGPUs > 0\nuser = ice3simusr\ndelay: 60\ncondor_q = /opt/condor/bin/condor_q\ntokens = /etc/glidein/tokens\n",
    )
    const { options } = await resolveServeOptions({ port: "13000" }, file, ENV)
    expect(options).toEqual({
      port: 13000,
      host: "127.0.0.1",
      constraint: "RequestGPUs > 0",
      user: "ice3simusr",
      delayS: 60,
      condorQ: "/opt/condor/bin/condor_q",
      condorStatus: "condor_status",
      condorHistory: "condor_history",
      noPoolWatch: false,
      noHistory: false,
      flagAfter: 60,
      db: "/home/pool/.local/state/glidein/serve.db",
      tokens: "/etc/glidein/tokens",
      demo: false,
    })
  })

  test("warns about keys and sections it does not read, with a guess", async () => {
    const file = configFile("[server]\nprot = 1\n[metrics]\nenable_metrics = True\n")
    const { warnings } = await resolveServeOptions({}, file, ENV)
    expect(warnings).toEqual([
      `${file}:2: [server] prot: unknown key ignored (did you mean "port"?)`,
      `${file}:3: [metrics] ignored: glidein does not push metrics to graphite/statsd; scrape GET /metrics instead`,
    ])
  })

  test("refuses bad flags with a usage error naming the flag and the value", async () => {
    const cases: [Parameters<typeof resolveServeOptions>[0], string][] = [
      [{ port: "http" }, 'glidein serve: --port expects a port number from 0 to 65535, got "http"'],
      [
        { port: "70000" },
        'glidein serve: --port expects a port number from 0 to 65535, got "70000"',
      ],
      [{ delay: "0" }, 'glidein serve: --delay expects seconds from 1 to 86400, got "0"'],
      [{ user: "-help" }, "glidein serve: --user expected a user name"],
      [
        { constraint: "a\nb" },
        "glidein serve: --constraint must be one line without control characters",
      ],
      [{ host: " " }, 'glidein serve: --host expects an address to listen on, got " "'],
    ]
    for (const [flags, message] of cases) {
      const run = resolveServeOptions(flags, undefined, ENV)
      await expect(run).rejects.toBeInstanceOf(UsageError)
      await expect(run).rejects.toThrow(message)
    }
  })

  test("refuses bad config values naming file, line, section and key", async () => {
    const file = configFile("[server]\nport = 11001\ndelay = soon\n")
    const run = resolveServeOptions({}, file, ENV)
    await expect(run).rejects.toBeInstanceOf(ConfigError)
    await expect(run).rejects.toThrow(
      `${file}:3: [server] delay: expects seconds from 1 to 86400, got "soon"`,
    )
    const demo = configFile("[server]\ndemo = yes\n")
    await expect(resolveServeOptions({}, demo, ENV)).rejects.toThrow(
      `${demo}:2: [server] demo: expects True or False, got "yes"`,
    )
    await expect(
      resolveServeOptions({}, join(tmpdir(), "no-such-glidein.ini"), ENV),
    ).rejects.toThrow("no-such-glidein.ini: file not found")
  })
})

test("resolveServeOptions() reads the allotment policy from [allot] and [allot NAME]", async () => {
  const dir = mkdtempSync(join(tmpdir(), "serve-allot-"))
  const file = join(dir, "serve.ini")
  writeFileSync(
    file,
    "[allot]\nweight = 1\nramp_up = 0.5\nmax = None\n\n[allot big-site]\nweight = 3\nper_round = 20\nwarn = 2\n",
  )
  const { options, warnings } = await resolveServeOptions({}, file, {})
  expect(options.allot?.defaults).toMatchObject({ weight: 1, rampUp: 0.5, max: null })
  expect(options.allot?.sites).toEqual({ "big-site": { weight: 3, perRound: 20 } })
  expect(warnings).toEqual([
    `${file}:9: [allot big-site] warn: unknown key ignored (did you mean "warm"?)`,
  ])
  writeFileSync(file, "[allot]\nramp_up = 2\n")
  const error = await resolveServeOptions({}, file, {}).catch((e) => e)
  expect(error.message).toContain("ramp_up")
  expect(error.message).toContain("expects a number from 0.001 to 1, got 2")
})

test("resolveServeOptions() reads every [server] key the option table declares, and a flag over it", async () => {
  const file = configFile("[server]\ncondor_q = /opt/q\ndemo = True\nuser = -x\n")
  await expect(resolveServeOptions({}, file, ENV)).rejects.toThrow(
    `${file}:4: [server] user: expected a user name`,
  )
  const { options } = await resolveServeOptions({ user: "ice" }, file, ENV)
  expect(options).toMatchObject({ condorQ: "/opt/q", demo: true, delayS: 10, user: "ice" })
  expect(configKeys(SERVE_OPTIONS)).toEqual([
    "port",
    "host",
    "constraint",
    "user",
    "delay",
    "condor_q",
    "condor_status",
    "condor_history",
    "no_pool_watch",
    "no_history",
    "flag_after",
    "db",
    "tokens",
    "alert_url",
    "demo",
  ])
})

test("resolveServeOptions() takes an http or https webhook from --alert-url or alert_url, and refuses others without echoing them", async () => {
  const hook = "https://hooks.slack.com/services/T000/B000/XXXXSECRET"
  const file = configFile(`[server]\nalert_url = ${hook}\n`)
  expect((await resolveServeOptions({}, file, ENV)).options.alertUrl).toBe(hook)
  const flag = "http://alerts.example.org:8080/hook"
  expect((await resolveServeOptions({ "alert-url": flag }, file, ENV)).options.alertUrl).toBe(flag)
  const cases: [string, string][] = [
    ["ftp://user:SECRET@host/x", 'expects an http:// or https:// URL, got a "ftp:" URL'],
    ["hooks.slack.com/services/SECRET", "expects an http:// or https:// URL (the webhook"],
    ["file:///etc/SECRET", 'expects an http:// or https:// URL, got a "file:" URL'],
  ]
  for (const [url, message] of cases) {
    const error = await resolveServeOptions({ "alert-url": url }, undefined, ENV).catch((e) => e)
    expect(error).toBeInstanceOf(UsageError)
    expect(error.message).toStartWith(`glidein serve: --alert-url ${message}`)
    expect(error.message).not.toContain("SECRET")
  }
  const bad = configFile("[server]\nalert_url = mailto:SECRET@example.org\n")
  const error = await resolveServeOptions({}, bad, ENV).catch((e) => e)
  expect(error).toBeInstanceOf(ConfigError)
  expect(error.message).toBe(
    `${bad}:2: [server] alert_url: expects an http:// or https:// URL, got a "mailto:" URL`,
  )
})
