/**
 * The security review of the client, as tests: the state folder cannot be one that another
 * user can change (symbolic links, foreign owners, shared writable roots), files are written
 * through exclusive temporary files with private modes, secrets (the secrets file, a password
 * in the server URL) never reach output, files or the server, and the only shells the client
 * starts are for command lines the site wrote in its own config.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test"
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs"
import { basename, join, relative, resolve } from "node:path"
import { GlideinError } from "../../errors.ts"
import { runCommand } from "../lib/run-command.ts"
import { writeIfChanged } from "../lib/write-if-changed.ts"
import { ensureStateDir } from "../site/state-dir.ts"
import type { SubmitDeps } from "./run.ts"
import { runSubmit } from "./run-submit.ts"
import {
  type FakeServer,
  shellScript,
  startFakeServer,
  type TestSite,
  testSite,
} from "./test-site.ts"

const REPO = resolve(import.meta.dir, "../../..")
const IS_ROOT = process.getuid?.() === 0
if (!IS_ROOT) console.warn("client security: tests of foreign-owned folders skipped (need root)")

const sites: TestSite[] = []
afterEach(() => {
  for (const s of sites.splice(0)) s.remove()
})

const SITE = "[Cluster]\nscheduler = slurm\nlimit_per_submit = 2\n"

function site(url = "http://127.0.0.1:9/jsonrpc", body = SITE) {
  const s = testSite(url, body)
  sites.push(s)
  const tools = join(s.dir, "tools")
  mkdirSync(tools)
  shellScript(tools, "sbatch", 'echo "Submitted batch job 4242"\n')
  shellScript(tools, "squeue", "exit 0\n")
  return { ...s, tools, path: `${tools}:/usr/bin:/bin` }
}

const unusable = (dir: string, why: string) =>
  `cannot use the state folder ${dir} (${why}); set GLIDEIN_STATE_DIR to a private folder of yours`

describe("ensureStateDir()", () => {
  test("ensureStateDir() makes a private folder and a private note", () => {
    const s = site()
    ensureStateDir(s.paths, s.file)
    expect(statSync(s.paths.dir).mode & 0o777).toBe(0o700)
    expect(statSync(join(s.paths.dir, "config-path")).mode & 0o777).toBe(0o600)
    // The config's real path, then the path as typed (the same here).
    expect(readFileSync(join(s.paths.dir, "config-path"), "utf8")).toBe(`${s.file}\n${s.file}\n`)
  })

  test("ensureStateDir() refuses a state folder that is a symbolic link", () => {
    const s = site()
    const elsewhere = join(s.dir, "elsewhere")
    mkdirSync(elsewhere, { mode: 0o700 })
    mkdirSync(s.stateRoot, { mode: 0o700 })
    symlinkSync(elsewhere, s.paths.dir)
    expect(() => ensureStateDir(s.paths, s.file)).toThrow(
      unusable(s.paths.dir, "it is a symbolic link"),
    )
    expect(readdirSync(elsewhere)).toEqual([])
  })

  test("ensureStateDir() refuses a state folder others can write to", () => {
    const s = site()
    mkdirSync(s.paths.dir, { recursive: true })
    chmodSync(s.paths.dir, 0o777)
    expect(() => ensureStateDir(s.paths, s.file)).toThrow(
      unusable(s.paths.dir, "it can be changed by other users (mode 0777)"),
    )
  })

  test("ensureStateDir() refuses a state root others can write to, unless it is sticky like /tmp", () => {
    const s = site()
    mkdirSync(s.stateRoot)
    chmodSync(s.stateRoot, 0o777)
    expect(() => ensureStateDir(s.paths, s.file)).toThrow(
      unusable(s.paths.dir, `its parent ${s.stateRoot} can be changed by other users (mode 0777)`),
    )
    chmodSync(s.stateRoot, 0o1777)
    ensureStateDir(s.paths, s.file)
    expect(existsSync(join(s.paths.dir, "config-path"))).toBe(true)
  })

  test.skipIf(!IS_ROOT)("ensureStateDir() refuses a state folder or root of another user", () => {
    const s = site()
    mkdirSync(s.paths.dir, { recursive: true, mode: 0o700 })
    chownSync(s.paths.dir, 65534, 65534)
    expect(() => ensureStateDir(s.paths, s.file)).toThrow(
      unusable(s.paths.dir, "it belongs to another user (uid 65534)"),
    )
    chownSync(s.paths.dir, 0, 0)
    chownSync(s.stateRoot, 65534, 65534)
    expect(() => ensureStateDir(s.paths, s.file)).toThrow(
      unusable(s.paths.dir, `its parent ${s.stateRoot} belongs to another user (uid 65534)`),
    )
  })

  test("runSubmit() in a planted state folder writes and runs nothing", async () => {
    const s = site()
    // Someone prepared the folder this config will use, with its journal pointing at a file
    // of the victim's: appending to it would write into that file.
    const planted = join(s.dir, "planted")
    mkdirSync(planted, { mode: 0o777 })
    chmodSync(planted, 0o777)
    const victim = join(s.dir, "victim")
    writeFileSync(victim, "precious\n")
    symlinkSync(victim, join(planted, "journal.jsonl"))
    mkdirSync(s.stateRoot)
    symlinkSync(planted, s.paths.dir)
    const stateFile = join(s.dir, "demand.json")
    writeFileSync(stateFile, '[{"cpus":1,"memory":1000,"disk":10000,"gpus":0,"os":null,"count":1}]')
    const deps: SubmitDeps = {
      run: s.run,
      env: { ...s.env, PATH: s.path },
      now: () => new Date(),
      sleep: async () => {},
      stdout: () => {},
      stderr: () => {},
      startScript: "#!/bin/sh\n",
      stateRoot: s.stateRoot,
    }
    const error = await runSubmit(
      s.config,
      { dryRun: false, json: false, assumeEmpty: true, stateFile },
      deps,
    ).catch((e) => e)
    expect(error).toBeInstanceOf(GlideinError)
    expect(error.message).toBe(unusable(s.paths.dir, "it is a symbolic link"))
    expect(s.commands).toEqual([])
    expect(readFileSync(victim, "utf8")).toBe("precious\n")
    expect(readdirSync(planted)).toEqual(["journal.jsonl"])
  })
})

describe("writeIfChanged()", () => {
  test("writeIfChanged() replaces a symbolic link planted at the target instead of writing through it", () => {
    const s = site()
    const victim = join(s.dir, "victim")
    writeFileSync(victim, "precious\n")
    const target = join(s.dir, "glidein.slurm")
    symlinkSync(victim, target)
    writeIfChanged(target, "#!/bin/sh\necho glidein\n", 0o755)
    expect(readFileSync(victim, "utf8")).toBe("precious\n")
    expect(readFileSync(target, "utf8")).toBe("#!/bin/sh\necho glidein\n")
    expect(statSync(target).mode & 0o777).toBe(0o755)
    expect(readdirSync(s.dir).filter((f) => f.endsWith(".tmp"))).toEqual([])
  })
})

describe("a real run's files", () => {
  test("runSubmit() keeps its state private: folders 0700, journal, lock and note 0600", async () => {
    const s = site()
    const stateFile = join(s.dir, "demand.json")
    writeFileSync(stateFile, '[{"cpus":1,"memory":1000,"disk":10000,"gpus":0,"os":null,"count":1}]')
    const code = await runSubmit(
      s.config,
      { dryRun: false, json: false, assumeEmpty: false, stateFile },
      {
        run: runCommand,
        env: { ...s.env, PATH: s.path },
        now: () => new Date(),
        sleep: async () => {},
        stdout: () => {},
        stderr: () => {},
        startScript: "#!/bin/sh\n",
        stateRoot: s.stateRoot,
      },
    )
    expect(code).toBe(0)
    const mode = (p: string) => (statSync(join(s.paths.dir, p)).mode & 0o777).toString(8)
    expect([mode("."), mode("submit"), mode("out")]).toEqual(["700", "700", "700"])
    expect([mode("journal.jsonl"), mode("lock"), mode("config-path")]).toEqual([
      "600",
      "600",
      "600",
    ])
  })
})

describe("secrets", () => {
  /** In the secrets file and the server URL; it must appear nowhere else. */
  const MARKER = "S3CR3T-b6d1e0"
  let server: FakeServer
  const requests: string[] = []
  let recorder: ReturnType<typeof Bun.serve>
  beforeAll(() => {
    server = startFakeServer()
    // Records every request body, then answers like the fake server.
    recorder = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      async fetch(req) {
        const body = await req.text()
        requests.push(`${[...req.headers].join(" ")} ${body}`)
        return fetch(server.url, { method: "POST", body, headers: req.headers })
      },
    })
  })
  afterAll(() => {
    recorder.stop(true)
    server.stop()
  })

  /** Runs the CLI without blocking this process (the recording server lives here). */
  async function glidein(
    s: ReturnType<typeof site>,
    env: Record<string, string>,
    ...argv: string[]
  ) {
    const child = Bun.spawn([process.execPath, join(REPO, "src/main.ts"), ...argv], {
      cwd: s.dir,
      env: { HOME: s.dir, USER: "ice", PATH: s.path, GLIDEIN_STATE_DIR: s.stateRoot, ...env },
      stdout: "pipe",
      stderr: "pipe",
    })
    const [out, err, code] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.exited,
    ])
    return { code, out, err }
  }

  /** `glidein submit --config <site's> --secrets FILE ...flags` */
  function submitWith(s: ReturnType<typeof site>, secrets: string, ...flags: string[]) {
    return glidein(s, {}, "submit", "--config", s.file, "--secrets", secrets, ...flags)
  }

  function secretsFile(s: ReturnType<typeof site>, text: string, mode = 0o600): string {
    const file = join(s.dir, "secrets")
    writeFileSync(file, text)
    chmodSync(file, mode)
    return file
  }

  /** Every file the run left in its state folder, as text. */
  function stateText(s: ReturnType<typeof site>): string {
    if (!existsSync(s.stateRoot)) return ""
    return readdirSync(s.stateRoot, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => readFileSync(join(e.parentPath, e.name), "utf8"))
      .join("\n")
  }

  const GOOD = `[StartdLogging]\naccess_key = AKIA${MARKER}\nsecret_key = ${MARKER}/x+y\n`

  test("glidein submit --secrets --debug: the secrets reach no output, file or request", async () => {
    const s = site(`http://127.0.0.1:${recorder.port}/jsonrpc`)
    requests.length = 0
    const r = await submitWith(s, secretsFile(s, GOOD), "--debug")
    expect(r.code).toBe(0)
    expect(r.err).toContain("submitted")
    expect(requests.length).toBe(3) // get_state, get_allotment, monitoring
    const everything = [r.out, r.err, stateText(s), ...requests].join("\n")
    expect(everything).not.toContain(MARKER)
  })

  test("glidein submit --secrets against a failing server: the secrets are in no message", async () => {
    const s = site("http://127.0.0.1:9/jsonrpc")
    const r = await submitWith(s, secretsFile(s, GOOD), "--debug")
    expect(r.code).toBe(1)
    expect(r.err).toContain("get_state failed")
    expect(r.out + r.err + stateText(s)).not.toContain(MARKER)
  })

  const LOGGING = `${SITE}[StartdLogging]\nsend_startd_logs = True\nurl = s3.example.org\nbucket = glidein-logs\n`

  test("glidein submit with send_startd_logs: jobs carry a signed upload form, the secret key goes nowhere", async () => {
    const s = site(`http://127.0.0.1:${recorder.port}/jsonrpc`, LOGGING)
    requests.length = 0
    const keys = `[StartdLogging]\naccess_key = AKIDEXAMPLE\nsecret_key = ${MARKER}/x+y\n`
    const r = await submitWith(s, secretsFile(s, keys), "--debug")
    expect(r.code).toBe(0)
    expect(r.err).toContain("submitted")
    const files = stateText(s)
    expect(files).toContain("LOG_UPLOAD_CREDENTIAL='AKIDEXAMPLE/")
    expect(files).toMatch(/LOG_UPLOAD_SIGNATURE='[0-9a-f]{64}'/)
    expect([r.out, r.err, files, ...requests].join("\n")).not.toContain(MARKER)
  })

  test("glidein submit --check with send_startd_logs names a setting S3 would not take", async () => {
    const s = site(
      undefined,
      LOGGING.replace("bucket = glidein-logs", "bucket = glidein-logs\nregion = Mars Base"),
    )
    const keys = `[StartdLogging]\naccess_key = AKIDEXAMPLE\nsecret_key = ${MARKER}\n`
    const r = await submitWith(s, secretsFile(s, keys), "--check")
    expect(r.code).toBe(2)
    expect(r.err).toMatch(
      /^glidein: \S+site\.ini:\d+: \[StartdLogging\] region: "Mars Base" is not a region name like us-east-1\n$/,
    )
    expect(r.out + r.err).not.toContain(MARKER)
  })

  test("glidein submit refuses a secrets file others can read, without quoting it", async () => {
    const s = site()
    const file = secretsFile(s, GOOD, 0o644)
    const r = await glidein(s, {}, "submit", "--config", s.file, "--secrets", file)
    expect(r.code).toBe(2)
    expect(r.err).toBe(
      `glidein: ${file}: the secrets file has mode 0644, so other users can read it; run: chmod 600 ${file}\n`,
    )
  })

  test("glidein submit refuses a broken secrets file without quoting the broken line", async () => {
    const s = site()
    const file = secretsFile(s, `[StartdLogging]\nsecret_key ${MARKER}\n`)
    const r = await glidein(s, {}, "submit", "--config", s.file, "--secrets", file, "--debug")
    expect(r.code).toBe(2)
    expect(r.err).toContain(file)
    expect(r.out + r.err).not.toContain(MARKER)
  })

  test("glidein submit never shows a password given in the server URL", async () => {
    const s = site()
    const dead = await glidein(
      s,
      { GLIDEIN_SERVER: `http://ice:${MARKER}@127.0.0.1:9/` },
      "submit",
      "--config",
      s.file,
    )
    expect(dead.code).toBe(1)
    expect(dead.err).toStartWith(
      "glidein: server http://ice:***@127.0.0.1:9/jsonrpc: get_state failed:",
    )
    expect(dead.err).not.toContain(MARKER)
    const url = `http://ice:${MARKER}@127.0.0.1:${recorder.port}/`
    const dry = await glidein(
      s,
      { GLIDEIN_SERVER: url },
      "submit",
      "--config",
      s.file,
      "--dry-run",
      "--assume-empty",
    )
    expect(dry.code).toBe(0)
    expect(dry.out).toContain(
      `Demand from server http://ice:***@127.0.0.1:${recorder.port}/jsonrpc:`,
    )
    expect(dry.out + dry.err).not.toContain(MARKER)
  })
})

/** Modules only tests import. */
const TEST_SUPPORT = new Set(["test-site.ts", "small-disk.ts", "fixtures.ts"])

describe("shells", () => {
  /** Product source files of the client side (test support files left out). */
  function sources(): string[] {
    const files = ["src/cli/submit.ts", "src/cli/cancel.ts", "src/cli/status.ts"]
    for (const dir of ["src/client", "src/schedulers"]) {
      for (const name of readdirSync(join(REPO, dir), { encoding: "utf8", recursive: true })) {
        if (!name.endsWith(".ts") || name.endsWith(".test.ts") || name.endsWith(".d.ts")) continue
        if (TEST_SUPPORT.has(basename(name))) continue
        files.push(join(dir, name))
      }
    }
    return files
  }

  test("only the site's own command lines run through /bin/sh, and only run-command.ts spawns", () => {
    const shells: string[] = []
    const spawns: string[] = []
    for (const file of sources()) {
      const text = readFileSync(join(REPO, file), "utf8")
      const lines = text.split("\n")
      lines.forEach((line) => {
        if (/\bshellArgv\(/.test(line) && !line.includes("export function shellArgv"))
          shells.push(`${relative("src", file)}: ${line.trim()}`)
        if (/Bun\.spawn|spawnSync|child_process|\bexecSync\b/.test(line))
          spawns.push(relative("src", file))
      })
    }
    // running_cmd / idle_cmd and submit_command: written by the site user in their config.
    expect(shells.sort()).toEqual([
      "client/site/count-glideins.ts: shellArgv(expandVars(commandLine, ctx.env)),",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: source text under test
      "client/site/prepare-submissions.ts: ? shellArgv(`${command} ${shellQuote(rendered.submitFile)}`)",
    ])
    // Every command goes through runCommand (argv, its own process group, a timeout), or its
    // synchronous sibling querySync for `id -un`.
    expect([...new Set(spawns)]).toEqual(["client/lib/run-command.ts"])
  })
})
