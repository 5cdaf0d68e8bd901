import { afterEach, describe, expect, test } from "bun:test"
import { readFileSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { cleanUp, tempDir } from "../../test-support.ts"
import { tryLock } from "./config-lock.ts"

afterEach(cleanUp)

describe("tryLock()", () => {
  test("tryLock() refuses a second holder until the first releases", async () => {
    const path = join(tempDir("glidein-lock-"), "lock")
    const first = await tryLock(path)
    expect(first).toBeDefined()
    expect(await tryLock(path)).toBeUndefined()
    first?.release()
    first?.release()
    const again = await tryLock(path)
    expect(again).toBeDefined()
    again?.release()
  })

  test("tryLock() is held against another process and freed when that process dies", async () => {
    const path = join(tempDir("glidein-lock-"), "lock")
    const script = `import { tryLock } from ${JSON.stringify(join(import.meta.dir, "config-lock.ts"))}
const lock = await tryLock(${JSON.stringify(path)}); console.log(lock ? "held" : "busy"); await Bun.sleep(60_000)`
    const child = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe" })
    try {
      const reader = child.stdout.getReader()
      const { value } = await reader.read()
      expect(new TextDecoder().decode(value)).toBe("held\n")
      expect(await tryLock(path)).toBeUndefined()
    } finally {
      child.kill("SIGKILL")
      await child.exited
    }
    const lock = await tryLock(path)
    expect(lock).toBeDefined()
    lock?.release()
  })

  test("tryLock() refuses a FIFO planted as the lock instead of hanging", async () => {
    const path = join(tempDir("glidein-lock-"), "lock")
    expect(Bun.spawnSync(["mkfifo", path]).exitCode).toBe(0)
    await expect(tryLock(path)).rejects.toThrow(`cannot open the lock file ${path} (it is a FIFO)`)
  })

  test("tryLock() refuses a symlink planted as the lock, and writes nothing through it", async () => {
    const dir = tempDir("glidein-lock-")
    writeFileSync(join(dir, "target"), "precious\n")
    symlinkSync(join(dir, "target"), join(dir, "lock"))
    await expect(tryLock(join(dir, "lock"))).rejects.toThrow("it is a symbolic link")
    expect(readFileSync(join(dir, "target"), "utf8")).toBe("precious\n")
  })
})
