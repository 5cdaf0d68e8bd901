import { expect, test } from "bun:test"
import { serverBase } from "../../cli/status.ts"
import { UsageError } from "../../errors.ts"
import { serverUrl } from "../submit/demand-origin.ts"
import { serverAddress } from "./server-address.ts"

test("serverAddress() takes host:port, http(s) URLs and a config's …/jsonrpc address", () => {
  expect(serverAddress("pool.example.org:11001", "x").href).toBe("http://pool.example.org:11001/")
  expect(serverAddress("https://pool/glidein/jsonrpc", "x").href).toBe(
    "https://pool/glidein/jsonrpc",
  )
  expect(() => serverAddress("ftp://pool", "glidein submit: --server")).toThrow(
    'glidein submit: --server expects an http:// or https:// URL, got "ftp://pool"',
  )
  expect(() => serverAddress("http://[bad", "x")).toThrow(UsageError)
})

test("submit and status read a --server address alike (submit refused pool:11001)", () => {
  for (const address of ["pool:11001", "http://pool:11001", "http://pool:11001/jsonrpc"]) {
    expect(serverUrl(address)).toBe("http://pool:11001/jsonrpc")
    expect(serverBase(address)).toBe("http://pool:11001")
  }
})
