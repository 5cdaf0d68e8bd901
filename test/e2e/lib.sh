# Shared helpers for the end-to-end setup scripts (sourced, not run).
#
# Everything the e2e scripts start lives under one state directory, $E2E_DIR (default
# /tmp/glidein-e2e): each daemon's PID file, log and spool. The down scripts stop only the
# PIDs recorded there, so they never touch a scheduler someone else runs on the machine.

E2E_DIR=${GLIDEIN_E2E_DIR:-/tmp/glidein-e2e}
E2E_USER=${GLIDEIN_E2E_USER:-glidein-e2e}
export DEBIAN_FRONTEND=noninteractive

say() { printf '[e2e] %s\n' "$*" >&2; }

# Prints the message and the tail of each log file given after `--`, then exits 1.
die() {
  local msg=$1
  shift
  printf '[e2e] error: %s\n' "$msg" >&2
  if [ "${1:-}" = "--" ]; then
    shift
    local f
    for f in "$@"; do
      [ -f "$f" ] || continue
      printf '[e2e] --- last lines of %s ---\n' "$f" >&2
      tail -n 25 "$f" >&2
    done
  fi
  exit 1
}

need_root() {
  [ "$(id -u)" = 0 ] || die "$(basename "$0") must run as root (it installs packages and starts daemons)"
}

# Installs the named Debian packages that are not installed yet. Refreshes the package lists
# only when an install fails, since a fresh CI machine may have none and a warm one is current.
ensure_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]}"
  local apt=(apt-get -y -q -o DPkg::Lock::Timeout=300 --no-install-recommends install "${missing[@]}")
  local log="$E2E_DIR/apt.log"
  mkdir -p "$E2E_DIR"
  # The packages' scripts would start the daemons through init scripts; these tests start
  # their own. Debian's policy-rc.d hook says no, for the length of the install only.
  local policy=/usr/sbin/policy-rc.d ours=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# glidein e2e: no service starts during package installs\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    ours=1
  fi
  local ok=1
  if ! "${apt[@]}" >"$log" 2>&1; then
    say "install failed; refreshing package lists and retrying"
    if ! apt-get -q -o DPkg::Lock::Timeout=300 update >>"$log" 2>&1 || ! "${apt[@]}" >>"$log" 2>&1; then ok=""; fi
  fi
  [ -z "$ours" ] || rm -f "$policy"
  [ -n "$ok" ] || die "could not install ${missing[*]}" -- "$log"
}

# Creates the unprivileged user that submits the glideins (uid >= 1000, as Grid Engine's
# min_uid and real sites require), with a home directory for its glidein state.
ensure_user() {
  if ! id -u "$E2E_USER" >/dev/null 2>&1; then
    # Another setup script may be creating it at the same moment.
    useradd --create-home --shell /bin/bash --key UID_MIN=1000 "$E2E_USER" 2>/dev/null ||
      id -u "$E2E_USER" >/dev/null 2>&1 || die "could not create user \"$E2E_USER\""
    say "created user $E2E_USER (uid $(id -u "$E2E_USER"))"
  fi
  [ "$(id -u "$E2E_USER")" -ge 1000 ] || die "user \"$E2E_USER\" has uid $(id -u "$E2E_USER"), need >= 1000"
}

# Polls `cmd...` every 0.2 s until it succeeds or `seconds` pass. Returns 1 on timeout.
wait_for() {
  local seconds=$1
  shift
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -ge "$deadline" ] && return 1
    sleep 0.2
  done
}

# Starts `cmd...` in the background, detached from our stdio, and records its PID in
# `pidfile`. The command must stay in the foreground (no daemonizing) so the PID is its own.
start_daemon() {
  local pidfile=$1 log=$2
  shift 2
  setsid "$@" </dev/null >>"$log" 2>&1 &
  echo $! >"$pidfile"
}

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# Stops the process recorded in `pidfile` if it is still the program named `name` (a PID
# that was reused by something else is left alone): SIGTERM, then SIGKILL after `grace` s.
stop_pidfile() {
  local pidfile=$1 name=$2 grace=${3:-10}
  [ -f "$pidfile" ] || return 0
  local pid
  pid=$(cat "$pidfile")
  if pid_alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$name"; then
    kill -TERM "$pid" 2>/dev/null
    local deadline=$((SECONDS + grace))
    while pid_alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
    if pid_alive "$pid"; then
      say "$name (pid $pid) ignored SIGTERM for ${grace} s; killing it"
      kill -KILL "$pid" 2>/dev/null
    fi
    say "stopped $name (pid $pid)"
  fi
  rm -f "$pidfile"
}

# Fails when something already listens on TCP `port` (another scheduler on this machine).
port_free() { ! ss -Htln "sport = :$1" | grep -q .; }
