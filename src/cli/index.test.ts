import { describe, expect, test } from "bun:test"
import { runGlidein } from "../test-support.ts"
import { COMMANDS } from "./index.ts"

describe("COMMANDS", () => {
  test("each command's --help opens with the summary glidein --help lists for it", () => {
    const top = runGlidein(["--help"]).stdout
    for (const { name, summary } of COMMANDS) {
      expect(top).toMatch(new RegExp(`^  ${name}\\s+${RegExp.escape(summary)}$`, "m"))
      const own = runGlidein([...name.split(" "), "--help"])
      expect(own.code).toBe(0)
      expect(own.stdout.split("\n")[0]).toBe(`glidein ${name} — ${summary}`)
    }
  })
})
