import { afterEach, describe, expect, test } from "bun:test"
import { chmodSync, rmSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { cleanUp, MAIN, startServe, tempDir, track } from "../test-support.ts"

const FAKE = resolve(import.meta.dir, "../demand/testdata/fake-condor-q.sh")
const RULES = resolve(import.meta.dir, "../demand/testdata/condor-q-rules.txt")
const POOL = resolve(import.meta.dir, "../pool/testdata/condor-status-claimed.txt")

afterEach(cleanUp)

async function until<T>(what: string, get: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await get()
    if (value !== undefined) return value
    await Bun.sleep(25)
  }
  throw new Error(`gave up waiting for ${what}`)
}

function rpc(url: string, body: unknown) {
  return fetch(`${url}/jsonrpc`, { method: "POST", body: JSON.stringify(body) })
}

/** An HTCondor tool `name` in `dir` that answers as the stand-in does in `mode`, from `data`. */
function fakeTool(dir: string, name: string, mode: string, data: string): string {
  const path = join(dir, name)
  writeFileSync(path, `#!/bin/sh\nexec "${FAKE}" ${mode} "${dir}" "${data}" -- "$@"\n`)
  chmodSync(path, 0o755)
  return path
}

describe("glidein serve", () => {
  test("serves demo demand, keeps reports across a restart, and stops cleanly on SIGTERM", async () => {
    const db = join(tempDir("glidein-serve-"), "serve.db")
    const first = await startServe(["--demo", "--db", db, "-n"])
    const rows = await until("the first poll", async () => {
      const state = (await (await fetch(`${first.url}/api/state`)).json()) as {
        rows: unknown[] | null
      }
      return state.rows ?? undefined
    })
    expect(rows.length).toBeGreaterThan(0)
    const report = await rpc(first.url, {
      jsonrpc: "2.0",
      method: "monitoring",
      params: { uuid: "site@restart", glideins_running: 2 },
      id: 1,
    })
    expect(await report.json()).toEqual({ jsonrpc: "2.0", result: "", id: 1 })
    first.proc.kill("SIGTERM")
    expect(await first.proc.exited).toBe(0)
    expect(await first.log()).toContain("SIGTERM: shutting down")

    const second = await startServe(["--demo", "--db", db])
    const clients = (await (await fetch(`${second.url}/api/clients`)).json()) as {
      clients: { uuid: string; running: number }[]
    }
    expect(clients.clients.map((c) => [c.uuid, c.running])).toEqual([["site@restart", 2]])
    second.proc.kill("SIGINT")
    expect(await second.proc.exited).toBe(0)
  })

  test("polls condor_q at start-up and keeps serving when it fails", async () => {
    const dir = tempDir("glidein-serve-")
    const condorQ = fakeTool(dir, "condor_q", "fail", RULES)
    const server = await startServe([
      "--condor-q",
      condorQ,
      "--db",
      join(dir, "serve.db"),
      "--constraint",
      "RequestGPUs > 0",
    ])
    const error = await until("the failed poll", async () => {
      const reply = (await (
        await rpc(server.url, { jsonrpc: "2.0", method: "get_state", id: 1 })
      ).json()) as {
        error?: { message: string }
      }
      return reply.error?.message.includes("last poll failed") ? reply.error.message : undefined
    })
    expect(error).toBe(
      "no demand table yet: the last poll failed: condor_q exited with status 1: -- Failed to fetch ads from: <192.0.2.7:9618?addrs=192.0.2.7-9618> : schedd.example.org",
    )
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200)
    server.proc.kill("SIGTERM")
    expect(await server.proc.exited).toBe(0)
  })

  test("watches the pool with condor_status beside condor_q, and shows the funnel", async () => {
    const dir = tempDir("glidein-serve-")
    const condorQ = fakeTool(dir, "condor_q", "print", RULES)
    const condorStatus = fakeTool(dir, "condor_status", "print", POOL)
    const server = await startServe([
      ...["--condor-q", condorQ, "--condor-status", condorStatus],
      ...["--db", join(dir, "serve.db")],
    ])
    type Funnel = {
      watched: boolean
      updated: number | null
      sites: { uuid: string; joined: number }[]
    }
    const funnel = await until("the first condor_status poll", async () => {
      const body = (await (await fetch(`${server.url}/api/funnel`)).json()) as Funnel
      return body.updated !== null ? body : undefined
    })
    expect(funnel.watched).toBe(true)
    expect(funnel.sites).toMatchObject([{ uuid: "ice@login1/test", joined: 2 }])
    expect(await (await fetch(`${server.url}/metrics`)).text()).toContain("glidein_pool_poll_ok 1")
    server.proc.kill("SIGTERM")
    expect(await server.proc.exited).toBe(0)
  })

  test("posts an alert when condor_q keeps failing, naming the webhook without its secret", async () => {
    const dir = tempDir("glidein-serve-")
    const condorQ = fakeTool(dir, "condor_q", "fail", RULES)
    type Event = { event: string; state: string; text: string }
    const events: Event[] = []
    const receiver = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(request) {
        events.push((await request.json()) as Event)
        return new Response("ok")
      },
    })
    try {
      const hook = `http://127.0.0.1:${receiver.port}/hooks/HOOK-SECRET`
      const config = join(dir, "serve.ini")
      writeFileSync(config, `[server]\nalert_url = ${hook}\n`)
      const server = await startServe([
        ...["--condor-q", condorQ, "--delay", "1", "--config", config, "--no-pool-watch"],
        ...["--db", join(dir, "serve.db")],
      ])
      // The third failed poll in a row fires, once.
      await until("the alert", async () => (events.length > 0 ? true : undefined))
      server.proc.kill("SIGTERM")
      expect(await server.proc.exited).toBe(0)
      expect(events.map((e) => [e.event, e.state])).toEqual([["condor_q-failing", "firing"]])
      expect(events[0]?.text).toContain("condor_q has failed 3 polls in a row")
      const log = await server.log()
      expect(log).toContain(`alerts: posting to http://127.0.0.1:${receiver.port}/…`)
      expect(log).not.toContain("HOOK-SECRET")
    } finally {
      receiver.stop(true)
    }
  })

  test("reads the tokens file again on SIGHUP, keeping the old tokens when the new file is bad", async () => {
    const dir = tempDir("glidein-serve-")
    const tokens = join(dir, "tokens")
    const ALBERTA = "s3cr3t-token-alberta-0001"
    const DESY = "s3cr3t-token-desy-00000002"
    writeFileSync(tokens, `alberta ${ALBERTA}\n`, { mode: 0o600 })
    const server = await startServe(["--demo", "--db", join(dir, "serve.db"), "--tokens", tokens])
    const report = (token: string) =>
      fetch(`${server.url}/jsonrpc`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
        body: JSON.stringify({
          jsonrpc: "2.0",
          method: "monitoring",
          params: { uuid: `site@${token.slice(13, 17)}`, glideins_running: 1 },
          id: 1,
        }),
      })
    expect((await report(DESY)).status).toBe(401)
    writeFileSync(tokens, `alberta ${ALBERTA}\ndesy ${DESY}\n`)
    server.proc.kill("SIGHUP")
    await until("the new token", async () => ((await report(DESY)).ok ? true : undefined))
    // A bad file is not taken: both tokens still work, and the server is still up.
    writeFileSync(tokens, "desy\n")
    server.proc.kill("SIGHUP")
    await until("the second SIGHUP", async () => {
      const clients = (await (await fetch(`${server.url}/api/clients`)).json()) as object
      // The log is read at the end; a request after the signal is handled after it.
      return clients ? true : undefined
    })
    expect((await report(ALBERTA)).status).toBe(200)
    expect((await report(DESY)).status).toBe(200)
    server.proc.kill("SIGTERM")
    expect(await server.proc.exited).toBe(0)
    const log = await server.log()
    expect(log).toContain(`SIGHUP: read 2 tokens from ${tokens}`)
    expect(log).toContain(
      `SIGHUP: kept the 2 tokens in use: ${tokens}:1: expected "name token", got 1 field`,
    )
  })

  test("warns when a second serve opens the same database, and says when the file is deleted", async () => {
    const dir = tempDir("glidein-serve-")
    const db = join(dir, "serve.db")
    const first = await startServe(["--demo", "--db", db])
    const second = await startServe(["--demo", "--db", db])
    rmSync(db)
    const reply = await rpc(first.url, {
      jsonrpc: "2.0",
      method: "monitoring",
      params: { uuid: "site@lost", glideins_running: 2 },
      id: 1,
    })
    expect(reply.status).toBe(200)
    const clients = (await (await fetch(`${first.url}/api/clients`)).json()) as {
      database_error: string | null
    }
    expect(clients.database_error).toContain(`database "${db}" was deleted while serving`)
    for (const server of [second, first]) {
      server.proc.kill("SIGTERM")
      expect(await server.proc.exited).toBe(0)
    }
    expect(await second.log()).toContain(
      `warning: another glidein serve has database "${db}" open (it holds "${db}.lock")`,
    )
    expect(await first.log()).toContain(`ERROR: database "${db}" was deleted while serving`)
  })

  test("refuses a bad flag with one line and exit 2", async () => {
    const proc = Bun.spawn([process.execPath, MAIN, "serve", "--port", "http"], {
      stdout: "pipe",
      stderr: "pipe",
    })
    track(proc)
    expect(await proc.exited).toBe(2)
    expect(await new Response(proc.stderr).text()).toBe(
      'glidein serve: --port expects a port number from 0 to 65535, got "http"\n',
    )
  })
})
