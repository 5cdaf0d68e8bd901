#!/usr/bin/env bash
# Stops the Slurm cluster that slurm-up.sh started: cancels every job on it first (each job's
# slurmstepd outlives slurmd), then stops slurmd, slurmctld and munged by their recorded PIDs.
# Leaves the packages, the test user and the logs in $E2E_DIR/slurm/log.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
need_root

dir=$E2E_DIR/slurm
export SLURM_CONF=$dir/slurm.conf

if pid_alive "$(cat "$dir/slurmctld.pid" 2>/dev/null)"; then
  scancel --full --quiet --partition=e2e 2>/dev/null || true
  # Wait for the job steps to end so no slurmstepd is left behind.
  no_jobs() { [ -z "$(squeue -h -o %i)" ]; }
  wait_for 15 no_jobs || say "jobs still listed after 15 s: $(squeue -h -o '%i %T' | tr '\n' ' ')"
fi
stop_pidfile "$dir/slurmd.pid" slurmd
stop_pidfile "$dir/slurmctld.pid" slurmctld
stop_pidfile "$dir/munged.pid" munged
# A slurmstepd still running belongs to this cluster when it writes to our slurmd log; it has
# no PID file, and any other Slurm's stepds are left alone.
for pid in $(pgrep -x slurmstepd 2>/dev/null); do
  if find "/proc/$pid/fd" -lname "$dir/log/*" 2>/dev/null | grep -q .; then
    kill -KILL "$pid" 2>/dev/null && say "killed leftover slurmstepd (pid $pid)"
  fi
done
exit 0
