#!/bin/sh
# Slurm job script of a glidein, rendered by `glidein submit` from templates/slurm.sh.
# A site's own template (submit_template) may use the same placeholders (README: "Your own template").
{{DIRECTIVES}}
{{CUSTOM_HEADER}}
{{CUSTOM_MIDDLE}}
{{ENTER_GLIDEIN_DIR}}
{{COPY_START_SCRIPT}}
{{START_COMMAND}}
glidein_status=$?
{{CUSTOM_END}}
exit "$glidein_status"
