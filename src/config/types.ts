/**
 * Value and warning types shared by the INI reader and the site-config loader.
 */
import type { ConfigPlace } from "../errors.ts"

/** A config value as pyglidein held it after `ast.literal_eval` (tuples become arrays). */
export type IniValue = string | number | boolean | null | IniValue[] | { [k: string]: IniValue }

/** Something in a config that works but deserves the user's attention. */
export interface ConfigWarning {
  place: ConfigPlace
  message: string
}
