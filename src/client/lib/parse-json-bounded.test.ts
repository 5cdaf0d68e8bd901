import { describe, expect, test } from "bun:test"
import { JsonRefused, jsonDepth, MAX_JSON_DEPTH, parseJsonBounded } from "./parse-json-bounded.ts"

const nested = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`

function refusal(text: string): JsonRefused {
  try {
    parseJsonBounded(text)
  } catch (error) {
    if (error instanceof JsonRefused) return error
    throw error
  }
  throw new Error("expected a refusal")
}

describe("jsonDepth()", () => {
  test("jsonDepth() counts lists and objects, not brackets inside strings", () => {
    expect(jsonDepth("1")).toBe(0)
    expect(jsonDepth('{"a":[1,{"b":[]}]}')).toBe(4)
    expect(jsonDepth('["[[[[{{{{", "\\"[[[["]')).toBe(1)
    expect(jsonDepth('{"a\\\\":[[1]]}')).toBe(3)
  })

  test("jsonDepth() stops as soon as it passes the bound", () => {
    expect(jsonDepth(nested(1_000_000), 64)).toBe(65)
  })
})

describe("parseJsonBounded()", () => {
  test("parseJsonBounded() parses JSON nested up to the bound", () => {
    expect(parseJsonBounded('{"result":[{"cpus":1}]}')).toEqual({ result: [{ cpus: 1 }] })
    expect(JSON.stringify(parseJsonBounded(nested(MAX_JSON_DEPTH)))).toBe(nested(MAX_JSON_DEPTH))
  })

  test("parseJsonBounded() refuses nesting past the bound before parsing", () => {
    const error = refusal(nested(MAX_JSON_DEPTH + 1))
    expect(error.message).toBe("nested deeper than 64 levels")
    expect(error.tooDeep).toBe(true)
  })

  test("parseJsonBounded() refuses text that is not JSON", () => {
    for (const text of ["", "<html>", '{"a":', "{a:1}", "]]]]"]) {
      expect(refusal(text)).toMatchObject({ message: "not JSON", tooDeep: false })
    }
  })
})
