// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings hold shell syntax
import { expect, test } from "bun:test"
import { isEnvName, quoteExpanding, quoteLiteral } from "./shell.ts"

/** What /bin/sh makes of `word`, with GLIDEIN_TEST set. */
function shell(word: string): string {
  const run = Bun.spawnSync(["sh", "-c", `printf '%s' ${word}`], {
    env: { PATH: "/usr/bin:/bin", GLIDEIN_TEST: "value" },
  })
  return run.stdout.toString()
}

const NASTY = [
  "it's",
  '"',
  "`id`",
  "$(id)",
  "\\",
  "a\nb",
  "*",
  "; id",
  "$",
  "$1",
  "${X:-y}",
  "",
  " ",
]

test("quoteLiteral() gives the shell back exactly the text", () => {
  for (const text of [...NASTY, "$GLIDEIN_TEST"]) expect(shell(quoteLiteral(text))).toBe(text)
})

test("quoteExpanding() expands only $NAME and ${NAME}", () => {
  for (const text of NASTY) expect(shell(quoteExpanding(text))).toBe(text)
  expect(shell(quoteExpanding("/a/$GLIDEIN_TEST/${GLIDEIN_TEST}_x/$UNSET."))).toBe(
    "/a/value/value_x/.",
  )
})

test("quoteLiteral() and quoteExpanding() refuse a NUL byte", () => {
  expect(() => quoteLiteral("a\0b")).toThrow("NUL")
  expect(() => quoteExpanding("a\0b")).toThrow("NUL")
})

test("isEnvName() accepts identifiers only", () => {
  expect(["CPUS", "_x", "ResourceName", "A1"].every(isEnvName)).toBe(true)
  expect(["1A", "A-B", "A B", "", "A=B"].some(isEnvName)).toBe(false)
})
