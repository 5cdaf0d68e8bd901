/**
 * @module
 * Where a config's run state lives: `$GLIDEIN_STATE_DIR`, else `~/.glidein`, one folder per
 * config (keyed by its absolute path) holding the lock, the journal and the submit files.
 * cron may run without HOME, so the home directory falls back to the password database.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs"
import { userInfo } from "node:os"
import { basename, join, resolve } from "node:path"
import { GlideinError } from "../errors.ts"

/** The files of one config's state folder. */
export interface StatePaths {
  dir: string
  lock: string
  journal: string
  /** Rendered submit files, one folder per partition and glidein size. */
  submitRoot: string
  /** The glideins' batch output and error files. */
  outputDir: string
  /** Its mtime is when old output files were last removed. */
  pruneStamp: string
}

/** The state root for `env`. */
export function stateRoot(env: Record<string, string | undefined> = process.env): string {
  if (env.GLIDEIN_STATE_DIR) return resolve(env.GLIDEIN_STATE_DIR)
  return join(homeDir(env), ".glidein")
}

/** $HOME, or the password database's home directory when cron left HOME unset. */
export function homeDir(env: Record<string, string | undefined> = process.env): string {
  return env.HOME || userInfo().homedir
}

/** The state folder of the config at `configPath`, named readably and uniquely. */
export function statePaths(configPath: string, root: string = stateRoot()): StatePaths {
  const absolute = resolve(configPath)
  const hasher = new Bun.CryptoHasher("sha256")
  hasher.update(absolute)
  const name = `${safeName(basename(absolute))}-${hasher.digest("hex").slice(0, 12)}`
  const dir = join(root, name)
  return {
    dir,
    lock: join(dir, "lock"),
    journal: join(dir, "journal.jsonl"),
    submitRoot: join(dir, "submit"),
    outputDir: join(dir, "out"),
    pruneStamp: join(dir, "pruned"),
  }
}

/** Creates the state folder (mode 0700) and notes which config it belongs to. */
export function ensureStateDir(paths: StatePaths, configPath: string): void {
  try {
    mkdirSync(paths.dir, { recursive: true, mode: 0o700 })
    const note = join(paths.dir, "config-path")
    if (!existsSync(note)) writeFileSync(note, `${resolve(configPath)}\n`, { mode: 0o600 })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message
    throw new GlideinError(
      `cannot use the state folder ${paths.dir} (${code}); set GLIDEIN_STATE_DIR to a writable folder`,
    )
  }
}

/** A file-name-safe form of a config or partition name. */
export function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, "_").replace(/^\.+/, "_") || "_"
}
