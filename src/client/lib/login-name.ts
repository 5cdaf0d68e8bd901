/**
 * This process's login name, from its uid: the name the batch system files its jobs under.
 * Not from `$USER`/`$LOGNAME` (cron may set neither) and not from `os.userInfo()`, which in
 * Bun takes the name from the environment and says "unknown" without it — and
 * `qselect -u unknown` counts 0 glideins, so the limits stopped applying.
 */
import { readFileSync } from "node:fs"
import { querySync } from "./run-command.ts"

/** Where a login name is looked up; tests substitute their own. */
export interface LoginLookup {
  uid: number
  /** The text of /etc/passwd, if readable. */
  passwd(): string | undefined
  /** What `id -un` printed, if it succeeded (it also knows LDAP/SSSD users). */
  idUn(): string | undefined
}

const ID_TIMEOUT_MS = 5000

/** This machine, this process. */
export const SYSTEM_LOGIN: LoginLookup = {
  uid: process.getuid?.() ?? -1,
  passwd() {
    try {
      return readFileSync("/etc/passwd", "utf8")
    } catch {
      return undefined
    }
  },
  idUn: () => querySync(["id", "-un"], ID_TIMEOUT_MS),
}

let systemName: { name: string | undefined } | undefined

/** The login name of `lookup.uid`: /etc/passwd, else `id -un`; undefined when neither has one. */
export function loginName(lookup: LoginLookup = SYSTEM_LOGIN): string | undefined {
  // A uid's name does not change while a run lasts; `id -un` is a process spawn.
  if (lookup === SYSTEM_LOGIN && systemName) return systemName.name
  let name = passwdName(lookup.passwd() ?? "", lookup.uid)
  if (name === undefined) {
    const printed = lookup.idUn()?.trim()
    // `id -un` prints the number for a uid without a name.
    if (printed && !/^\d+$/.test(printed) && !/\s/.test(printed)) name = printed
  }
  if (lookup === SYSTEM_LOGIN) systemName = { name }
  return name
}

/** The name of `uid` in passwd(5) text, or undefined. */
export function passwdName(text: string, uid: number): string | undefined {
  for (const line of text.split("\n")) {
    const fields = line.split(":")
    if (fields.length >= 3 && fields[0] !== "" && fields[2] === String(uid)) return fields[0]
  }
  return undefined
}

/** Why a partition cannot be counted with the scheduler's commands when the name is unknown. */
export function unknownLoginReason(uid: number = SYSTEM_LOGIN.uid): string {
  return `uid ${uid} has no login name (not in /etc/passwd, and id -un knows none); set user = NAME in [Cluster]`
}

/**
 * The environment for the site's commands: cron may set neither `$USER` nor `$LOGNAME`, and
 * pyglidein-era lines such as `squeue -u $USER` need them, so they get this uid's login name.
 */
export function withLoginName(
  env: Record<string, string | undefined>,
  name: () => string | undefined = () => loginName(),
): Record<string, string | undefined> {
  if (env.USER && env.LOGNAME) return env
  const login = env.USER || env.LOGNAME || name()
  if (login === undefined) return env
  return { ...env, USER: env.USER || login, LOGNAME: env.LOGNAME || login }
}
