/**
 * @module
 * Site configs: pyglidein's INI files read exactly as pyglidein's Python read them
 * (ConfigParser syntax, `%(name)s` interpolation, `ast.literal_eval` values, client
 * defaults, partitions inheriting [Cluster]), validated once with zod, with the place of
 * every key kept for errors that name file:line [section] key.
 *
 * @example
 * const config = await loadSiteConfig("site.ini")
 * for (const p of config.partitions) plan(config.partitionSettings[p])
 */
import { readFileSync } from "node:fs"
import { ConfigError, errorReason } from "../errors.ts"
import { parseSiteConfig, type SiteConfig, type SiteConfigOptions } from "./site-config.ts"

export type { ConfigPlace } from "../errors.ts"
export { configJson, describeConfig, formatWarning } from "./describe.ts"
export type * from "./schema.ts"
export { loadSecrets } from "./secrets.ts"
export { parseSiteConfig, type SiteConfig, type SiteConfigOptions } from "./site-config.ts"
export type { ConfigWarning, IniValue } from "./types.ts"

/** Reads, parses and validates a site config file. Throws ConfigError. */
export async function loadSiteConfig(
  path: string,
  options: SiteConfigOptions = {},
): Promise<SiteConfig> {
  let bytes: Uint8Array
  // Read synchronously: Bun.file().bytes() hands the read to a pool thread, ~0.5 ms more of a
  // cron run than this (measured in the compiled binary); node:fs is loaded by then anyway.
  try {
    bytes = readFileSync(path)
  } catch (error) {
    const e = error as NodeJS.ErrnoException
    const why = errorReason(e)
    throw new ConfigError({ file: path }, `cannot read the config file (${why})`)
  }
  return parseSiteConfig(decodeUtf8(bytes, path), path, options)
}

/** UTF-8 text, or a ConfigError naming the first line that is not UTF-8. */
function decodeUtf8(bytes: Uint8Array, file: string): string {
  const decoder = new TextDecoder("utf-8", { fatal: true })
  try {
    return decoder.decode(bytes)
  } catch {
    let start = 0
    let line = 1
    for (let i = 0; i <= bytes.length; i++) {
      if (i < bytes.length && bytes[i] !== 0x0a) continue
      try {
        decoder.decode(bytes.subarray(start, i))
      } catch {
        break
      }
      start = i + 1
      line++
    }
    throw new ConfigError({ file, line }, "is not UTF-8 text; save the file as UTF-8")
  }
}
