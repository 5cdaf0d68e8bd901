/**
 * A personal HTCondor central manager on loopback (collector, negotiator, schedd; no startd)
 * from a real HTCondor install, for the tests that run glideins against the real thing
 * (src/runtime/real-condor.test.ts and the end-to-end suite, when GLIDEIN_TEST_CONDOR names an
 * install). Test support only: nothing here is part of the glidein binary.
 */
import { writeFileSync } from "node:fs"
import path from "node:path"

/** Runs argv as the account HTCondor runs as (HTCondor runs no job as root). */
export type AsUser = (argv: string[]) => string[]

export interface LoopbackPool {
  condor: string
  dir: string
  port: number
  /** The environment HTCondor's tools need to reach this pool. */
  env: { [name: string]: string }
  master: ReturnType<typeof Bun.spawn>
  as: AsUser
}

/**
 * What a glidein on the pool's own host needs: every daemon on loopback, and no FS
 * authentication or family session offered to the pool's daemons, which on one host would
 * pass the glidein off as a local user (a real batch node is another host).
 */
export const ONE_HOST_GLIDEIN_ENV = {
  _condor_NETWORK_INTERFACE: "127.0.0.1",
  _condor_SEC_CLIENT_AUTHENTICATION_METHODS: "IDTOKENS, PASSWORD",
  _condor_SEC_USE_FAMILY_SESSION: "False",
}

/** The identity the pool's glidein tokens carry. */
export const GLIDEIN_IDENTITY = "glidein@pool.test"

/** The pool's configuration: glideins may advertise with a token or the pool password. */
function poolConfig(condor: string, dir: string, port: number): string {
  return `RELEASE_DIR = ${condor}
LOCAL_DIR = ${dir}
LOCAL_CONFIG_FILE =
LOCAL_CONFIG_DIR =
LOCK = $(LOCAL_DIR)/lock
DAEMON_LIST = MASTER, COLLECTOR, NEGOTIATOR, SCHEDD
CONDOR_HOST = 127.0.0.1
COLLECTOR_HOST = 127.0.0.1:${port}
NETWORK_INTERFACE = 127.0.0.1
BIND_ALL_INTERFACES = False
USE_SHARED_PORT = False
UID_DOMAIN = pool.test
TRUST_DOMAIN = pool.test
NEGOTIATOR_INTERVAL = 5
NEGOTIATOR_CYCLE_DELAY = 5
SCHEDD_INTERVAL = 5
SEC_DEFAULT_AUTHENTICATION = REQUIRED
SEC_DEFAULT_AUTHENTICATION_METHODS = FS, IDTOKENS, PASSWORD
SEC_CLIENT_AUTHENTICATION_METHODS = FS, IDTOKENS, PASSWORD
SEC_ADVERTISE_STARTD_AUTHENTICATION_METHODS = IDTOKENS, PASSWORD
SEC_ADVERTISE_MASTER_AUTHENTICATION_METHODS = IDTOKENS, PASSWORD
SEC_DEFAULT_INTEGRITY = REQUIRED
SEC_PASSWORD_DIRECTORY = $(LOCAL_DIR)/passwords.d
SEC_PASSWORD_FILE = $(LOCAL_DIR)/passwords.d/POOL
SEC_TOKEN_DIRECTORY = $(LOCAL_DIR)/tokens.d
SEC_TOKEN_SYSTEM_DIRECTORY = $(LOCAL_DIR)/tokens.d
ALLOW_READ = *
ALLOW_WRITE = *@pool.test, condor@password, condor_pool@*
ALLOW_ADMINISTRATOR = *@pool.test
ALLOW_DAEMON = *@pool.test, condor@password, condor_pool@*
ALLOW_NEGOTIATOR = *@pool.test
ALLOW_ADVERTISE_STARTD = ${GLIDEIN_IDENTITY}, condor@password, condor_pool@*
ALLOW_ADVERTISE_MASTER = ${GLIDEIN_IDENTITY}, condor@password, condor_pool@*
`
}

/** A free TCP port on loopback. */
export function freePort(): number {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } })
  const port = server.port
  server.stop(true)
  return port
}

/** Waits up to `seconds` for `ready`, polling every second. */
export async function until(seconds: number, ready: () => boolean): Promise<boolean> {
  for (let i = 0; i < seconds; i++) {
    if (ready()) return true
    await Bun.sleep(1000)
  }
  return ready()
}

/** Runs one of the install's tools against the pool, as the pool's account. */
export function poolTool(
  pool: LoopbackPool,
  name: string,
  args: string[],
  cwd = pool.dir,
): { code: number; out: string } {
  const bin = path.join(pool.condor, name.startsWith("condor_store") ? "sbin" : "bin", name)
  const r = Bun.spawnSync(pool.as([bin, ...args]), { env: pool.env, cwd })
  return { code: r.exitCode ?? -1, out: r.stdout.toString() + r.stderr.toString() }
}

/**
 * Starts the pool in `dir` (which the pool's account owns) and waits for its schedd; stop it
 * with stopLoopbackPool().
 */
export async function startLoopbackPool(
  condor: string,
  dir: string,
  as: AsUser,
): Promise<LoopbackPool> {
  const port = freePort()
  const file = path.join(dir, "condor_config")
  writeFileSync(file, poolConfig(condor, dir, port))
  const env = { CONDOR_CONFIG: file, PATH: `${condor}/bin:${condor}/sbin:/usr/bin:/bin`, HOME: dir }
  for (const sub of ["log", "spool", "execute", "lock", "passwords.d", "tokens.d", "jobs"]) {
    Bun.spawnSync(as(["mkdir", "-p", path.join(dir, sub)]))
  }
  Bun.spawnSync(as(["chmod", "700", path.join(dir, "passwords.d")]))
  const master = Bun.spawn(as([path.join(condor, "sbin/condor_master"), "-f"]), {
    env,
    stdout: "ignore",
    stderr: "ignore",
  })
  const pool = { condor, dir, port, env, master, as }
  const password = path.join(dir, "passwords.d/POOL")
  const stored = poolTool(pool, "condor_store_cred", [
    "add",
    "-c",
    "-p",
    "glidein-test-pool",
    "-f",
    password,
  ])
  if (stored.code !== 0) throw new Error(`condor_store_cred: ${stored.out}`)
  const up = await until(60, () => {
    const r = poolTool(pool, "condor_status", ["-schedd", "-af", "Name"])
    return r.code === 0 && r.out.trim() !== ""
  })
  if (!up) throw new Error(`the pool did not come up; see ${dir}/log`)
  return pool
}

/** A glidein token (ADVERTISE_STARTD, ADVERTISE_MASTER, READ) signed with the pool's key. */
export function glideinToken(pool: LoopbackPool): string {
  const authz = ["ADVERTISE_STARTD", "ADVERTISE_MASTER", "READ"].flatMap((a) => ["-authz", a])
  const r = poolTool(pool, "condor_token_create", [
    "-identity",
    GLIDEIN_IDENTITY,
    ...authz,
    "-key",
    "POOL",
  ])
  if (r.code !== 0) throw new Error(`condor_token_create: ${r.out}`)
  return r.out.trim()
}

/** The pool password file's bytes (what `tarball build --password` takes). */
export function poolPassword(pool: LoopbackPool): Uint8Array {
  return new Uint8Array(
    Bun.spawnSync(pool.as(["cat", path.join(pool.dir, "passwords.d/POOL")])).stdout,
  )
}

/** Stops the pool's master (graceful, then SIGKILL after a minute). */
export async function stopLoopbackPool(pool: LoopbackPool): Promise<void> {
  pool.master.kill("SIGTERM")
  const timer = setTimeout(() => pool.master.kill("SIGKILL"), 60_000)
  await pool.master.exited
  clearTimeout(timer)
}
