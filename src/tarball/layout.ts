/**
 * Where things are inside glidein.tar.gz. templates/glidein_start.sh relies on the same paths:
 * change both together.
 *
 * ```
 * COLLECTOR                  the pool's collector, host[:port], one line (when recorded)
 * SHA256SUMS                 sha256sum -c manifest of every file except COLLECTOR and credentials
 * glideinExec/               the HTCondor files a startd needs, in the release's own layout:
 *   bin/ sbin/ lib/ libexec/          a pre-9.0 release or a `make install` prefix
 *   bin sbin lib lib64 libexec -> usr/…, usr/   a 9.0+ release (links as the release has them)
 * glidein_condor_config      HTCondor configuration (CONDOR_CONFIG)
 * passwdfile                 pool password, mode 0600            (PASSWORD pools)
 * tokens.d/glidein.token     IDTOKEN, mode 0600, dir mode 0700   (IDTOKENS pools)
 * user_job_wrapper.sh        USER_JOB_WRAPPER
 * ```
 */

/** HTCondor release directory inside the archive. */
export const RELEASE_DIR = "glideinExec"
/** The glidein's HTCondor configuration file. */
export const CONFIG_PATH = "glidein_condor_config"
/** The job wrapper run around every payload job. */
export const WRAPPER_PATH = "user_job_wrapper.sh"
/** The pool password file (SEC_PASSWORD_FILE). */
export const PASSWORD_PATH = "passwdfile"
/** Directory of IDTOKENS (SEC_TOKEN_DIRECTORY), without the trailing slash. */
export const TOKEN_DIR = "tokens.d"
/** Where `--token` puts the token. */
export const TOKEN_PATH = `${TOKEN_DIR}/glidein.token`
/**
 * The pool's collector recorded by `--collector`: glidein_start.sh uses it when the glidein
 * gets no CLUSTER. First in the archive (`inject-password` puts it there too), so that
 * `glidein submit` finds it by reading only the start of the tarball.
 */
export const COLLECTOR_PATH = "COLLECTOR"
/** The checksum manifest, in `sha256sum` format. */
export const MANIFEST_PATH = "SHA256SUMS"

/** Daemons a glidein cannot run without, in sbin/ of an install and glideinExec/sbin/ here. */
export const REQUIRED_DAEMONS = ["condor_master", "condor_startd", "condor_starter"]

/**
 * Programs under RELEASE_DIR whose libraries must all resolve for a glidein to run: the
 * daemons, and the helpers glidein_start.sh and the starter run (when the release has them).
 */
export const ESSENTIAL_PROGRAMS = [
  ...REQUIRED_DAEMONS.map((daemon) => `sbin/${daemon}`),
  "sbin/condor_procd",
  "libexec/condor_gpu_discovery",
  "libexec/curl_plugin",
]

/** Files a glidein cannot start without, relative to the archive root. */
export const REQUIRED_FILES = [
  ...REQUIRED_DAEMONS.map((daemon) => `${RELEASE_DIR}/sbin/${daemon}`),
  CONFIG_PATH,
  WRAPPER_PATH,
]

/** Modification time of every member written by `tarball build` (2020-01-01T00:00:00Z). */
export const FIXED_MTIME = 1577836800

/**
 * True for what `inject-password` may change, and the manifest therefore leaves out: the
 * credentials and the collector.
 */
export function isSiteSetting(name: string): boolean {
  return name === COLLECTOR_PATH || isCredentialPath(name)
}

/** True for a normalized archive path that holds (or is) a credential. */
export function isCredentialPath(name: string): boolean {
  return name === PASSWORD_PATH || name === TOKEN_DIR || name.startsWith(`${TOKEN_DIR}/`)
}
