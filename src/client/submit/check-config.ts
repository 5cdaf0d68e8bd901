/**
 * @module
 * `glidein submit --check`: whether a config is usable as a real run would read it — its
 * settings, the log bucket, the tarball and the collector its glideins would join — printed
 * for a person, or as one JSON object with the problems listed.
 */
import { configJson, describeConfig, type SiteConfig } from "../../config/index.ts"
import { EXIT } from "../../errors.ts"
import { checkedLogBucket, type S3Keys } from "../site/log-upload.ts"
import { collectorOrigin, siteSetup } from "../site/site-setup.ts"
import { tarballProblems } from "./tarball-check.ts"

/** Checks the config; exit 0 if usable, 2 if not. Throws the first problem unless `json`. */
export async function checkConfig(
  config: SiteConfig,
  options: { json: boolean; s3Keys: S3Keys | undefined },
  deps: {
    env: Record<string, string | undefined>
    stdout: (text: string) => void
    stderr: (text: string) => void
  },
): Promise<number> {
  const { json } = options
  const setup = siteSetup(config, deps.env)
  // --json prints the effective settings whatever is wrong, with the problems listed.
  const [problem] = setup.problems
  if (problem && !json) throw problem
  for (const w of setup.warnings) deps.stderr(`glidein submit: warning: ${w.message}\n`)
  if (!json) checkedLogBucket(config, options.s3Keys)
  // The tarball is read here, once, as a real run would read it before submitting.
  const tarball = await tarballProblems(setup.tarball, undefined, new Date())
  const origin = collectorOrigin(config, setup.tarball)
  if (json) {
    const problems = [...setup.problems.map((p) => p.message), ...tarball]
    deps.stdout(`${JSON.stringify({ ...configJson(config), problems }, null, 2)}\n`)
    return problems.length > 0 ? EXIT.usage : EXIT.ok
  }
  if (tarball.length > 0) {
    // The config is fine; its glideins would not be, so it is not called usable.
    for (const p of tarball) deps.stderr(`glidein submit: ${p}\n`)
    return EXIT.usage
  }
  deps.stdout(`${describeConfig(config)}  collector: ${origin?.collector} (from ${origin?.from})\n`)
  return EXIT.ok
}
