#!/bin/sh
# NERSC Cori (Haswell) glidein: the glidein in a Shifter image with CVMFS.
{{DIRECTIVES}}
#SBATCH --export=ALL
#SBATCH -L SCRATCH
#SBATCH -C haswell
{{CUSTOM_HEADER}}
{{CUSTOM_MIDDLE}}
{{ENTER_GLIDEIN_DIR}}
{{COPY_START_SCRIPT}}
shifter --image=docker:benediktriedel/nersc-el7:latest --module=cvmfs {{START_COMMAND}}
glidein_status=$?
{{CUSTOM_END}}
exit "$glidein_status"
