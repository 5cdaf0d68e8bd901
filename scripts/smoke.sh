#!/bin/sh
# Smoke test of a compiled glidein binary: copied alone into an empty directory and run under
# `env -i`, as cron would. Usage: scripts/smoke.sh dist/glidein-linux-x64
set -eu
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp "$bin" "$dir/glidein"
cd "$dir"

env -i ./glidein --version
env -i ./glidein --help >/dev/null
# Every command listed by --help must print its own help (names are one or two words,
# separated from the summary by at least two spaces).
env -i ./glidein --help | sed -n '/^Commands:/,/^$/p' | sed '1d;/^$/d' |
  awk -F'  +' '{print $2}' | while read -r name; do
    # shellcheck disable=SC2086 # the name is one or two words on purpose
    env -i ./glidein $name --help >/dev/null
    echo "ok: glidein $name --help"
  done

expect_exit() {
  want=$1; shift
  set +e; env -i ./glidein "$@" >/dev/null 2>&1; got=$?; set -e
  [ "$got" -eq "$want" ] || { echo "glidein $*: exit $got, expected $want" >&2; exit 1; }
  echo "ok: glidein $* exits $want"
}
expect_exit 2 --no-such-flag
expect_exit 2 no-such-command

# The binary must not read a .env or bunfig.toml it finds where it runs: a bunfig.toml that
# preloads a script, and a .env that would give a config without an address a server.
printf 'touch preloaded\n' >boom.js
printf 'preload = ["./boom.js"]\n' >bunfig.toml
printf 'GLIDEIN_SERVER=http://127.0.0.1:9/jsonrpc\n' >.env
printf '[Glidein]\nsite = Smoke\ncluster = pool.example.org\n[Cluster]\nscheduler = slurm\n' >site.ini
# submit --check reads the glidein tarball: one built by this binary from a stand-in install.
mkdir -p condor/sbin condor/bin condor/lib condor/libexec
for d in condor_master condor_startd condor_starter condor_procd; do
  printf '#!/bin/sh\n' >"condor/sbin/$d"
  chmod 755 "condor/sbin/$d"
done
printf '\216\304\000\322' >pw
chmod 600 pw
env -i ./glidein tarball build --condor condor --password pw -o glidein.tar.gz >/dev/null
env -i ./glidein --version >/dev/null
[ ! -e preloaded ] || { echo "glidein ran the preload of ./bunfig.toml" >&2; exit 1; }
echo "ok: ./bunfig.toml is not read"
# The same config with the variable really set is usable, so exit 2 below means .env was unread.
env -i GLIDEIN_SERVER=http://127.0.0.1:9/jsonrpc ./glidein submit --config site.ini --check >/dev/null
expect_exit 2 submit --config site.ini --check
echo "ok: ./.env is not read"
