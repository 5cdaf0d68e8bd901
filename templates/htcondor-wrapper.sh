#!/bin/sh
# Starts a glidein inside an HTCondor job from a clean environment; rendered by
# `glidein submit` from templates/htcondor-wrapper.sh. HTCondor removes the sandbox itself.
cd "${_CONDOR_SCRATCH_DIR:-.}" || exit 1
exec {{START_COMMAND}}
