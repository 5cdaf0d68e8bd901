import { describe, expect, test } from "bun:test"
import { ConfigError } from "../errors.ts"
import { parseIni } from "./ini.ts"

/** key → value of one section, for short assertions. */
function values(text: string, section = "S"): Record<string, string> {
  const doc = parseIni(text, "t.ini")
  const s = section === "DEFAULT" ? doc.defaults : doc.sections.get(section)
  return Object.fromEntries([...(s?.entries.values() ?? [])].map((e) => [e.key, e.value]))
}

function errorOf(text: string, redact = false): ConfigError {
  try {
    parseIni(text, "t.ini", { redact })
  } catch (e) {
    if (e instanceof ConfigError) return e
    throw e
  }
  throw new Error("expected a ConfigError")
}

describe("parseIni()", () => {
  test("parseIni() splits on the first = or :, trimming around it", () => {
    expect(values("[S]\na = 1\nb: 2\nc=3\nd :4\nurl = http://h:1/x\nk:v = w\n")).toEqual({
      a: "1",
      b: "2",
      c: "3",
      d: "4",
      url: "http://h:1/x",
      k: "v = w",
    })
  })

  test("parseIni() skips # and ; comment lines but keeps # and ; inside values", () => {
    expect(values("# c\n; c\n[S]\n  # indented comment\na = x # y ; z\n;b = 2\n")).toEqual({
      a: "x # y ; z",
    })
  })

  test("parseIni() keeps keys case-sensitive", () => {
    expect(values("[S]\nKey = 1\nkey = 2\nKEY = 3\n")).toEqual({ Key: "1", key: "2", KEY: "3" })
  })

  test("parseIni() joins indented continuation lines, keeping blank lines inside a value", () => {
    expect(values("[S]\na = one\n  two\n\n\tthree\n\n\nb = 4\n")).toEqual({
      a: "one\ntwo\n\nthree",
      b: "4",
    })
  })

  test("parseIni() starts a value on the next line when the key line has none", () => {
    expect(values("[S]\na =\n  x\n  y\n")).toEqual({ a: "\nx\ny" })
  })

  test("parseIni() reads an indented line after a header as a key, after a key as more value", () => {
    expect(values("[S]\n  a = 1\n  b = 2\n    more\n")).toEqual({ a: "1", b: "2\nmore" })
    expect(values("[S]\na = 1\n  b = 2\n")).toEqual({ a: "1\nb = 2" })
  })

  test("parseIni() drops an indented comment line inside a value, with a warning", () => {
    const doc = parseIni("[S]\nh = #A one\n    #B two\n    C three\n", "t.ini")
    expect(doc.sections.get("S")!.entries.get("h")!.value).toBe("#A one\nC three")
    expect(doc.warnings).toEqual([
      {
        place: { file: "t.ini", line: 3, section: "S", key: "h" },
        message:
          'line 3 is indented like part of this value but starts with "#", so it is read as a comment and left out (as pyglidein did); put such lines in a submit_template instead',
      },
    ])
  })

  test("parseIni() does not warn about a comment at column 0 after a value", () => {
    expect(parseIni("[S]\nh = a\n#    b\n", "t.ini").warnings).toEqual([])
  })

  test("parseIni() records the line of every key", () => {
    const doc = parseIni("# x\n[S]\n\na = 1\n  b\nc = 2\n", "t.ini")
    const lines = [...doc.sections.get("S")!.entries.values()].map((e) => [e.key, e.line])
    expect(lines).toEqual([
      ["a", 4],
      ["c", 6],
    ])
    expect(doc.sections.get("S")!.line).toBe(2)
  })

  test("parseIni() keeps [DEFAULT] apart from the sections", () => {
    const doc = parseIni("[DEFAULT]\nd = 1\n[S]\na = 2\n", "t.ini")
    expect([...doc.sections.keys()]).toEqual(["S"])
    expect(doc.defaults.entries.get("d")!.value).toBe("1")
    expect(doc.defaults.line).toBe(1)
  })

  test("parseIni() merges a repeated section and warns naming both lines", () => {
    const doc = parseIni("[S]\na = 1\n[T]\n[S]\nb = 2\n", "t.ini")
    expect(values("[S]\na = 1\n[T]\n[S]\nb = 2\n")).toEqual({ a: "1", b: "2" })
    expect(doc.warnings).toEqual([
      {
        place: { file: "t.ini", line: 4, section: "S" },
        message:
          "section appears again (first on line 1); its keys are merged and later values win, as Python 2 did (pyglidein on Python 3 refused this file)",
      },
    ])
  })

  test("parseIni() lets a repeated key's later value win in the first one's place", () => {
    const doc = parseIni("[S]\na = 1\nb = 2\na = 3\n", "t.ini")
    const entries = [...doc.sections.get("S")!.entries.values()]
    expect(entries.map((e) => [e.key, e.value, e.line])).toEqual([
      ["a", "3", 4],
      ["b", "2", 3],
    ])
    expect(doc.warnings).toEqual([
      {
        place: { file: "t.ini", line: 4, section: "S", key: "a" },
        message:
          "set again (first on line 2); this later value wins, as in Python 2 (pyglidein on Python 3 refused this file)",
      },
    ])
  })

  test("parseIni() reads \\r\\n and \\r line ends and ignores a byte-order mark", () => {
    expect(values("\ufeff[S]\r\na = 1\r\nb = 2\rc = 3")).toEqual({ a: "1", b: "2", c: "3" })
  })

  test("parseIni() takes a header up to its last ], as ConfigParser's permissive pattern does", () => {
    const doc = parseIni("[S] ; note\na = 1\n[x]y]\nb = 2\n", "t.ini")
    expect([...doc.sections.keys()]).toEqual(["S", "x]y"])
  })

  test("parseIni() strips Python whitespace (e.g. U+0085), not only JavaScript's", () => {
    expect(values("[S]\na = x\u0085\u001c\n")).toEqual({ a: "x" })
  })

  test("parseIni() refuses a key before any section header", () => {
    expect(errorOf("a = 1\n").message).toBe(
      't.ini:1: expected a [Section] header before the first key, got "a = 1"',
    )
  })

  test("parseIni() refuses a line that is neither key, header, comment nor continuation", () => {
    expect(errorOf("[S]\na = 1\njust words\n").message).toBe(
      't.ini:3: [S] expected "key = value" or an indented continuation line, got "just words"',
    )
  })

  test("parseIni() refuses a key line without a key", () => {
    expect(errorOf("[S]\n= 1\n").message).toBe(
      't.ini:2: [S] expected a key name before "=", got "= 1"',
    )
  })

  test("parseIni() with redact never quotes the file in an error", () => {
    const e = errorOf("[S]\nsecret-token-abc\n", true)
    expect(e.message).toBe('t.ini:2: [S] expected "key = value" or an indented continuation line')
    expect(errorOf("secret = abc\n", true).message).not.toContain("abc")
  })
})
