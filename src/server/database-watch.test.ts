import { afterEach, describe, expect, test } from "bun:test"
import { renameSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { cleanUp, demandSnapshot, tempDir } from "../test-support.ts"
import { createApp } from "./app.ts"
import { lockDatabase } from "./database-lock.ts"
import { DatabaseWatch } from "./database-watch.ts"
import { ReportStore } from "./report-store.ts"

afterEach(cleanUp)

describe("DatabaseWatch", () => {
  test("says once that the file was deleted, again an hour later, and when it is back", () => {
    const path = join(tempDir("glidein-watch-"), "serve.db")
    writeFileSync(path, "")
    const logged: string[] = []
    let now = 0
    const watch = new DatabaseWatch(
      path,
      (l) => logged.push(l),
      () => now,
    )
    expect(watch.check()).toBeUndefined()
    renameSync(path, `${path}.aside`)
    expect(watch.check()).toContain(`database "${path}" was deleted while serving`)
    now += 60_000
    watch.check()
    expect(logged).toHaveLength(1)
    expect(logged[0]).toStartWith(`ERROR: database "${path}" was deleted while serving`)
    now += 3_600_000
    watch.check()
    expect(logged).toHaveLength(2)
    renameSync(`${path}.aside`, path)
    expect(watch.check()).toBeUndefined()
    expect(logged[2]).toBe(`database "${path}" is back: reports are kept again`)
  })

  test("tells a file put in the database's place from the one opened", () => {
    const path = join(tempDir("glidein-watch-"), "serve.db")
    writeFileSync(path, "")
    const watch = new DatabaseWatch(path, () => {})
    // A copy moved into its place (a restore from a backup).
    writeFileSync(`${path}.copy`, "")
    renameSync(`${path}.copy`, path)
    expect(watch.check()).toContain(`database "${path}" was replaced while serving`)
  })

  test("createApp() shows the problem on /healthz and /api/clients, and looks at every report", async () => {
    const dir = tempDir("glidein-watch-")
    const path = join(dir, "serve.db")
    const store = ReportStore.open(path)
    const logged: string[] = []
    const watch = new DatabaseWatch(path, (l) => logged.push(l))
    const app = createApp({
      demand: () => demandSnapshot([], Date.now()),
      store,
      log: () => {},
      version: "test",
      delayMs: 300_000,
      databaseProblem: () => watch.check(),
    })
    const health = async () =>
      ((await (await app.request("/healthz")).json()) as { database_error: string | null })
        .database_error
    expect(await health()).toBeNull()
    rmSync(path)
    const body =
      '{"jsonrpc":"2.0","method":"monitoring","params":{"uuid":"a","glideins_running":1},"id":1}'
    expect((await app.request("/jsonrpc", { method: "POST", body })).status).toBe(200)
    expect(logged).toEqual([expect.stringContaining("was deleted while serving")])
    expect(await health()).toContain("was deleted while serving")
    const clients = (await (await app.request("/api/clients")).json()) as {
      database_error: string | null
    }
    expect(clients.database_error).toContain("was deleted while serving")
    store.close()
  })
})

describe("lockDatabase()", () => {
  test("lets one holder have the lock beside a database at a time", () => {
    const path = join(tempDir("glidein-lock-"), "serve.db")
    const first = lockDatabase(path)
    expect(first.held).toBe(true)
    const second = lockDatabase(path)
    expect(second).toEqual({
      held: false,
      why: `another glidein serve has database "${path}" open (it holds "${path}.lock"); both write reports to it and poll condor_q: stop one of them`,
    })
    if (first.held) first.release()
    expect(lockDatabase(path).held).toBe(true)
  })
})
