#!/bin/sh
# Builds a stand-in HTCondor install for the end-to-end tests, laid out like an unpacked
# release (bin/ sbin/ lib/ lib/condor/ libexec/ etc/), for `glidein tarball build --condor`.
# Its condor_master records how it was started into RESULTS (see ./condor_master); the other
# daemons are placeholders that only need to exist and be executable.
#
#   make-condor.sh OUT RESULTS [CAP_SECONDS]
#
# CAP_SECONDS (default 600) bounds how long a stand-in master stays up whatever -r says, so a
# test that dies leaves nothing running for long.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 OUT RESULTS [CAP_SECONDS]" >&2; exit 2; }
out=$1 results=$2 cap=${3:-600}
case $results in /*) ;; *) echo "RESULTS must be an absolute path, got \"$results\"" >&2; exit 2 ;; esac
case $cap in '' | *[!0-9]*) echo "CAP_SECONDS must be a whole number, got \"$cap\"" >&2; exit 2 ;; esac
here=$(cd "$(dirname "$0")" && pwd)

mkdir -p "$out/bin" "$out/sbin" "$out/lib/condor" "$out/libexec" "$out/etc"
sed -e "s|@RESULTS@|'$results'|" -e "s|@CAP_SECONDS@|$cap|" "$here/condor_master" >"$out/sbin/condor_master"

placeholder() {
  printf '#!/bin/sh\n# Stand-in %s for glidein'"'"'s end-to-end tests (not HTCondor).\necho "stand-in %s: not HTCondor" >&2\nexit 0\n' "$1" "$1" >"$2"
}
for daemon in condor_startd condor_starter condor_procd; do placeholder "$daemon" "$out/sbin/$daemon"; done
placeholder condor_shared_port "$out/libexec/condor_shared_port"
# Two GPUs under the short-UUID names current condor_gpu_discovery reports by default, with
# its nested properties; like the real one it reports only the devices CUDA_VISIBLE_DEVICES
# names (by index: GPU-e2e0000<index>).
cat >"$out/libexec/condor_gpu_discovery" <<'GPUS'
#!/bin/sh
# Stand-in condor_gpu_discovery for glidein's end-to-end tests (not HTCondor).
ids="GPU-e2e00000 GPU-e2e00001"
if [ -n "${CUDA_VISIBLE_DEVICES+set}" ]; then
  ids=""
  for i in $(echo "$CUDA_VISIBLE_DEVICES" | tr , ' '); do ids="$ids GPU-e2e0000$i"; done
fi
echo "DetectedGPUs=\"$(echo $ids | sed 's/ /, /g')\""
case " $* " in *" -properties "*)
  echo 'Common=[ Capability=8.0; DeviceName="Stand-in GPU"; ]'
  for id in $ids; do echo "$(echo "$id" | tr - _)=[ id=\"$id\"; GlobalMemoryMb=16000; ]"; done
esac
GPUS
placeholder condor_nsenter "$out/bin/condor_nsenter"
printf '#!/bin/sh\necho '"'"'$CondorVersion: 24.0.1 2024-10-31 BuildID: 766000 PackageID: 24.0.1-1 $'"'"'\n' >"$out/bin/condor_version"
printf 'stand-in shared library for glidein end-to-end tests\n' >"$out/lib/libcondor_utils_24_0_1.so"
printf 'stand-in shared library for glidein end-to-end tests\n' >"$out/lib/condor/libclassad.so.16"
printf '# stand-in HTCondor configuration (glidein end-to-end tests)\n' >"$out/etc/condor_config"
chmod 755 "$out"/bin/* "$out"/sbin/* "$out"/libexec/*
