#!/usr/bin/env bash
# Brings up a one-node Grid Engine (Debian's Son of Grid Engine 8.1.9) for the end-to-end
# tests, without systemd: installs the Debian packages when missing (the package creates the
# cell in /var/lib/gridengine and its spool in /var/spool/gridengine), starts sge_qmaster and
# sge_execd in the foreground of background processes (SGE_ND), records their PIDs under
# $E2E_DIR/sge, configures a fast scheduler, one queue, parallel environments and a `gpu`
# consumable, and waits until the queue takes jobs. Idempotent. Stop it with sge-down.sh.
#
# The node offers 4 slots and 2 GPUs, like the Slurm one. Parallel environments `smp`, `mpi` and
# `multicore` (pyglidein's names) all keep a job's slots on one host.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
need_root

dir=$E2E_DIR/sge
host=$(hostname -s)
export SGE_ROOT=/var/lib/gridengine SGE_CELL=default
common=$SGE_ROOT/$SGE_CELL/common

if ! dpkg-query -W -f='${Status}' gridengine-master 2>/dev/null | grep -q 'install ok installed'; then
  # The packages initialise the cell at install time from these answers.
  debconf-set-selections <<EOF
gridengine-common shared/gridengineconfig boolean true
gridengine-common shared/gridenginecell string $SGE_CELL
gridengine-common shared/gridenginemaster string $host
EOF
fi
ensure_packages gridengine-master gridengine-exec gridengine-client curl
ensure_user
[ -f "$common/bootstrap" ] || die "the Grid Engine cell was not created ($common/bootstrap is missing); reinstall gridengine-master with shared/gridengineconfig=true"

mkdir -p "$dir/log" "$dir/conf"
chmod 755 "$E2E_DIR" "$dir"

# qconf prints what it changed on stdout or stderr; show it only when it fails.
qconf_quiet() {
  local out
  out=$(qconf "$@" 2>&1) || die "qconf $*: $out"
}

queue_state() { qstat -f -q "all.q@$host" 2>/dev/null | awk -v q="all.q@$host" '$1 ~ "^"q {print ($6 == "" ? "ok" : $6)}'; }

if pid_alive "$(cat "$dir/qmaster.pid" 2>/dev/null)" && pid_alive "$(cat "$dir/execd.pid" 2>/dev/null)"; then
  say "grid engine already running (pids in $dir)"
else
  "$here/sge-down.sh" >/dev/null 2>&1 || true
  for port in 6444 6445; do
    port_free "$port" || die "TCP port $port is in use (another Grid Engine?)"
  done
  # When the host name resolves to an address whose name is another (here 127.0.0.1 →
  # `localhost`), every client is refused ("client IP resolved to host name localhost. This is
  # not identical to clients host name"). An alias maps it back; qmaster reads it at start.
  addr=$(getent ahostsv4 "$host" | awk 'NR == 1 {print $1}')
  back=$(getent hosts "$addr" | awk 'NR == 1 {print $2}')
  if [ -n "$back" ] && [ "$back" != "$host" ]; then
    echo "$host $back" >"$common/host_aliases"
  else
    rm -f "$common/host_aliases"
  fi
  echo "$host" >"$common/act_qmaster"

  # SGE_ND keeps the daemons in the foreground, so the recorded PID is the daemon's.
  SGE_ND=true start_daemon "$dir/qmaster.pid" "$dir/log/qmaster.out" /usr/sbin/sge_qmaster
  wait_for 20 qconf -sh ||
    die "sge_qmaster did not answer within 20 s" -- "$dir/log/qmaster.out" /var/spool/gridengine/qmaster/messages

  # Jobs of the test user that an earlier, interrupted run left in the spool would start
  # again with the new execd and skew the counts.
  qdel -f -u "$E2E_USER" >/dev/null 2>&1 || true

  # Global configuration: a quick load report so a new execd is seen at once.
  qconf -sconf global | sed -e 's/^load_report_time .*/load_report_time 00:00:02/' >"$dir/conf/global"
  qconf_quiet -Mconf "$dir/conf/global" # the file must be named after the configuration

  # Scheduler: run every second instead of every 15 s, and right after submits and exits.
  qconf -ssconf | sed -e 's/^schedule_interval .*/schedule_interval 0:0:1/' \
    -e 's/^flush_submit_sec .*/flush_submit_sec 1/' -e 's/^flush_finish_sec .*/flush_finish_sec 1/' \
    >"$dir/conf/sched"
  qconf_quiet -Msconf "$dir/conf/sched"

  # A `gpu` consumable, requested as `-l gpu=N`.
  if ! qconf -sc | grep -q '^gpu '; then
    { qconf -sc | grep -v '^#'; echo "gpu gpu INT <= YES YES 0 0"; } >"$dir/conf/complex"
    qconf_quiet -Mc "$dir/conf/complex"
  fi

  for pe in smp mpi multicore; do
    cat >"$dir/conf/pe-$pe" <<EOF
pe_name            $pe
slots              999
user_lists         NONE
xuser_lists        NONE
start_proc_args    NONE
stop_proc_args     NONE
allocation_rule    \$pe_slots
control_slaves     FALSE
job_is_first_task  TRUE
urgency_slots      min
accounting_summary FALSE
qsort_args         NONE
EOF
    if qconf -sp "$pe" >/dev/null 2>&1; then
      qconf_quiet -Mp "$dir/conf/pe-$pe"
    else
      qconf_quiet -Ap "$dir/conf/pe-$pe"
    fi
  done

  slots=4 # like the Slurm node, whatever the machine has: the test jobs only sleep
  cat >"$dir/conf/exechost" <<EOF
hostname              $host
load_scaling          NONE
complex_values        gpu=2
user_lists            NONE
xuser_lists           NONE
projects              NONE
xprojects             NONE
usage_scaling         NONE
report_variables      NONE
EOF
  if qconf -se "$host" >/dev/null 2>&1; then
    qconf_quiet -Me "$dir/conf/exechost"
  else
    qconf_quiet -Ae "$dir/conf/exechost"
  fi
  qconf -ss 2>/dev/null | grep -qx "$host" || qconf_quiet -as "$host"

  if ! qconf -sq all.q >/dev/null 2>&1; then
    EDITOR=true qconf_quiet -aq all.q # accept the template as it is
  fi
  qconf_quiet -rattr queue hostlist "$host" all.q
  qconf_quiet -rattr queue slots "$slots" all.q
  qconf_quiet -rattr queue load_thresholds NONE all.q
  qconf_quiet -rattr queue pe_list "smp mpi multicore" all.q

  SGE_ND=true start_daemon "$dir/execd.pid" "$dir/log/execd.out" /usr/sbin/sge_execd
fi

queue_ready() { [ "$(queue_state)" = ok ]; }
wait_for 30 queue_ready ||
  die "queue all.q@$host is not usable after 30 s (state: \"$(queue_state)\")" -- \
    "$dir/log/execd.out" "$dir/log/qmaster.out" /var/spool/gridengine/qmaster/messages
say "grid engine up: all.q@$host with $(qconf -sq all.q | awk '$1 == "slots" {print $2}') slots, gpu=2"
