#!/usr/bin/env bash
# Brings up a one-node Slurm cluster on this machine for the end-to-end tests, without systemd:
# installs the Debian packages when missing, writes a private slurm.conf and munge socket under
# $E2E_DIR/slurm, starts munged, slurmctld and slurmd in the foreground of background
# processes, records their PIDs and waits until the node is idle. Idempotent: a second run
# finds the daemons alive and only waits for readiness.
#
# Clients must use the printed configuration: `export SLURM_CONF=$E2E_DIR/slurm/slurm.conf`.
# The node has 4 CPUs, 6000 MB and 2 GPUs (a `gpu` GRES without devices) whatever the machine
# has, so the tests know when it is full. Stop everything with slurm-down.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
need_root

dir=$E2E_DIR/slurm
conf=$dir/slurm.conf
export SLURM_CONF=$conf
host=$(hostname -s)
ctld_port=${GLIDEIN_E2E_SLURMCTLD_PORT:-6817}
slurmd_port=${GLIDEIN_E2E_SLURMD_PORT:-6818}

ensure_packages slurmctld slurmd slurm-client munge curl
ensure_user

node_state() { sinfo -h -n "$host" -o %T 2>/dev/null; }

if pid_alive "$(cat "$dir/slurmctld.pid" 2>/dev/null)" && pid_alive "$(cat "$dir/slurmd.pid" 2>/dev/null)"; then
  say "slurm already running from $dir"
else
  # A half-started cluster from an earlier run: stop what it recorded before starting anew.
  "$here/slurm-down.sh" >/dev/null 2>&1 || true
  for port in "$ctld_port" "$slurmd_port"; do
    port_free "$port" || die "TCP port $port is in use (another Slurm?); set GLIDEIN_E2E_SLURMCTLD_PORT/GLIDEIN_E2E_SLURMD_PORT"
  done
  mkdir -p "$E2E_DIR" "$dir/ctld" "$dir/spool" "$dir/log"
  chmod 755 "$E2E_DIR" "$dir"

  # munged: Debian's key belongs to `munge` and munged refuses to run as root with it.
  install -d -o munge -g munge -m 755 "$dir/munge"
  start_daemon "$dir/munged.pid" "$dir/log/munged.log" \
    setpriv --reuid=munge --regid=munge --init-groups \
    munged --foreground --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" \
    --seed-file="$dir/munge/munged.seed"
  wait_for 10 test -S "$dir/munge/munge.socket" ||
    die "munged did not create its socket within 10 s" -- "$dir/log/munged.log"

  # A fixed node shape, so the tests know what fits: 4 CPUs, 6000 MB, whatever the machine
  # has (config_overrides: slurmd reports the configured node instead of draining it when the
  # hardware is smaller; the test jobs only sleep).
  cpus=4
  mem=6000

  cat >"$conf" <<EOF
ClusterName=glidein-e2e
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
MailProg=/bin/true
ReturnToService=2
SlurmdParameters=config_overrides
KillWait=5
MinJobAge=30
GresTypes=gpu
StateSaveLocation=$dir/ctld
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.daemon.pid
SlurmdPidFile=$dir/slurmd.daemon.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem Gres=gpu:2 State=UNKNOWN
PartitionName=e2e Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  # Two pretend GPUs: Slurm drops a GPU without a device file, and with task/none nothing is
  # bound to the files, so any two character devices do.
  printf 'NodeName=%s Name=gpu File=%s\n' "$host" /dev/null "$host" /dev/zero >"$dir/gres.conf"

  start_daemon "$dir/slurmctld.pid" "$dir/log/slurmctld.out" slurmctld -D -c -f "$conf"
  wait_for 20 scontrol ping ||
    die "slurmctld did not answer within 20 s" -- "$dir/log/slurmctld.out" "$dir/log/slurmctld.log"
  start_daemon "$dir/slurmd.pid" "$dir/log/slurmd.out" slurmd -D -f "$conf"
fi

node_ready() { [[ "$(node_state)" =~ ^(idle|mixed|allocated)$ ]]; }
wait_for 30 node_ready ||
  die "node $host is not usable after 30 s (state: \"$(node_state)\")" -- \
    "$dir/log/slurmd.out" "$dir/log/slurmd.log" "$dir/log/slurmctld.log"
say "slurm up: node $host $(sinfo -h -n "$host" -o '%c CPUs, %m MB, %G'), SLURM_CONF=$conf"
