import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test"
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs"
import { join } from "node:path"
import { UsageError } from "../../errors.ts"
import { cleanUp, tempDir } from "../../test-support.ts"
import { runCommand } from "../lib/run-command.ts"
import { fetchDemand } from "./demand-origin.ts"
import { parseTarget, pushArgv, pushState } from "./push-state.ts"
import { type FakeServer, S1, S3, startFakeServer } from "./test-site.ts"

let server: FakeServer
beforeAll(() => {
  server = startFakeServer()
})
afterAll(() => server.stop())
afterEach(cleanUp)

/**
 * A stand-in `ssh` on PATH: it records its argv and runs the remote command with `sh -c` in a
 * home folder per destination, as the site's login shell would, so the real command is tested.
 * A destination named `denied` fails as ssh does when the master connection is gone.
 */
function fakeSsh() {
  const dir = tempDir("glidein-push-")
  const bin = join(dir, "bin")
  mkdirSync(bin)
  writeFileSync(
    join(bin, "ssh"),
    `#!/bin/sh
printf '%s\\n' "$@" > "${dir}/argv.$$"
for a; do dest=$remote; remote=$a; done
case "$dest" in *denied*) echo "$dest: Permission denied (publickey,keyboard-interactive)." >&2; exit 255;; esac
mkdir -p "${dir}/homes/$dest"
HOME="${dir}/homes/$dest" exec sh -c "cd \\"\\$HOME\\" && $remote"
`,
    { mode: 0o755 },
  )
  const env = { PATH: `${bin}:/usr/bin:/bin`, HOME: dir }
  const home = (dest: string) => join(dir, "homes", dest)
  return { dir, env, home }
}

describe("parseTarget()", () => {
  test("parseTarget() takes [USER@]HOST[:PATH], with glidein_state by default", () => {
    expect(parseTarget("alice@login.site.edu")).toEqual({
      destination: "alice@login.site.edu",
      path: "glidein_state",
      text: "alice@login.site.edu",
    })
    expect(parseTarget("login2:state/glidein_state").path).toBe("state/glidein_state")
    expect(parseTarget("login2:~/glidein_state").path).toBe("~/glidein_state")
  })

  test("parseTarget() refuses anything a shell or ssh would read as more than a name", () => {
    for (const bad of [
      "alice@login;rm -rf ~",
      "-oProxyCommand=evil",
      "login:$(reboot)",
      "login:../../etc/passwd",
      "login:a b",
      "login:dir/",
      "@login",
    ]) {
      expect(() => parseTarget(bad)).toThrow(UsageError)
    }
  })
})

describe("pushState()", () => {
  test("pushState() writes the server's checked rows to every site, atomically, as ssh_state reads them", async () => {
    server.state = [S1, S3]
    const ssh = fakeSsh()
    const said: string[] = []
    const targets = [parseTarget("alice@login.a"), parseTarget("bob@login.b:state/glidein_state")]
    mkdirSync(join(ssh.home("bob@login.b"), "state"), { recursive: true })
    const failed = await pushState(server.url, targets, {
      run: runCommand,
      env: ssh.env,
      stderr: (t) => said.push(t),
      workDir: join(ssh.dir, "work"),
      rpc: { timeoutMs: 2000, retries: 0 },
    })
    expect(failed).toEqual([])
    expect(said).toEqual(["glidein push-state: pushed 2 demand rows to 2 sites\n"])
    for (const file of [
      join(ssh.home("alice@login.a"), "glidein_state"),
      join(ssh.home("bob@login.b"), "state/glidein_state"),
    ]) {
      const demand = await fetchDemand({ kind: "file", path: file })
      expect(demand.rows).toEqual([S1, S3])
      expect(readdirSync(join(file, "..")).filter((n) => n.includes(".tmp"))).toEqual([])
    }
    // The file fed to ssh is gone; ssh never prompts and reuses one master connection.
    expect(existsSync(join(ssh.dir, "work", "state.json"))).toBe(false)
    const argv = readdirSync(ssh.dir)
      .filter((n) => n.startsWith("argv."))
      .map((n) => readFileSync(join(ssh.dir, n), "utf8"))
    expect(argv).toHaveLength(2)
    for (const a of argv) {
      expect(a).toContain("BatchMode=yes\n")
      expect(a).toContain("ControlMaster=auto\n")
    }
  })

  test("pushState() pushes a glidein server's table with its poll time, so a site sees how old it is", async () => {
    // A glidein serve whose condor_q has failed for two hours: it still serves its last table.
    const polled = new Date(Date.now() - 2 * 3600 * 1000).toISOString()
    const state = {
      updated: polled,
      age_s: 7200,
      error: "condor_q failed",
      error_at: polled,
      last_poll: polled,
      next_poll: polled,
      source: "condor_q",
      jobs: 3,
      bad_lines: 0,
      rows: [S1],
    }
    const glidein = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (req) =>
        new URL(req.url).pathname === "/api/state"
          ? Response.json(state)
          : new Response("not found", { status: 404 }),
    })
    try {
      const ssh = fakeSsh()
      const failed = await pushState(
        `http://127.0.0.1:${glidein.port}/jsonrpc`,
        [parseTarget("alice@login.a")],
        {
          run: runCommand,
          env: ssh.env,
          stderr: () => {},
          workDir: join(ssh.dir, "work"),
          rpc: { timeoutMs: 2000, retries: 0 },
        },
      )
      expect(failed).toEqual([])
      const file = join(ssh.home("alice@login.a"), "glidein_state")
      expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ updated: polled, rows: [S1] })
      await expect(fetchDemand({ kind: "file", path: file, maxAgeS: 3600 })).rejects.toThrow(
        "was polled 2 h ago",
      )
    } finally {
      glidein.stop(true)
    }
  })

  test("pushState() refuses a control-socket folder another user could have planted", async () => {
    const ssh = fakeSsh()
    const open = join(ssh.dir, "open")
    mkdirSync(open, { mode: 0o777 })
    chmodSync(open, 0o777)
    const victim = join(ssh.dir, "victim")
    writeFileSync(victim, "keep\n")
    symlinkSync(victim, join(open, "state.json"))
    await expect(
      pushState(server.url, [parseTarget("alice@login.a")], {
        run: runCommand,
        env: ssh.env,
        stderr: () => {},
        workDir: open,
        rpc: { timeoutMs: 2000, retries: 0 },
      }),
    ).rejects.toThrow(`cannot use ${open} for ssh's control sockets (other users can enter it`)
    expect(readFileSync(victim, "utf8")).toBe("keep\n")
  })

  test("pushState() says which site failed and goes on with the others", async () => {
    server.state = [S1]
    const ssh = fakeSsh()
    const said: string[] = []
    const failed = await pushState(
      server.url,
      [parseTarget("carol@denied.site"), parseTarget("alice@login.a")],
      {
        run: runCommand,
        env: ssh.env,
        stderr: (t) => said.push(t),
        workDir: join(ssh.dir, "work"),
        rpc: { timeoutMs: 2000, retries: 0 },
      },
    )
    expect(failed).toEqual(["carol@denied.site"])
    expect(said.join("")).toContain(
      "glidein push-state: carol@denied.site: ssh failed with exit code 255: carol@denied.site: Permission denied (publickey,keyboard-interactive).",
    )
    expect(said.join("")).toContain("open the master connection by hand first")
    expect(existsSync(join(ssh.home("alice@login.a"), "glidein_state"))).toBe(true)
  })

  test("pushState() pushes nothing a site would refuse", async () => {
    server.state = [{ ...S1, os: "el9; rm -rf ~" }]
    const ssh = fakeSsh()
    await expect(
      pushState(server.url, [parseTarget("alice@login.a")], {
        run: runCommand,
        env: ssh.env,
        stderr: () => {},
        workDir: join(ssh.dir, "work"),
        rpc: { timeoutMs: 2000, retries: 0 },
      }),
    ).rejects.toThrow("os")
    expect(existsSync(ssh.home("alice@login.a"))).toBe(false)
  })

  test("pushArgv() gives ssh one remote command of checked words", () => {
    const argv = pushArgv(parseTarget("alice@login:~/glidein_state"), "/run/user/1000/g")
    expect(argv.at(-2)).toBe("alice@login")
    expect(argv.at(-1)).toBe(
      'umask 077 && cat > "$HOME"/glidein_state.glidein-push.tmp && mv -f "$HOME"/glidein_state.glidein-push.tmp "$HOME"/glidein_state',
    )
  })
})
