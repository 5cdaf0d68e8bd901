import { describe, expect, test } from "bun:test"
import { literalEval, typedValue } from "./literal-eval.ts"

describe("literalEval()", () => {
  test("literalEval() reads booleans and None, spelled as Python spells them", () => {
    expect(literalEval("True")).toBe(true)
    expect(literalEval("False")).toBe(false)
    expect(literalEval("None")).toBeNull()
    expect(literalEval("true")).toBeUndefined()
    expect(literalEval("none")).toBeUndefined()
  })

  test("literalEval() reads Python integers: signs, underscores, hex, octal, binary", () => {
    expect(literalEval("42")).toBe(42)
    expect(literalEval("-1")).toBe(-1)
    expect(literalEval("+ 7")).toBe(7)
    expect(literalEval("1_000")).toBe(1000)
    expect(literalEval("0x1F")).toBe(31)
    expect(literalEval("0o17")).toBe(15)
    expect(literalEval("0b101")).toBe(5)
    expect(literalEval("007")).toBeUndefined() // leading zeros are a SyntaxError
    expect(literalEval("1__0")).toBeUndefined()
    expect(literalEval("--1")).toBeUndefined()
    expect(literalEval("-True")).toBeUndefined()
  })

  test("literalEval() reads Python floats", () => {
    expect(literalEval("1.5")).toBe(1.5)
    expect(literalEval(".5")).toBe(0.5)
    expect(literalEval("5.")).toBe(5)
    expect(literalEval("2e3")).toBe(2000)
    expect(literalEval("1_0.2_5")).toBe(10.25)
    expect(Object.is(literalEval("-0.0"), -0)).toBe(true)
    expect(Object.is(literalEval("-0"), 0)).toBe(true)
  })

  test("literalEval() reads every string-literal form and joins adjacent ones", () => {
    expect(literalEval('"a"')).toBe("a")
    expect(literalEval("'a' \"b\"")).toBe("ab")
    expect(literalEval("'''x\ny'''")).toBe("x\ny")
    expect(literalEval("r'\\d+'")).toBe("\\d+")
    expect(literalEval("u'x'")).toBe("x")
    expect(literalEval("'\\t\\x41\\u00e9\\U0001F600\\101'")).toBe("\tAé😀A")
    expect(literalEval("'\\d'")).toBe("\\d") // unknown escapes stay, as in Python
    expect(literalEval("'\\x4'")).toBeUndefined()
    expect(literalEval("'open")).toBeUndefined()
  })

  test("literalEval() reads lists, tuples (as arrays) and dicts, across lines", () => {
    expect(literalEval('["gpu", "memory"]')).toEqual(["gpu", "memory"])
    expect(literalEval("[1,\n  2,  # two\n\n  3,]")).toEqual([1, 2, 3])
    expect(literalEval("(1, 2)")).toEqual([1, 2])
    expect(literalEval("0, 1")).toEqual([0, 1])
    expect(literalEval("1,")).toEqual([1])
    expect(literalEval("()")).toEqual([])
    expect(literalEval("(1)")).toBe(1)
    expect(literalEval("{'a': [1, {'b': None}], 'a': 2}")).toEqual({ a: 2 })
  })

  test("literalEval() ignores a Python comment after the literal", () => {
    expect(literalEval("100 # jobs")).toBe(100)
  })

  test("literalEval() leaves values with no JSON form as text: bytes, complex, sets, ...", () => {
    for (const v of ["b'x'", "1j", "1+2j", "{1, 2}", "{1: 2}", "...", "set()", "1e999"])
      expect(literalEval(v)).toBeUndefined()
  })

  test("literalEval() refuses what is not a literal: names, calls, operators, f-strings", () => {
    for (const v of [
      "slurm",
      "bsub <",
      "$USER",
      "gpu, cpu",
      "1 + 2",
      "[1][0]",
      "f'x'",
      "a=b",
      "1\n2",
    ])
      expect(literalEval(v)).toBeUndefined()
  })

  test("literalEval() does not give special meaning to __proto__", () => {
    const v = literalEval("{'__proto__': 1}") as Record<string, number>
    expect(Object.keys(v)).toEqual(["__proto__"])
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype)
  })
})

test("typedValue() gives the literal's value, or else the text itself", () => {
  expect(typedValue("None")).toBeNull()
  expect(typedValue("12")).toBe(12)
  expect(typedValue("sbatch -p gpu")).toBe("sbatch -p gpu")
})
