import { afterEach, describe, expect, test } from "bun:test"
import { chmodSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { cleanUp, MAIN, startServe, tempDir, track } from "../test-support.ts"

const FAKE = resolve(import.meta.dir, "../demand/testdata/fake-condor-q.sh")
const RULES = resolve(import.meta.dir, "../demand/testdata/condor-q-rules.txt")

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
    const condorQ = join(dir, "condor_q")
    writeFileSync(condorQ, `#!/bin/sh\nexec "${FAKE}" fail "${dir}" "${RULES}" -- "$@"\n`)
    chmodSync(condorQ, 0o755)
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
