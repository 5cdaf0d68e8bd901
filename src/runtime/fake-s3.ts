/**
 * @module
 * Test support: a stand-in S3 bucket endpoint that takes POST uploads and checks them as S3
 * does, for the glidein runtime tests and the end-to-end suite.
 */
import { type LogBucket, sigV4Signature } from "../client/site/log-upload.ts"

/**
 * An S3 bucket's POST upload, as S3 checks it: the form's signature, the policy's expiry,
 * bucket, key prefix and size, the file as the last field. Keeps what was uploaded.
 */
export function fakeS3(secretKey: string) {
  const uploads: { key: string; bytes: Uint8Array }[] = []
  const refusals: string[] = []
  const refuse = (why: string) => {
    refusals.push(why)
    return new Response(`<Error><Code>AccessDenied</Code><Message>${why}</Message></Error>`, {
      status: 403,
    })
  }
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const bucket = new URL(req.url).pathname.replace(/^\/|\/$/g, "")
      if (req.method !== "POST") return refuse(`${req.method} is not an upload`)
      const form = await req.formData()
      const field = (name: string) => String(form.get(name) ?? "")
      if ([...form.keys()].at(-1) !== "file") return refuse("file is not the last field")
      const policyText = field("policy")
      const [, day, region, service] = field("x-amz-credential").split("/")
      if (field("x-amz-algorithm") !== "AWS4-HMAC-SHA256") return refuse("wrong algorithm")
      const expected = sigV4Signature(secretKey, day ?? "", region ?? "", service ?? "", policyText)
      if (field("x-amz-signature") !== expected) return refuse("signature does not match")
      const policy = JSON.parse(Buffer.from(policyText, "base64").toString())
      if (Date.parse(policy.expiration) < Date.now()) return refuse("Policy expired.")
      const file = form.get("file") as File
      for (const c of policy.conditions) {
        if (Array.isArray(c) && c[0] === "starts-with" && !field(c[1].slice(1)).startsWith(c[2]))
          return refuse(`${c[1]} does not start with ${c[2]}`)
        if (Array.isArray(c) && c[0] === "content-length-range" && file.size > c[2])
          return refuse("too large")
        if (!Array.isArray(c) && c.bucket !== undefined && c.bucket !== bucket)
          return refuse("wrong bucket")
        if (!Array.isArray(c)) {
          const [name, value] = Object.entries(c)[0] as [string, string]
          if (name !== "bucket" && field(name) !== value) return refuse(`${name} differs`)
        }
      }
      uploads.push({ key: field("key"), bytes: new Uint8Array(await file.arrayBuffer()) })
      return new Response(null, { status: 204 })
    },
  })
  const bucket: LogBucket = {
    url: `http://127.0.0.1:${server.port}`,
    bucket: "glidein-logs",
    region: "us-east-1",
    accessKey: "AKIDEXAMPLE",
    secretKey,
  }
  return { server, bucket, uploads, refusals }
}

/** A running stand-in bucket. */
export type FakeS3 = ReturnType<typeof fakeS3>
