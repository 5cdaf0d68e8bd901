#!/bin/sh
# Bridges-2 GPU glidein: the glidein in an OSG Singularity image, host CVMFS bound in.
{{DIRECTIVES}}
{{CUSTOM_HEADER}}
{{CUSTOM_MIDDLE}}
{{ENTER_GLIDEIN_DIR}}
{{COPY_START_SCRIPT}}
singularity exec --nv --bind /cvmfs/icecube.opensciencegrid.org --bind "$LOCAL_DIR" \
  --bind /etc/OpenCL --cleanenv docker://opensciencegrid/osgvo-el7-cuda10 {{START_COMMAND}}
glidein_status=$?
{{CUSTOM_END}}
exit "$glidein_status"
