#!/bin/sh -l
# Anvil GPU glidein: CVMFS through cvmfsexec, the glidein in an OSG Singularity image.
{{DIRECTIVES}}
{{CUSTOM_HEADER}}
module purge
{{ENTER_GLIDEIN_DIR}}
cp -r "$PROJECT/cvmfsexec" . || exit 1
{{COPY_START_SCRIPT}}
./cvmfsexec/cvmfsexec oasis.opensciencegrid.org singularity.opensciencegrid.org icecube.opensciencegrid.org -- \
  /cvmfs/oasis.opensciencegrid.org/mis/singularity/bin/singularity exec -B /etc/OpenCL -B "$LOCAL_DIR" \
  --nv --bind "$LOCAL_DIR/cvmfsexec/dist/cvmfs:/cvmfs" --cleanenv \
  docker://opensciencegrid/osgvo-el7-cuda10 {{START_COMMAND}}
glidein_status=$?
{{CUSTOM_END}}
exit "$glidein_status"
