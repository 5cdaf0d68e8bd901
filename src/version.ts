/**
 * @module
 * The version string. `compile.ts` injects `__GLIDEIN_VERSION__` at build time; running from
 * source reports the package version with a `-dev` suffix so the two are never confused.
 */
import pkg from "../package.json" with { type: "json" }

declare const __GLIDEIN_VERSION__: string | undefined

export const VERSION: string =
  typeof __GLIDEIN_VERSION__ === "string" ? __GLIDEIN_VERSION__ : `${pkg.version}-dev`
