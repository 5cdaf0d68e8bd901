#!/bin/sh
# Delta GPU glidein: CVMFS through cvmfsexec, the glidein in an OSG Singularity image.
{{DIRECTIVES}}
{{CUSTOM_HEADER}}
{{CUSTOM_MIDDLE}}
{{ENTER_GLIDEIN_DIR}}
cp -a /u/riedel1/cvmfsexec . || exit 1
{{COPY_START_SCRIPT}}
./cvmfsexec/cvmfsexec oasis.opensciencegrid.org singularity.opensciencegrid.org icecube.opensciencegrid.org -- \
  /cvmfs/oasis.opensciencegrid.org/mis/singularity/bin/singularity exec -B /etc/OpenCL --nv \
  --bind "$LOCAL_DIR/cvmfsexec/dist/cvmfs:/cvmfs" --cleanenv \
  docker://opensciencegrid/osgvo-el7-cuda10 {{START_COMMAND}}
glidein_status=$?
{{CUSTOM_END}}
exit "$glidein_status"
