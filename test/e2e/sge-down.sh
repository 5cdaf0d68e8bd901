#!/usr/bin/env bash
# Stops the Grid Engine that sge-up.sh started: removes the test user's jobs (`qdel -f`,
# since each job's sge_shepherd outlives execd), then stops sge_execd and sge_qmaster by their
# recorded PIDs. Leaves the packages, the cell configuration and the test user.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
need_root

dir=$E2E_DIR/sge
export SGE_ROOT=/var/lib/gridengine SGE_CELL=default

if pid_alive "$(cat "$dir/qmaster.pid" 2>/dev/null)"; then
  if [ -n "$(qstat -u "$E2E_USER" 2>/dev/null)" ]; then
    qdel -f -u "$E2E_USER" >/dev/null 2>&1 || true
    no_jobs() { [ -z "$(qstat -u "$E2E_USER")" ]; }
    wait_for 15 no_jobs || say "jobs still listed after 15 s"
  fi
fi
# Shepherds of this execd are its children; stop any that remain before execd itself.
execd=$(cat "$dir/execd.pid" 2>/dev/null)
if pid_alive "$execd"; then
  for pid in $(pgrep -P "$execd" -x sge_shepherd 2>/dev/null); do
    kill -KILL -- "-$pid" "$pid" 2>/dev/null && say "killed leftover sge_shepherd (pid $pid)"
  done
fi
stop_pidfile "$dir/execd.pid" sge_execd
stop_pidfile "$dir/qmaster.pid" sge_qmaster 30
exit 0
