import { describe, expect, test } from "bun:test"
import { ConfigError } from "../../errors.ts"
import {
  checkLogBucket,
  type LogBucket,
  logKeyPrefix,
  logUploadEnv,
  logUploadForm,
  MAX_LOG_BYTES,
  postEndpoint,
  sigV4Signature,
} from "./log-upload.ts"

const BUCKET: LogBucket = {
  url: "s3.example.org",
  bucket: "glidein-logs",
  region: "us-east-1",
  accessKey: "AKIAIOSFODNN7EXAMPLE",
  secretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
}
const where = (key: string) => ({ file: "site.ini", section: "StartdLogging", key })

/** The signature python3's hmac computes for the same inputs: an independent implementation. */
function pythonSignature(secret: string, day: string, region: string, text: string): string {
  const script = `
import hmac, hashlib, sys
secret, day, region, text = sys.argv[1:5]
h = lambda k, m: hmac.new(k, m.encode(), hashlib.sha256).digest()
key = h(h(h(h(("AWS4" + secret).encode(), day), region), "s3"), "aws4_request")
print(hmac.new(key, text.encode(), hashlib.sha256).hexdigest())
`
  const run = Bun.spawnSync(["python3", "-c", script, secret, day, region, text])
  if (!run.success) throw new Error(run.stderr.toString())
  return run.stdout.toString().trim()
}

describe("sigV4Signature()", () => {
  test("sigV4Signature() signs a published POST policy example as published", () => {
    // The example of the s3-post-policy package's README (AWS's example keys).
    const policy =
      "eyJleHBpcmF0aW9uIjoiMjAxMy0wOC0wNlQxMjowMDowMC4wMDBaIiwiY29uZGl0aW9ucyI6W3siYWNsIjoicHVibGljLXJlYWQifSxbInN0YXJ0cy13aXRoIiwiJENvbnRlbnQtVHlwZSIsImltYWdlLyJdLFsic3RhcnRzLXdpdGgiLCIka2V5IiwidXNlci91c2VyMS8iXSxbInN0YXJ0cy13aXRoIiwiJHgtYW16LW1ldGEtdGFnIiwiIl0seyJ4LWFtei1tZXRhLXV1aWQiOiIxNDM2NTEyMzY1MTI3NCJ9LHsiYnVja2V0IjoiZXhhbXBsZWJ1Y2tldCJ9LHsieC1hbXotYWxnb3JpdGhtIjoiQVdTNC1ITUFDLVNIQTI1NiJ9LHsieC1hbXotY3JlZGVudGlhbCI6IkFLSUFJT1NGT0ROTjdFWEFNUExFLzIwMTMwODA2L3VzLWVhc3QtMS9zMy9hd3M0X3JlcXVlc3QifSx7IngtYW16LWRhdGUiOiIyMDEzMDgwNlQxMjAwMDBaIn1dfQ=="
    expect(sigV4Signature(BUCKET.secretKey, "20130806", "us-east-1", "s3", policy)).toBe(
      "5bc8a7be4a6fc6445b94d0f4096f8cf3dfa00303529f8a68ea7dc0c23bb83cd9",
    )
  })

  test("sigV4Signature() agrees with python3's hmac on keys and policies of every kind", () => {
    const cases = [
      ["s3cr3t", "20261121", "eu-central-1", "e30="],
      ["with spaces and ünïcode", "19991231", "us-west-2", "abc+/="],
      ["x".repeat(200), "20300101", "auto", "a".repeat(5000)],
    ] as const
    for (const [secret, day, region, text] of cases) {
      expect(sigV4Signature(secret, day, region, "s3", text)).toBe(
        pythonSignature(secret, day, region, text),
      )
    }
  })
})

describe("logUploadForm()", () => {
  const now = new Date("2026-11-21T13:45:07.123Z")

  test("logUploadForm() signs a policy for the site's prefix, the bucket and a size limit", () => {
    const form = logUploadForm(BUCKET, "Bench_", now, 20 * 3600)
    expect(form.url).toBe("https://s3.example.org/glidein-logs/")
    expect(form.keyPrefix).toBe("Bench_")
    expect(form.date).toBe("20261121T134507Z")
    expect(form.credential).toBe("AKIAIOSFODNN7EXAMPLE/20261121/us-east-1/s3/aws4_request")
    expect(JSON.parse(Buffer.from(form.policy, "base64").toString())).toEqual({
      expiration: "2026-11-22T09:45:07.123Z",
      conditions: [
        { bucket: "glidein-logs" },
        ["starts-with", "$key", "Bench_"],
        ["content-length-range", 0, MAX_LOG_BYTES],
        { "x-amz-algorithm": "AWS4-HMAC-SHA256" },
        { "x-amz-credential": form.credential },
        { "x-amz-date": "20261121T134507Z" },
      ],
    })
    expect(form.signature).toBe(
      pythonSignature(BUCKET.secretKey, "20261121", "us-east-1", form.policy),
    )
  })

  test("logUploadForm() lets no form live longer than a week", () => {
    const form = logUploadForm(BUCKET, "Bench_", now, 30 * 24 * 3600)
    const policy = JSON.parse(Buffer.from(form.policy, "base64").toString())
    expect(policy.expiration).toBe("2026-11-28T13:45:07.123Z")
  })

  test("logUploadForm() carries neither the secret key nor anything that reveals it", () => {
    const env = logUploadEnv(logUploadForm(BUCKET, "Bench_", now, 3600))
    const text = JSON.stringify(env)
    expect(text).not.toContain(BUCKET.secretKey)
    expect(text).not.toContain("EXAMPLEKEY")
    expect(Object.keys(env)).toEqual([
      "LOG_UPLOAD_URL",
      "LOG_UPLOAD_PREFIX",
      "LOG_UPLOAD_POLICY",
      "LOG_UPLOAD_CREDENTIAL",
      "LOG_UPLOAD_DATE",
      "LOG_UPLOAD_SIGNATURE",
    ])
  })
})

describe("postEndpoint()", () => {
  test("postEndpoint() is virtual-hosted on Amazon and path-style elsewhere", () => {
    expect(postEndpoint("s3.amazonaws.com", "logs")).toBe("https://logs.s3.amazonaws.com/")
    expect(postEndpoint("s3.us-west-2.amazonaws.com", "logs")).toBe(
      "https://logs.s3.us-west-2.amazonaws.com/",
    )
    // A dotted bucket name does not match Amazon's wildcard certificate as a host name.
    expect(postEndpoint("s3.amazonaws.com", "my.logs")).toBe("https://s3.amazonaws.com/my.logs/")
    expect(postEndpoint("minio.example.org:9000", "logs")).toBe(
      "https://minio.example.org:9000/logs/",
    )
    expect(postEndpoint("http://127.0.0.1:9000/", "logs")).toBe("http://127.0.0.1:9000/logs/")
    expect(postEndpoint("https://ceph.example.org/s3", "logs")).toBe(
      "https://ceph.example.org/s3/logs/",
    )
  })

  test("postEndpoint() refuses what is not a host or an http(s) URL, naming the key", () => {
    for (const url of ["http://", "https://user:pw@s3.example.org", "s3.example.org/?x=1", "a b"])
      expect(() => postEndpoint(url, "logs", where("url"))).toThrow(
        /^site\.ini: \[StartdLogging\] url: /,
      )
  })
})

describe("checkLogBucket()", () => {
  test("checkLogBucket() accepts a usable bucket", () => {
    expect(() => checkLogBucket(BUCKET, where)).not.toThrow()
  })

  test("checkLogBucket() refuses values that S3 would not take, and never shows a key", () => {
    const bad: [Partial<LogBucket>, string][] = [
      [{ bucket: "Logs" }, "[StartdLogging] bucket:"],
      [{ bucket: "a;b" }, "[StartdLogging] bucket:"],
      [{ region: "us east" }, "[StartdLogging] region:"],
      [{ accessKey: "AKIA$(reboot)" }, "[StartdLogging] access_key: is not an S3 access key id"],
      [{ secretKey: "" }, "[StartdLogging] secret_key: is empty"],
      [{ url: "ftp://x" }, "[StartdLogging] url:"],
    ]
    for (const [change, message] of bad) {
      let error: unknown
      try {
        checkLogBucket({ ...BUCKET, ...change }, where)
      } catch (e) {
        error = e
      }
      expect(error).toBeInstanceOf(ConfigError)
      expect((error as Error).message).toContain(message)
      expect((error as Error).message).not.toContain("reboot")
    }
  })
})

test("logKeyPrefix() keeps a site name usable in an object name", () => {
  expect(logKeyPrefix("UW-Madison.CHTC")).toBe("UW-Madison.CHTC_")
  expect(logKeyPrefix("my site/$(x)")).toBe("my_site___x__")
})
