import { describe, expect, test } from "bun:test"
import { RPC_CODES, RpcError } from "../protocol/json-rpc.ts"
import { handleJsonRpc, MAX_BATCH, RawJson, rpcRefusal } from "./json-rpc.ts"

const methods = {
  echo: (params: unknown) => params ?? "nothing",
  raw: () => new RawJson('[{"a":1}]'),
  picky: () => {
    throw new RpcError(RPC_CODES.invalidParams, "params.x: expected a number")
  },
  broken: () => {
    throw new Error("database is locked")
  },
  later: () => {
    throw new RpcError(RPC_CODES.notReady, "no demand table yet")
  },
}

function call(body: string) {
  const logged: string[] = []
  const reply = handleJsonRpc(body, methods, {}, (l) => logged.push(l))
  return { ...reply, json: reply.body === null ? null : JSON.parse(reply.body), logged }
}

describe("handleJsonRpc()", () => {
  test("answers a call with its result and id", () => {
    expect(call('{"jsonrpc":"2.0","method":"echo","params":{"x":1},"id":7}')).toMatchObject({
      status: 200,
      json: { jsonrpc: "2.0", result: { x: 1 }, id: 7 },
    })
    expect(call('{"jsonrpc":"2.0","method":"echo","id":"abc"}').json).toEqual({
      jsonrpc: "2.0",
      result: "nothing",
      id: "abc",
    })
  })

  test("splices a pre-serialized result in as is", () => {
    expect(call('{"jsonrpc":"2.0","method":"raw","id":null}').body).toBe(
      '{"jsonrpc":"2.0","result":[{"a":1}],"id":null}',
    )
  })

  const parseErrors: [string, string, string][] = [
    ["not JSON", "{not json", "the body is not valid JSON"],
    ["empty", "", "the body is not valid JSON"],
    ["truncated", '{"jsonrpc":"2.0","method":"echo"', "the body is not valid JSON"],
  ]
  for (const [what, body, data] of parseErrors) {
    test(`answers a body that is ${what} with -32700 Parse error (pyglidein: an HTML 400 page)`, () => {
      expect(call(body)).toMatchObject({
        status: 400,
        json: { jsonrpc: "2.0", error: { code: -32700, message: "Parse error", data }, id: null },
      })
    })
  }

  const invalid: [string, string, string, unknown][] = [
    ["a number", "42", "expected a request object", null],
    ["a string", '"get_state"', "expected a request object", null],
    ["null", "null", "expected a request object", null],
    ["without jsonrpc", '{"method":"echo","id":1}', '"jsonrpc" must be "2.0"', 1],
    ["with jsonrpc 1.0", '{"jsonrpc":"1.0","method":"echo","id":1}', '"jsonrpc" must be "2.0"', 1],
    [
      "with a numeric method",
      '{"jsonrpc":"2.0","method":5,"id":1}',
      '"method" must be a string',
      1,
    ],
    ["without a method", '{"jsonrpc":"2.0","id":1}', '"method" must be a string', 1],
    [
      "with an object id",
      '{"jsonrpc":"2.0","method":"echo","id":{}}',
      '"id" must be a string, a number or null',
      null,
    ],
    [
      "with string params",
      '{"jsonrpc":"2.0","method":"echo","params":"x","id":1}',
      '"params" must be an object or an array',
      1,
    ],
  ]
  for (const [what, body, data, id] of invalid) {
    test(`answers a request ${what} with -32600 Invalid Request (pyglidein: some with a 500)`, () => {
      expect(call(body)).toMatchObject({
        status: 400,
        json: { error: { code: -32600, message: "Invalid Request", data }, id },
      })
    })
  }

  test("answers an unknown method with -32601, and does not reach inherited properties", () => {
    for (const method of ["nope", "toString", "__proto__", "constructor", "_private"]) {
      expect(call(JSON.stringify({ jsonrpc: "2.0", method, id: 1 }))).toMatchObject({
        status: 400,
        json: { error: { code: -32601, message: "Method not found" }, id: 1 },
      })
    }
  })

  test("passes a method's RpcError through and hides any other error behind -32603", () => {
    expect(call('{"jsonrpc":"2.0","method":"picky","id":1}').json).toEqual({
      jsonrpc: "2.0",
      error: { code: -32602, message: "Invalid params", data: "params.x: expected a number" },
      id: 1,
    })
    const broken = call('{"jsonrpc":"2.0","method":"broken","id":2}')
    expect(broken).toMatchObject({
      status: 500,
      json: { error: { code: -32603, message: "Internal error" } },
    })
    expect(broken.body).not.toContain("locked")
    expect(broken.logged).toEqual(["jsonrpc: broken failed: database is locked"])
    expect(call('{"jsonrpc":"2.0","method":"later","id":3}')).toMatchObject({
      status: 503,
      json: { error: { code: -32000, message: "no demand table yet" } },
    })
  })

  test("runs a notification (no id) and answers nothing", () => {
    expect(call('{"jsonrpc":"2.0","method":"echo"}')).toMatchObject({ status: 204, body: null })
    expect(call('{"jsonrpc":"2.0","method":"nope"}')).toMatchObject({ status: 204, body: null })
  })

  test("answers a batch with an array of the non-notification answers (pyglidein refused batches)", () => {
    const reply = call(
      JSON.stringify([
        { jsonrpc: "2.0", method: "echo", params: [1], id: 1 },
        { jsonrpc: "2.0", method: "echo" },
        { jsonrpc: "2.0", method: "nope", id: 2 },
        7,
      ]),
    )
    expect(reply.status).toBe(200)
    expect(reply.json).toEqual([
      { jsonrpc: "2.0", result: [1], id: 1 },
      {
        jsonrpc: "2.0",
        error: { code: -32601, message: "Method not found", data: 'no method "nope"' },
        id: 2,
      },
      {
        jsonrpc: "2.0",
        error: { code: -32600, message: "Invalid Request", data: "expected a request object" },
        id: null,
      },
    ])
    expect(call('[{"jsonrpc":"2.0","method":"echo"}]')).toMatchObject({ status: 204, body: null })
  })

  test("refuses an empty batch and one larger than the limit as a whole", () => {
    expect(call("[]")).toMatchObject({
      status: 400,
      json: { error: { code: -32600, data: "empty batch" } },
    })
    const big = JSON.stringify(Array(MAX_BATCH + 1).fill({ jsonrpc: "2.0", method: "echo", id: 1 }))
    expect(call(big).json.error.data).toBe(`batch of more than ${MAX_BATCH} requests`)
  })
})

describe("rpcRefusal()", () => {
  test("is a JSON-RPC error with the given status", () => {
    expect(rpcRefusal(413, -32600, "too big")).toEqual({
      status: 413,
      body: '{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request","data":"too big"},"id":null}',
    })
  })
})
