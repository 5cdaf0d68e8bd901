#!/bin/sh
# user_job_wrapper.sh: HTCondor's USER_JOB_WRAPPER in every glidein. The starter runs it as
#   user_job_wrapper.sh <job executable> <arguments...>
# in the job's scratch directory, with the glidein's environment (see glidein_start.sh).
#
# - HOME: batch jobs started under env -i have none; give jobs their scratch directory.
# - PATH: make sure the usual directories are on it.
# - The glidein's own HTCondor settings (_condor_*, CONDOR_CONFIG) and the variables that
#   started it (the contract of glidein_start.sh) are not the job's business: HTCondor tools
#   in a job would read the glidein's configuration, and CPUS or MEMORY would describe the
#   glidein, not the job. [CustomEnv] values (http_proxy, ...) stay.
# - GLIDEIN_JOB_WRAPPER: a site's own wrapper (a container launcher, a module setup) runs
#   the job as `$GLIDEIN_JOB_WRAPPER <job executable> <arguments...>`.

fail() {
    # HTCondor puts this file's text into the job's hold reason
    if [ -n "${_CONDOR_WRAPPER_ERROR_FILE:-}" ]; then
        printf '%s\n' "$*" >"$_CONDOR_WRAPPER_ERROR_FILE"
    fi
    printf 'user_job_wrapper.sh: %s\n' "$*" >&2
    exit 1
}

[ "$#" -ge 1 ] || fail "no job to run"

if [ -z "${HOME:-}" ] || [ ! -d "$HOME" ] || [ ! -w "$HOME" ]; then
    HOME=${_CONDOR_SCRATCH_DIR:-$PWD}
    export HOME
fi
PATH="${PATH:+$PATH:}/usr/local/bin:/usr/bin:/bin"
export PATH

for name in $(env | sed -n 's/^\(_condor_[A-Za-z0-9_]*\)=.*/\1/p'); do
    unset "$name" 2>/dev/null
done
unset CONDOR_CONFIG GLIDEIN_TARBALL SITE ResourceName CLUSTER CPUS MEMORY DISK WALLTIME GPUS \
    RETIRETIME NOCLAIMTIME GLIDEIN_NAME GLIDEIN_KEEP GLIDEIN_STARTD_ATTRS GLIDEIN_CVMFS_REPOS \
    GPU_DISCOVERY_EXTRA GPU_DISCOVERY_TIMEOUT GLIDEIN_OWNERS 2>/dev/null

if [ -n "${GLIDEIN_JOB_WRAPPER:-}" ]; then
    [ -x "$GLIDEIN_JOB_WRAPPER" ] || fail "GLIDEIN_JOB_WRAPPER \"$GLIDEIN_JOB_WRAPPER\" is not an executable file"
    exec "$GLIDEIN_JOB_WRAPPER" "$@"
fi
exec "$@"
