/**
 * @module
 * The glidein runtime: the files that run inside every batch job, embedded in the executable.
 * `glidein submit` writes GLIDEIN_START_SH next to each submission; `glidein tarball build` puts
 * GLIDEIN_CONDOR_CONFIG and USER_JOB_WRAPPER_SH into glidein.tar.gz. The environment contract of
 * glidein_start.sh is in its header comment and in the README (section "The glidein job").
 */
import condorConfig from "../../templates/glidein_condor_config" with { type: "text" }
import startScript from "../../templates/glidein_start.sh" with { type: "text" }
import jobWrapper from "../../templates/user_job_wrapper.sh" with { type: "text" }
import { VERSION } from "../version.ts"

/** The line of glidein_start.sh that this executable fills with its version. */
const VERSION_LINE = /^glidein_version=""$/m

/**
 * templates/glidein_start.sh, which unpacks the tarball and runs condor_master (POSIX sh),
 * with this executable's version, which the glidein advertises as GLIDEIN_Version (only
 * the characters a version has, since it lands inside a shell string).
 */
export const GLIDEIN_START_SH: string = startScript.replace(
  VERSION_LINE,
  `glidein_version="${VERSION.replace(/[^A-Za-z0-9._+-]/g, "_")}"`,
)

/** templates/glidein_condor_config: the glidein's CONDOR_CONFIG. */
export const GLIDEIN_CONDOR_CONFIG: string = condorConfig

/** templates/user_job_wrapper.sh: HTCondor's USER_JOB_WRAPPER around every payload job. */
export const USER_JOB_WRAPPER_SH: string = jobWrapper
