/**
 * @module
 * Where a config's run state lives: `$GLIDEIN_STATE_DIR`, else `~/.glidein`, one folder per
 * config (keyed by its real path) holding the lock, the journal and the submit files.
 * cron may run without HOME, so the home directory falls back to the password database.
 *
 * The batch system runs the scripts written there, so nobody else may be able to change that
 * folder: it must be a real folder (not a symbolic link) of this user, writable by nobody else,
 * in a root that others cannot write to either, unless it is sticky like /tmp (where others
 * cannot rename or remove what is ours). A folder that fails this is refused, not repaired.
 */
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  type Stats,
  statSync,
} from "node:fs"
import { userInfo } from "node:os"
import { basename, dirname, join, resolve } from "node:path"
import { errorReason, GlideinError } from "../../errors.ts"
import { writeIfChanged } from "../lib/write-if-changed.ts"

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
  /** The notices the last run said (see notices.ts). */
  notices: string
  /** The last check of the config's tarball (see tarball-check.ts). */
  tarballCheck: string
  /** Rounds in a row the server's allotment saw a surplus queued (see queue-hygiene.ts). */
  surplusRounds: string
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

/**
 * The state folder of the config at `configPath`, named readably and uniquely: keyed on the
 * config's real path, so `$HOME/glidein/site.ini` through a symlinked /home and the real path
 * share one journal and one lock. A folder made before (keyed on the path as typed) is still
 * found, by its `config-path` note, and kept.
 */
export function statePaths(configPath: string, root: string = stateRoot()): StatePaths {
  const real = realPath(configPath)
  let dir = join(root, folderName(real))
  if (!existsSync(dir)) dir = earlierFolder(root, real, resolve(configPath)) ?? dir
  return {
    dir,
    lock: join(dir, "lock"),
    journal: join(dir, "journal.jsonl"),
    submitRoot: join(dir, "submit"),
    outputDir: join(dir, "out"),
    pruneStamp: join(dir, "pruned"),
    notices: join(dir, "said"),
    tarballCheck: join(dir, "tarball-check.json"),
    surplusRounds: join(dir, "surplus-rounds"),
  }
}

function folderName(path: string): string {
  const hasher = new Bun.CryptoHasher("sha256")
  hasher.update(path)
  return `${safeName(basename(path))}-${hasher.digest("hex").slice(0, 12)}`
}

/** The config's path with every symlink resolved; as typed (made absolute) if it is missing. */
function realPath(path: string): string {
  try {
    return realpathSync(path)
  } catch {
    return resolve(path)
  }
}

/** Folders looked at for an earlier key; a state root holds one per config. */
const MOST_FOLDERS = 1000

/**
 * A folder of this config made under another key (the path as typed, by earlier versions; or
 * the real path of a config symlink since re-pointed): its `config-path` note names it. Of several (one per path typed), the oldest.
 */
function earlierFolder(root: string, real: string, typed: string): string | undefined {
  let names: string[]
  try {
    names = readdirSync(root).slice(0, MOST_FOLDERS)
  } catch {
    return undefined
  }
  let found: { dir: string; born: number } | undefined
  for (const name of names) {
    if (!/-[0-9a-f]{12}$/.test(name)) continue
    const dir = join(root, name)
    try {
      // The note names the config's real path and the path as typed (earlier versions: the
      // path as typed alone). Either one leads here: a config that is a symlink re-pointed to
      // a new file (site.ini -> site-v4.ini) keeps its journal by the name it is run under.
      const noted = readFileSync(join(dir, "config-path"), "utf8")
        .split("\n")
        .map((line) => line.trim())
        .filter((line) => line !== "")
      if (!noted.some((line) => line === typed || realPath(line) === real)) continue
      const info = lstatSync(dir)
      if (!info.isDirectory()) continue
      const born = info.birthtimeMs || info.ctimeMs
      if (!found || born < found.born) found = { dir, born }
    } catch {
      // Not a state folder, or not readable: not this config's.
    }
  }
  return found?.dir
}

/** Creates the state folder (mode 0700), checks nobody else can change it, and notes which
 *  config it belongs to. */
export function ensureStateDir(paths: StatePaths, configPath: string): void {
  try {
    mkdirSync(paths.dir, { recursive: true, mode: 0o700 })
  } catch (error) {
    throw unusable(paths.dir, errorReason(error))
  }
  checkStateDir(paths)
  try {
    const note = join(paths.dir, "config-path")
    if (!existsSync(note))
      writeIfChanged(note, `${realPath(configPath)}\n${resolve(configPath)}\n`, 0o600)
  } catch (error) {
    throw unusable(paths.dir, errorReason(error))
  }
}

/** Throws unless the existing state folder and its root can be changed by this user alone. */
export function checkStateDir(paths: StatePaths): void {
  const root = dirname(paths.dir)
  let rootInfo: Stats
  let dirInfo: Stats
  try {
    rootInfo = statSync(root)
    dirInfo = lstatSync(paths.dir)
  } catch (error) {
    throw unusable(paths.dir, errorReason(error))
  }
  const rootProblem = problem(rootInfo, { allowSticky: true })
  if (rootProblem) throw unusable(paths.dir, `its parent ${root} ${rootProblem}`)
  const dirProblem = problem(dirInfo, { allowSticky: false })
  if (dirProblem) throw unusable(paths.dir, `it ${dirProblem}`)
}

/** Why a folder of the state tree is not safe to use, or undefined when it is. */
function problem(info: Stats, { allowSticky }: { allowSticky: boolean }): string | undefined {
  if (info.isSymbolicLink()) return "is a symbolic link"
  if (!info.isDirectory()) return "is not a folder"
  const uid = process.getuid?.() ?? info.uid
  // root owns /tmp and /var/tmp; another user's folder could be emptied under us.
  if (info.uid !== uid && info.uid !== 0) return `belongs to another user (uid ${info.uid})`
  const writableByOthers = (info.mode & 0o022) !== 0
  if (writableByOthers && !(allowSticky && (info.mode & 0o1000) !== 0)) {
    const mode = (info.mode & 0o7777).toString(8).padStart(4, "0")
    return `can be changed by other users (mode ${mode})`
  }
  return undefined
}

function unusable(dir: string, why: string): GlideinError {
  return new GlideinError(
    `cannot use the state folder ${dir} (${why}); set GLIDEIN_STATE_DIR to a private folder of yours`,
  )
}

/** A file-name-safe form of a config or partition name. */
export function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, "_").replace(/^\.+/, "_") || "_"
}
