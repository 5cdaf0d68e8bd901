import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { appendFileSync, rmSync } from "node:fs"
import path from "node:path"
import { buildTarball } from "./build-tarball.ts"
import { injectCredentials } from "./inject-credentials.ts"
import { inspectTarball } from "./inspect-tarball.ts"
import {
  DAMAGED_HEADER,
  gzipTar,
  manyMembers,
  put,
  removeTempDirs,
  run,
  standInInstall,
  tempDir,
} from "./test-support.ts"

const PASSWORD = Buffer.from("b3a7f0c2e1d4 pool secret")
const EXPIRED = 1_700_000_000
const claims = Buffer.from(JSON.stringify({ sub: "glidein@pool", exp: EXPIRED })).toString(
  "base64url",
)
const TOKEN = Buffer.from(`eyJhbGciOiJIUzI1NiJ9.${claims}.c2lnbmF0dXJlLXNlY3JldA\n`)

let dir: string
let built: string
beforeAll(async () => {
  dir = tempDir()
  built = path.join(dir, "glidein.tar.gz")
  await buildTarball({
    condor: standInInstall(path.join(dir, "condor")),
    output: built,
    credentials: { password: PASSWORD, token: TOKEN },
    version: "0.0.0-test",
  })
})
afterAll(removeTempDirs)

describe("inspectTarball()", () => {
  test("describes the credentials without their content", async () => {
    const report = await inspectTarball(built)
    expect(report.password).toEqual({
      name: "passwdfile",
      bytes: PASSWORD.length,
      mode: 0o600,
      usable: true,
    })
    expect(report.tokens).toEqual([
      {
        name: "tokens.d/glidein.token",
        bytes: TOKEN.length,
        mode: 0o600,
        count: 1,
        valid: true,
        expires: EXPIRED,
      },
    ])
    const json = JSON.stringify(report)
    for (const secret of ["pool secret", "c2lnbmF0dXJlLXNlY3JldA", claims]) {
      expect(json).not.toContain(secret)
    }
    expect(report.missing).toEqual([])
    expect(report.manifest.status).toBe("verified")
    expect(report.topLevel).toEqual([
      "SHA256SUMS",
      "glideinExec",
      "glidein_condor_config",
      "passwdfile",
      "tokens.d",
      "user_job_wrapper.sh",
    ])
  })

  test("flags a password file HTCondor would read as empty", async () => {
    const output = path.join(dir, "empty-password.tar.gz")
    // condor_store_cred XORs with DE AD BE EF: a first byte of 0xde unscrambles to NUL
    await injectCredentials({
      input: built,
      output,
      credentials: { password: Uint8Array.of(0xde, 0x01, 0x02) },
    })
    const report = await inspectTarball(output)
    expect(report.password?.usable).toBe(false)
    expect(report.manifest.status).toBe("verified") // credentials are not in the manifest
  })

  test("finds files changed, removed or added after the build", async () => {
    const unpacked = tempDir()
    run(["tar", "xzf", built, "-C", unpacked])
    appendFileSync(path.join(unpacked, "glideinExec/sbin/condor_startd"), "# patched\n")
    rmSync(path.join(unpacked, "glideinExec/libexec/curl_plugin"))
    put(path.join(unpacked, "glideinExec/libexec/extra"), "not from the build")
    const tampered = path.join(dir, "tampered.tar.gz")
    run(["tar", "czf", tampered, "-C", unpacked, "."])
    const report = await inspectTarball(tampered)
    expect(report.manifest).toMatchObject({
      status: "failed",
      mismatched: ["glideinExec/sbin/condor_startd"],
      missing: ["glideinExec/libexec/curl_plugin"],
      unlisted: ["glideinExec/libexec/extra"],
    })
  })

  test("reports a tarball from elsewhere: no manifest, missing runtime files, no credential", async () => {
    const tree = tempDir()
    put(path.join(tree, "glideinExec/sbin/condor_master"), "#!/bin/sh\n", 0o755)
    put(path.join(tree, "glidein_condor_config"), "CONDOR_HOST = $(CONDOR_HOST2)\n")
    const other = path.join(dir, "other.tar.gz")
    run(["tar", "czf", other, "-C", tree, "glideinExec", "glidein_condor_config"])
    const report = await inspectTarball(other)
    expect(report.manifest.status).toBe("absent")
    expect(report.missing).toEqual([
      "glideinExec/sbin/condor_startd",
      "glideinExec/sbin/condor_starter",
      "user_job_wrapper.sh",
    ])
    expect(report.password).toBeUndefined()
    expect(report.tokens).toEqual([])
    expect(report.counts).toEqual({ files: 2, directories: 2, symlinks: 0, hardlinks: 0, other: 0 })
  })

  test("refuses an archive past its member bound in one line naming it, reading no further", async () => {
    const many = path.join(dir, "many.tar.gz")
    await Bun.write(many, gzipTar([...manyMembers(11), DAMAGED_HEADER]))
    await expect(inspectTarball(many, { limits: { maxMembers: 10 } })).rejects.toThrow(
      `"${many}": more than 10 members (no glidein tarball or HTCondor release has that many); refusing it`,
    )
  })

  test("refuses a file that is not gzip", async () => {
    const text = path.join(dir, "notes.txt")
    put(text, "hello")
    await expect(inspectTarball(text)).rejects.toThrow(`"${text}" is not a gzip file`)
  })
})
