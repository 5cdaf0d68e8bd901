import { afterEach, describe, expect, test } from "bun:test"
import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { loadTokens } from "../server/tokens.ts"
import { cleanUp, runGlidein, tempDir } from "../test-support.ts"

afterEach(cleanUp)

describe("glidein token create", () => {
  test("prints a new token once, writes the file 0600 and adds to it in place", () => {
    const file = join(tempDir("glidein-token-"), "etc", "tokens")
    const first = runGlidein(["token", "create", "alberta", "--tokens", file])
    expect(first.code).toBe(0)
    const token = first.stdout.trim()
    expect(token).toMatch(/^[\w-]{43}$/)
    expect(first.stderr).toContain(`added the token "alberta" to ${file}`)
    expect(first.stderr).not.toContain(token)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const inode = statSync(file).ino
    const second = runGlidein(["token", "create", "desy", "--tokens", file])
    expect(second.code).toBe(0)
    expect(second.stdout.trim()).not.toBe(token)
    // Appended in place: the file keeps its inode, so its owner and mode stay.
    expect(statSync(file).ino).toBe(inode)
    const tokens = loadTokens(file)
    expect(tokens.size).toBe(2)
    expect(tokens.nameFor(`Bearer ${token}`)).toBe("alberta")
    expect(tokens.nameFor(`Bearer ${second.stdout.trim()}`)).toBe("desy")
  })

  test("refuses a name already in the file, a bad name, and a file others can read", () => {
    const dir = tempDir("glidein-token-")
    const file = join(dir, "tokens")
    writeFileSync(file, "# sites\nalberta s3cr3t-token-alberta-0001", { mode: 0o600 })
    const again = runGlidein(["token", "create", "alberta", "--tokens", file])
    expect(again.code).toBe(2)
    expect(again.stderr).toContain(
      `${file}:2: a token named "alberta" is already here; to replace it, delete this line first`,
    )
    expect(again.stdout).toBe("")
    const bad = runGlidein(["token", "create", "al/berta", "--tokens", file])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('expected a name of letters, digits, "_", ".", "@" or "-"')
    // A file without a final newline gets one before the new line.
    expect(runGlidein(["token", "create", "desy", "--tokens", file]).code).toBe(0)
    expect(readFileSync(file, "utf8").split("\n")[2]).toMatch(/^desy [\w-]{43}$/)
    chmodSync(file, 0o644)
    const open = runGlidein(["token", "create", "kit", "--tokens", file])
    expect(open.code).toBe(2)
    expect(open.stderr).toContain("so other users can read it")
    expect(readFileSync(file, "utf8")).not.toContain("kit ")
  })
})
