#!/usr/bin/env bash
# End-to-end tests of glidein on a real one-node Slurm and Grid Engine (`npm run test:e2e`).
# Needs root and Debian (apt-get): installs the scheduler packages when missing, starts the
# daemons, runs test/e2e/suite.ts against the compiled binary, and always stops exactly the
# daemons it started, pass or fail.
#
# Environment:
#   GLIDEIN_E2E_CLUSTERS  which clusters to test (default "slurm,sge")
#   GLIDEIN_E2E_BIN       the glidein binary (default dist/glidein-linux-<arch>, rebuilt when
#                         older than the sources)
#   GLIDEIN_E2E_DIR       state, logs and the run's files (default /tmp/glidein-e2e)
#   GLIDEIN_E2E_KEEP=1    leave the clusters running afterwards (stop them with *-down.sh)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$here/lib.sh"
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then
  say "root is needed (packages, daemons, a test user); re-running with sudo"
  exec sudo --preserve-env=GLIDEIN_E2E_CLUSTERS,GLIDEIN_E2E_BIN,GLIDEIN_E2E_DIR,GLIDEIN_E2E_USER,GLIDEIN_E2E_KEEP,GLIDEIN_TEST_CONDOR,CI bash "$0" "$@"
fi
need_root
cd "$root"
started=$SECONDS

IFS=, read -r -a clusters <<<"${GLIDEIN_E2E_CLUSTERS:-slurm,sge}"
for c in "${clusters[@]}"; do
  [ "$c" = slurm ] || [ "$c" = sge ] || die "GLIDEIN_E2E_CLUSTERS: unknown cluster \"$c\" (slurm, sge)"
done
bun=$root/node_modules/.bin/bun
[ -x "$bun" ] || die "no $bun: run npm install first"

case $(uname -m) in
  x86_64) arch=x64 ;;
  aarch64) arch=arm64 ;;
  *) die "unsupported machine $(uname -m)" ;;
esac
mkdir -p "$E2E_DIR"
chmod 755 "$E2E_DIR"
bin=${GLIDEIN_E2E_BIN:-$root/dist/glidein-linux-$arch}
if [ -z "${GLIDEIN_E2E_BIN:-}" ]; then
  if [ ! -x "$bin" ] || [ -n "$(find src templates compile.ts package.json -newer "$bin" -print -quit)" ]; then
    say "building $bin"
    "$bun" compile.ts --single >"$E2E_DIR/build.log" 2>&1 || die "the build failed" -- "$E2E_DIR/build.log"
  fi
fi
[ -x "$bin" ] || die "no glidein binary at $bin"

up=()
cleanup() {
  local rc=$?
  if [ "${GLIDEIN_E2E_KEEP:-}" = 1 ]; then
    say "leaving ${up[*]:-no clusters} running (GLIDEIN_E2E_KEEP=1); stop with test/e2e/<name>-down.sh"
  else
    local c
    for c in "${up[@]}"; do "$here/$c-down.sh" >"$E2E_DIR/$c-down.log" 2>&1 & done
    wait
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Bring the clusters up one after the other (their package installs would queue on apt's
# lock anyway); each setup prints one summary line.
ready=()
failed=0
for c in "${clusters[@]}"; do
  up+=("$c")
  t=$SECONDS
  if "$here/$c-up.sh" >"$E2E_DIR/$c-up.log" 2>&1; then
    ready+=("$c")
    printf 'PASS  %-6s %-10s %5s s  %s\n' "$c" setup "$((SECONDS - t))" "$(tail -n 1 "$E2E_DIR/$c-up.log" | sed 's/^\[e2e\] //')"
  else
    failed=1
    printf 'FAIL  %-6s %-10s %5s s  %s\n' "$c" setup "$((SECONDS - t))" "$c-up.sh failed:"
    sed 's/^/        | /' "$E2E_DIR/$c-up.log"
  fi
done

if [ ${#ready[@]} -gt 0 ]; then
  rm -rf "$E2E_DIR/run"
  list=$(IFS=,; echo "${ready[*]}")
  "$bun" "$here/suite.ts" --bin "$bin" --work "$E2E_DIR/run" --clusters "$list" --e2e-dir "$E2E_DIR" || failed=1
fi
say "end-to-end tests took $((SECONDS - started)) s"
exit $failed
