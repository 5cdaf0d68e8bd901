import { describe, expect, test } from "bun:test"
import { join } from "node:path"
import { timestamped } from "./std-output.ts"

const module = JSON.stringify(join(import.meta.dir, "std-output.ts"))

describe("writeStdout()", () => {
  test("writeStdout() writes everything, in order, even into a slow pipe", async () => {
    const script = `import { writeStdout } from ${module}
for (let i = 0; i < 64; i++) writeStdout(String(i).padEnd(65536, ".") + "\\n")`
    const child = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe" })
    await Bun.sleep(100)
    const text = await new Response(child.stdout).text()
    expect(await child.exited).toBe(0)
    const lines = text.split("\n").filter(Boolean)
    expect(lines.map((l) => Number.parseInt(l, 10))).toEqual([...Array(64).keys()])
  })

  test("writeStdout() ignores a reader that went away", async () => {
    const script = `import { writeStdout } from ${module}
for (let i = 0; i < 1000; i++) writeStdout("x".repeat(65536))
console.error("finished")`
    const child = Bun.spawn(
      [
        "/bin/sh",
        "-c",
        `${process.execPath} -e '${script.replaceAll("'", "'\\''")}' | head -c 10 >/dev/null`,
      ],
      {
        stderr: "pipe",
      },
    )
    expect(await child.exited).toBe(0)
    expect(await new Response(child.stderr).text()).toBe("finished\n")
  })
})

describe("timestamped()", () => {
  test("timestamped() starts every line it is given with the local time and its offset", () => {
    const out: string[] = []
    const write = timestamped(
      (t) => out.push(t),
      () => new Date(2026, 11, 7, 9, 5, 3),
    )
    write("glidein submit: one\nglidein submit: two\n")
    const stamp = /^2026-12-07T09:05:03[+-]\d\d:\d\d $/
    const lines = out.join("").split("\n").filter(Boolean)
    expect(lines).toHaveLength(2)
    for (const line of lines) expect(line.slice(0, 26)).toMatch(stamp)
    expect(lines.map((l) => l.slice(26))).toEqual(["glidein submit: one", "glidein submit: two"])
  })
})
