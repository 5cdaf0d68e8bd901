import { describe, expect, test } from "bun:test"
import { join } from "node:path"

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
