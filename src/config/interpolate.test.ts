import { describe, expect, test } from "bun:test"
import { ConfigError } from "../errors.ts"
import { parseIni } from "./ini.ts"
import { interpolate, interpolateInSection, referencedNames } from "./interpolate.ts"

const place = { file: "t.ini", line: 7, section: "Cluster", key: "running_cmd" }

function expand(raw: string, vars: Record<string, string> = {}, redact = false): string {
  return interpolate(raw, (name) => vars[name], place, redact)
}

function errorOf(raw: string, vars: Record<string, string> = {}, redact = false): string {
  try {
    expand(raw, vars, redact)
  } catch (e) {
    if (e instanceof ConfigError) return e.message
    throw e
  }
  throw new Error("expected a ConfigError")
}

describe("interpolate()", () => {
  test("interpolate() replaces %(name)s with the named value", () => {
    expect(expand("%(home)s/glidein", { home: "/home/u" })).toBe("/home/u/glidein")
  })

  test("interpolate() expands references inside referenced values", () => {
    expect(expand("%(b)s!", { a: "x", b: "%(a)s-%(a)s" })).toBe("x-x!")
  })

  test("interpolate() turns %% into % and leaves $VAR (braced or not) to the shell", () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax, on purpose
    expect(expand("100%% of $USER in ${HOME}")).toBe("100% of $USER in ${HOME}")
    expect(expand("%(p)s", { p: "50%%" })).toBe("50%")
  })

  test("interpolate() names the missing key", () => {
    expect(errorOf("%(nope)s")).toBe(
      't.ini:7: [Cluster] running_cmd: %(name)s names "nope", which is not set in this section or [DEFAULT] (write "%%" for a literal "%")',
    )
    expect(errorOf("%(two\nlines)s")).toContain('names "two …", which')
    expect(errorOf("%(two\nlines)s")).not.toContain("\n")
  })

  test("interpolate() refuses a lone %, saying how to write one", () => {
    expect(errorOf("date +%s")).toBe(
      't.ini:7: [Cluster] running_cmd: a lone "%" must be written "%%" (ConfigParser reads "%" as the start of %(name)s)',
    )
  })

  test("interpolate() refuses %( without )s", () => {
    expect(errorOf("%(name)d")).toBe(
      't.ini:7: [Cluster] running_cmd: expected %(name)s after "%(", or "%%" for a literal "%" (ConfigParser\'s interpolation)',
    )
  })

  test("interpolate() stops a value that refers to itself", () => {
    expect(errorOf("%(a)s", { a: "%(a)s" })).toBe(
      "t.ini:7: [Cluster] running_cmd: %(name)s references nest more than 10 deep; does a value refer to itself?",
    )
  })

  test("interpolate() with redact does not name what a secret refers to", () => {
    expect(errorOf("x%(secretname)s", {}, true)).not.toContain("secretname")
  })
})

describe("interpolateInSection()", () => {
  test("interpolateInSection() takes the section's own value of a name before [DEFAULT]'s", () => {
    const doc = parseIni("[DEFAULT]\nd = /default\ne = /e\n[A]\nd = /own\n", "t.ini")
    const a = doc.sections.get("A")!
    expect(interpolateInSection("%(d)s %(e)s", doc, a, place)).toBe("/own /e")
  })
})

describe("referencedNames()", () => {
  test("referencedNames() lists the names of every %(name)s", () => {
    expect(referencedNames("%(a)s/x/%(b c)s %%")).toEqual(["a", "b c"])
  })
})
