/**
 * Where things are inside glidein.tar.gz. templates/glidein_start.sh relies on the same paths:
 * change both together.
 *
 * ```
 * SHA256SUMS                 sha256sum -c manifest of every file except the credentials
 * glideinExec/{bin,sbin,lib,libexec}/   the HTCondor files a startd needs (pyglidein's layout)
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
/** The checksum manifest, in `sha256sum` format. */
export const MANIFEST_PATH = "SHA256SUMS"

/** Daemons a glidein cannot run without, in sbin/ of an install and glideinExec/sbin/ here. */
export const REQUIRED_DAEMONS = ["condor_master", "condor_startd", "condor_starter"]

/** Files a glidein cannot start without, relative to the archive root. */
export const REQUIRED_FILES = [
  ...REQUIRED_DAEMONS.map((daemon) => `${RELEASE_DIR}/sbin/${daemon}`),
  CONFIG_PATH,
  WRAPPER_PATH,
]

/** Modification time of every member written by `tarball build` (2020-01-01T00:00:00Z). */
export const FIXED_MTIME = 1577836800

/** True for a normalized archive path that holds (or is) a credential. */
export function isCredentialPath(name: string): boolean {
  return name === PASSWORD_PATH || name === TOKEN_DIR || name.startsWith(`${TOKEN_DIR}/`)
}
