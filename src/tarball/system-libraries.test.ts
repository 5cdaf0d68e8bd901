import { describe, expect, test } from "bun:test"
import { C_LIBRARY, OS_LIBRARY } from "./system-libraries.ts"

describe("the node's libraries", () => {
  test("the distribution's libraries HTCondor 25 links against are the node's, HTCondor's own are not", () => {
    // What a 25.14 build's daemons need beside their own (seen in its DT_NEEDED lists).
    for (const name of [
      "libstdc++.so.6",
      "libgcc_s.so.1",
      "libcrypto.so.3",
      "libpcre2-8.so.0",
      "libuuid.so.1",
      "libsqlite3.so.0",
    ]) {
      expect({ name, os: OS_LIBRARY.test(name) }).toEqual({ name, os: true })
    }
    for (const name of ["libcondor_utils_25_14_0.so", "libclassad.so.25", "libSciTokens.so.0"]) {
      expect({ name, os: OS_LIBRARY.test(name) || C_LIBRARY.has(name) }).toEqual({
        name,
        os: false,
      })
    }
    expect(C_LIBRARY.has("libc.so.6")).toBe(true)
  })
})
