/**
 * @module
 * `[StartdLogging] send_startd_logs`: each glidein uploads its HTCondor logs to an S3 bucket.
 * The S3 keys stay on the login node. A glidein gets an S3 POST form instead (AWS Signature
 * Version 4): a policy that lets it upload objects whose names start with the site's prefix,
 * each at most `MAX_LOG_BYTES`, until the policy expires. One signed form serves every glidein
 * of a round, arrays and repeated submissions included, since each glidein names its own
 * object. Pure: the clock and the keys are passed in.
 *
 * The one seam for it: a command hands `checkedLogBucket()` the config and the secrets file's
 * keys (`s3Keys()`), a run keeps the bucket it gets, and each round asks `roundLogEnv()` for
 * the jobs' LOG_UPLOAD_* environment.
 */
import { createHmac } from "node:crypto"
import type { SiteConfig } from "../../config/index.ts"
import type { Secrets } from "../../config/schema.ts"
import { ConfigError, type ConfigPlace } from "../../errors.ts"
import { glideinSite, type SiteSections } from "./job-spec.ts"

/** What a site config and its secrets file say about the bucket. */
export interface LogBucket {
  /** `[StartdLogging] url`: the S3 endpoint, `host[:port]` (https) or an http(s) URL. */
  url: string
  bucket: string
  region: string
  accessKey: string
  secretKey: string
}

/** The S3 keys of a secrets file, and the file for messages about them. */
export interface S3Keys {
  accessKey: string
  secretKey: string
  file: string
}

/** The `[StartdLogging]` keys of the secrets file at `file`, when it has both. */
export function s3Keys(secrets: Secrets | undefined, file: string | undefined): S3Keys | undefined {
  const { access_key: accessKey, secret_key: secretKey } = secrets?.StartdLogging ?? {}
  return file !== undefined && accessKey && secretKey ? { accessKey, secretKey, file } : undefined
}

/** The bucket of `[StartdLogging]` when send_startd_logs is on (the schema then requires
 *  url and bucket). */
function bucketSettings(config: SiteConfig) {
  const s = config.startdLogging
  if (!s.send_startd_logs || s.url === undefined || s.bucket === undefined) return undefined
  return { url: s.url, bucket: s.bucket, region: s.region ?? DEFAULT_REGION }
}

/** S3's original region, and what MinIO and most other S3 services answer to. */
const DEFAULT_REGION = "us-east-1"

/**
 * The log bucket, checked (ConfigError naming the config or secrets line otherwise, also
 * when the keys are missing); undefined when logs are not shipped or the keys are missing.
 */
export function checkedLogBucket(
  config: SiteConfig,
  keys: S3Keys | undefined,
): LogBucket | undefined {
  const settings = bucketSettings(config)
  if (!settings) return undefined
  const place = (key: string): ConfigPlace =>
    key === "access_key" || key === "secret_key"
      ? { ...(keys ? { file: keys.file } : {}), section: "StartdLogging", key }
      : config.place("StartdLogging", key)
  if (!keys) {
    checkLogBucket(settings, place)
    return undefined
  }
  const bucket = { ...settings, accessKey: keys.accessKey, secretKey: keys.secretKey }
  checkLogBucket(bucket, place)
  return bucket
}

/**
 * A round's upload form as job environment, signed now for the longest time S3 allows: a
 * glidein may wait in the queue for days before it starts, and uploads when it ends.
 * Undefined without a bucket (logs stay in the batch output files).
 */
export function roundLogEnv(
  bucket: LogBucket | undefined,
  site: SiteSections,
  now: Date,
): Record<string, string> | undefined {
  if (!bucket) return undefined
  const prefix = logKeyPrefix(glideinSite(site) ?? "glidein")
  return logUploadEnv(logUploadForm(bucket, prefix, now, MAX_FORM_LIFETIME_S))
}

/** The form fields a glidein posts with its logs, less the object name and the file. */
export interface LogUploadForm {
  /** Where the form is posted; the object's own URL is this plus its name. */
  url: string
  /** Object names must start with this. */
  keyPrefix: string
  policy: string
  credential: string
  date: string
  signature: string
}

/** The largest log archive a glidein may upload. */
export const MAX_LOG_BYTES = 100 * 1024 * 1024

/** Signature Version 4 scopes a signature to a day; S3 refuses longer-lived ones. */
export const MAX_FORM_LIFETIME_S = 7 * 24 * 3600

/**
 * The POST endpoint of `bucket` at `url`: virtual-hosted on Amazon's own endpoints (which
 * prefer it), path-style elsewhere (MinIO, Ceph and most local S3 services need it).
 */
export function postEndpoint(
  url: string,
  bucket: string,
  where: ConfigPlace = { section: "StartdLogging", key: "url" },
): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !/^https?:\/\//i.test(url))
    throw new ConfigError(where, `${JSON.stringify(url)} is not a host or an http(s) URL`)
  const withScheme = /^https?:\/\//i.test(url) ? url : `https://${url}`
  let parsed: URL
  try {
    parsed = new URL(withScheme)
  } catch {
    throw new ConfigError(where, `${JSON.stringify(url)} is not a host or an http(s) URL`)
  }
  if (parsed.username || parsed.password || parsed.search || parsed.hash || !parsed.hostname)
    throw new ConfigError(where, "expected a host or an http(s) URL without user, query or #")
  const base = `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/+$/, "")}`
  if (/(^|\.)amazonaws\.com$/i.test(parsed.hostname) && !bucket.includes("."))
    return `${parsed.protocol}//${bucket}.${parsed.host}/`
  return `${base}/${bucket}/`
}

/** The object-name prefix of a site's glideins: pyglidein named them `<site>_<uuid>.tar.gz`. */
export function logKeyPrefix(site: string): string {
  return `${site.replace(/[^A-Za-z0-9._-]/g, "_")}_`
}

/**
 * Checks the bucket settings, and the keys when there are any; the values end up in shell
 * words and form fields, so only what S3 allows there passes. `where` names the config (or
 * secrets) line of a key.
 */
export function checkLogBucket(
  b: Omit<LogBucket, "accessKey" | "secretKey"> & Partial<LogBucket>,
  where: (key: string) => ConfigPlace,
): void {
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(b.bucket))
    throw new ConfigError(
      where("bucket"),
      `${JSON.stringify(b.bucket)} is not an S3 bucket name (3 to 63 lower-case letters, digits, '.' and '-')`,
    )
  if (!/^[a-z0-9-]{1,40}$/.test(b.region))
    throw new ConfigError(
      where("region"),
      `${JSON.stringify(b.region)} is not a region name like us-east-1`,
    )
  postEndpoint(b.url, b.bucket, where("url"))
  // The access key id travels in the form; the secret key never leaves this host.
  if (b.accessKey !== undefined && !/^[A-Za-z0-9._-]{1,128}$/.test(b.accessKey))
    throw new ConfigError(where("access_key"), "is not an S3 access key id (not shown)")
  if (b.secretKey === "") throw new ConfigError(where("secret_key"), "is empty")
}

/** `YYYYMMDDTHHMMSSZ` */
function amzDate(d: Date): string {
  return d.toISOString().replace(/[-:]|\.\d{3}/g, "")
}

/** The hex HMAC-SHA256 signature of `stringToSign` under Signature Version 4's derived key. */
export function sigV4Signature(
  secretKey: string,
  day: string,
  region: string,
  service: string,
  stringToSign: string,
): string {
  const hmac = (key: string | Buffer, data: string) =>
    createHmac("sha256", key).update(data, "utf8").digest()
  const signingKey = hmac(
    hmac(hmac(hmac(`AWS4${secretKey}`, day), region), service),
    "aws4_request",
  )
  return createHmac("sha256", signingKey).update(stringToSign, "utf8").digest("hex")
}

/**
 * A form that lets glideins upload objects named `keyPrefix…` to the bucket until
 * `now + lifetimeS` (at most `MAX_FORM_LIFETIME_S`). `b` has passed `checkLogBucket`.
 */
export function logUploadForm(
  b: LogBucket,
  keyPrefix: string,
  now: Date,
  lifetimeS: number,
): LogUploadForm {
  const date = amzDate(now)
  const day = date.slice(0, 8)
  const credential = `${b.accessKey}/${day}/${b.region}/s3/aws4_request`
  const expiration = new Date(now.getTime() + Math.min(lifetimeS, MAX_FORM_LIFETIME_S) * 1000)
  const policy = Buffer.from(
    JSON.stringify({
      expiration: expiration.toISOString(),
      conditions: [
        { bucket: b.bucket },
        ["starts-with", "$key", keyPrefix],
        ["content-length-range", 0, MAX_LOG_BYTES],
        { "x-amz-algorithm": "AWS4-HMAC-SHA256" },
        { "x-amz-credential": credential },
        { "x-amz-date": date },
      ],
    }),
  ).toString("base64")
  return {
    url: postEndpoint(b.url, b.bucket),
    keyPrefix,
    policy,
    credential,
    date,
    signature: sigV4Signature(b.secretKey, day, b.region, "s3", policy),
  }
}

/** The form as the environment glidein_start.sh reads (LOG_UPLOAD_*). */
export function logUploadEnv(form: LogUploadForm): Record<string, string> {
  return {
    LOG_UPLOAD_URL: form.url,
    LOG_UPLOAD_PREFIX: form.keyPrefix,
    LOG_UPLOAD_POLICY: form.policy,
    LOG_UPLOAD_CREDENTIAL: form.credential,
    LOG_UPLOAD_DATE: form.date,
    LOG_UPLOAD_SIGNATURE: form.signature,
  }
}
