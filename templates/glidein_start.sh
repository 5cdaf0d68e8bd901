#!/bin/sh
# glidein_start.sh: runs one glidein (an HTCondor startd that joins the pool) inside a batch
# job. `glidein submit` writes this file next to each submission; the batch job script runs
#
#   cd <job scratch dir> && exec env -i CPUS=.. MEMORY=.. ... sh ./glidein_start.sh
#
# so nothing but the variables below is set (not even PATH). POSIX sh only.
#
# Environment:
#   CLUSTER          the pool's collector, host[:port] (port 9618 when left out); a list
#                    a,b,c spreads glideins over several collectors (one picked at random)
#                    default: the one the tarball records (tarball build --collector)
#   CPUS             cores of the glidein's one partitionable slot                   required
#   MEMORY           memory in MB                                                     required
#   DISK             disk in KB                                                       required
#   WALLTIME         seconds the glidein may live; already 300 s under the batch limit required
#   SITE             advertised as GLIDEIN_Site                                      required
#   ResourceName     advertised as GLIDEIN_ResourceName (and GLIDEIN_SiteResource)   default: SITE
#   GPUS             a count, "all", or device ids ("0,1", "GPU-…", "MIG-…")         default: 0
#   GLIDEIN_TARBALL  the glidein tarball                                  default: ./glidein.tar.gz
#   GLIDEIN_CLIENT   the client that submitted it (its report name), advertised as GLIDEIN_Client
#   GLIDEIN_PARTITION  the site config's partition it was submitted for, as GLIDEIN_Partition
# Optional knobs (set them in the site config's [CustomEnv]):
#   RETIRETIME       seconds before the end when no new job starts; running jobs may use
#                    them to finish                               default: 1200, at most WALLTIME/4
#   NOCLAIMTIME      seconds without a claim after which the glidein gives up   default: 1200
#   GLIDEIN_NAME     name of the startd (HTCondor adds @host)
#                    default: glidein_[<batch job id>_]<time>_<8 random hex digits>
#   GLIDEIN_KEEP     1: keep the whole glidein directory after exit (for debugging); batch
#                    job scripts then keep their directory and save the logs (see below)
#   GLIDEIN_JOB_WRAPPER  a program that runs every payload job, as `wrapper job args...`
#   CUDA_VISIBLE_DEVICES, ROCR_VISIBLE_DEVICES, HIP_VISIBLE_DEVICES, PBS_GPUFILE, SGE_HGR_gpu
#                    the GPUs the batch system assigned (NVIDIA, AMD, PBS's file, Grid Engine's
#                    resource list); they limit what condor_gpu_discovery reports
#   SLURM_JOB_ID, PBS_JOBID, LSB_JOBID, JOB_ID   the batch job's id: in the default name, and
#                    advertised as GLIDEIN_BatchJobId
# Also advertised, in the startd's and the master's ad: GLIDEIN_Version (of the `glidein` that
# wrote this script), GLIDEIN_TarballDigest ("manifest-sha256:<hex>", the sha256 of the tarball's
# SHA256SUMS, which credentials do not change; "sha256:<hex>" of the file when it has none) and
# GLIDEIN_TarballVersion (the `glidein` that built it, from SHA256SUMS).
#   GLIDEIN_OWNERS   only these owners' jobs start here ("alice,bob")
#   GLIDEIN_STARTD_ATTRS  more attributes to advertise: NAME=VALUE;NAME=VALUE (ClassAd values)
#   GLIDEIN_CVMFS_REPOS   CVMFS repositories to look for ("icecube.opensciencegrid.org ..."):
#                    each one readable under /cvmfs is advertised as HAS_CVMFS_<repo, . as _>
#   _condor_STARTD_ATTRS  names added to the glidein's STARTD_ATTRS (pyglidein sites set it)
# Log upload (`glidein submit` sets these when the site config has send_startd_logs = True):
#   LOG_UPLOAD_URL, LOG_UPLOAD_PREFIX, LOG_UPLOAD_POLICY, LOG_UPLOAD_CREDENTIAL, LOG_UPLOAD_DATE,
#   LOG_UPLOAD_SIGNATURE   an S3 POST form; HTCondor's logs go to <URL><PREFIX><host>_<name>.tar.gz
#                    every LOG_UPLOAD_INTERVAL seconds (default 600) and when the glidein ends,
#                    with curl; the startd advertises the object's URL as GLIDEIN_LogsURL
# Every other variable in the environment is passed on to payload jobs.
#
# The tarball (see `glidein tarball inspect`) holds HTCondor under glideinExec/ in its
# release's layout (sbin, libexec and the rest, directories or links into usr/),
# glidein_condor_config, user_job_wrapper.sh, the pool credential: passwdfile (PASSWORD)
# and/or tokens.d/* (IDTOKENS), and COLLECTOR when it was built with --collector. It is unpacked into ./glidein.XXXXXX; HTCondor's logs stay in
# its log/ directory, which the job output names, and the rest is removed at exit. The caller
# owns the directory around it: a batch job script removes it afterwards and, when the glidein
# failed or GLIDEIN_KEEP is set, first saves log/ next to the job's output file and says where;
# under HTCondor the sandbox goes with the job, so only the lines printed here remain.
#
# Exit status: 0 after a planned end (retirement, idle shutdown, a signal, or HTCondor's own
# DAEMON_SHUTDOWN, which makes condor_master exit 99); 1 when the startd crashed; 2 for a bad
# environment or tarball, or HTCondor programs that cannot run on this node; 3 when the
# glidein was never claimed and its logs show why (authentication, permission, CCB);
# otherwise condor_master's status.

PATH="${PATH:+$PATH:}/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"
export PATH
start_time=$(date +%s)
# `glidein submit` writes its own version here (src/runtime/index.ts).
glidein_version=""

dir=""
say() { printf 'glidein: %s\n' "$*"; }
lockdir=""
die() {
    printf 'glidein_start.sh: %s\n' "$*" >&2
    if [ -n "$dir" ] && [ -z "${GLIDEIN_KEEP:-}" ]; then rm -rf "$dir"; fi
    if [ -n "$lockdir" ]; then rm -rf "$lockdir"; fi
    exit 2
}

# $1 name, $2 value, $3 unit: a whole number of at least 1 (15 digits keep sh arithmetic safe)
whole() {
    case $2 in
    '') die "$1 is not set (expected $3)" ;;
    *[!0-9]*) die "$1 must be a whole number of $3, got \"$2\"" ;;
    esac
    [ ${#2} -le 15 ] || die "$1 is too large: \"$2\""
    [ "$2" -ge 1 ] || die "$1 must be at least 1 $3, got \"$2\""
}

# $1 name, $2 value: text that can go inside a ClassAd string
plain() {
    case $2 in
    '') die "$1 is not set" ;;
    *[\"\\]* | *[![:print:]]*) die "$1 may not contain quotes, backslashes or control characters: \"$2\"" ;;
    esac
}

# $1: text for a ClassAd string from outside (a client's name, a version): anything but
# letters, digits, space and . _ @ / : + = , - becomes _ (quotes, backslashes and HTCondor's
# $(macro) references would change the configuration), at most 128 characters.
ad_text() {
    printf '%s' "$1" | tr -c 'A-Za-z0-9 ._@/:+=,-' '_' | cut -c 1-128
}

# $1 where it comes from, $2 value: the collector's address, host[:port]
collector() {
    case $2 in
    '' | *[!][A-Za-z0-9._:?=,-]* | [!A-Za-z0-9[]*) die "$1 is not a host[:port]: \"$2\"" ;;
    esac
}

# $1 seconds, then a command: run it, stopped after that long where timeout(1) is installed
# (a GPU driver or a stale file system can hang a probe for good)
# (busybox's timeout may lack -k)
if timeout -k 5 10 true >/dev/null 2>&1; then
    bounded_by="timeout -k 5"
elif timeout 10 true >/dev/null 2>&1; then
    bounded_by=timeout
else
    bounded_by=""
fi
bounded() {
    bounded_for=$1
    shift
    # shellcheck disable=SC2086 # the command and its options
    if [ -n "$bounded_by" ]; then $bounded_by "$bounded_for" "$@"; else "$@"; fi
}

## 1. Check the environment before touching anything -------------------------------------
# Without CLUSTER the collector comes from the tarball (checked once it is unpacked).
if [ -n "${CLUSTER:-}" ]; then collector CLUSTER "$CLUSTER"; fi
whole CPUS "${CPUS:-}" "cores"
whole MEMORY "${MEMORY:-}" "MB"
whole DISK "${DISK:-}" "KB"
whole WALLTIME "${WALLTIME:-}" "seconds"
plain SITE "${SITE:-}"
ResourceName=${ResourceName:-$SITE}
plain ResourceName "$ResourceName"
GPUS=${GPUS:-0}
case $GPUS in
*[!A-Za-z0-9,_/-]*) die "GPUS must be a count, \"all\" or device ids like 0,1 or GPU-…; got \"$GPUS\"" ;;
esac

if [ -z "${RETIRETIME:-}" ]; then
    RETIRETIME=$((WALLTIME / 4))
    [ "$RETIRETIME" -le 1200 ] || RETIRETIME=1200
    [ "$RETIRETIME" -ge 1 ] || RETIRETIME=1
fi
whole RETIRETIME "$RETIRETIME" "seconds"
[ "$RETIRETIME" -lt "$WALLTIME" ] ||
    die "RETIRETIME ($RETIRETIME s) must be less than WALLTIME ($WALLTIME s)"
[ $((WALLTIME - RETIRETIME)) -ge 60 ] ||
    die "WALLTIME ($WALLTIME s) minus RETIRETIME ($RETIRETIME s) leaves less than a minute for jobs"
NOCLAIMTIME=${NOCLAIMTIME:-1200}
whole NOCLAIMTIME "$NOCLAIMTIME" "seconds"
# The batch job's id names the glidein for the admins; random bytes keep names apart where
# pids are not (PID namespaces, containers), as HTCondor's collector keys ads by name.
batch_job=$(printf '%s' "${SLURM_JOB_ID:-${PBS_JOBID:-${LSB_JOBID:-${JOB_ID:-}}}}" | tr -c 'A-Za-z0-9._-' '_' | cut -c 1-64)
random=$(od -An -N4 -tx1 /dev/urandom 2>/dev/null | tr -d ' \n')
GLIDEIN_NAME=${GLIDEIN_NAME:-glidein_${batch_job:+${batch_job}_}${start_time}_${random:-$$}}
case $GLIDEIN_NAME in
*[!A-Za-z0-9._-]*) die "GLIDEIN_NAME may only hold letters, digits, '.', '_' and '-': \"$GLIDEIN_NAME\"" ;;
esac

case ${GLIDEIN_OWNERS:-} in
*[!A-Za-z0-9._,\ -]*) die "GLIDEIN_OWNERS may only hold user names separated by commas or spaces: \"$GLIDEIN_OWNERS\"" ;;
esac
# A wrapper that cannot run fails every job, which goes back to the queue and matches this
# glidein again: refuse to start instead.
if [ -n "${GLIDEIN_JOB_WRAPPER:-}" ] && { [ ! -f "$GLIDEIN_JOB_WRAPPER" ] || [ ! -x "$GLIDEIN_JOB_WRAPPER" ]; }; then
    die "GLIDEIN_JOB_WRAPPER \"$GLIDEIN_JOB_WRAPPER\" is not an executable file on $(hostname 2>/dev/null)"
fi

tarball=${GLIDEIN_TARBALL:-./glidein.tar.gz}
[ -f "$tarball" ] || die "the glidein tarball \"$tarball\" does not exist (set GLIDEIN_TARBALL)"
[ -r "$tarball" ] || die "the glidein tarball \"$tarball\" is not readable"
command -v tar >/dev/null 2>&1 || die "tar is not installed on $(hostname 2>/dev/null)"

## 2. Unpack -------------------------------------------------------------------------------
dir=$(mktemp -d "$PWD/glidein.XXXXXX" 2>/dev/null) || {
    dir="$PWD/glidein.$$"
    mkdir "$dir" || { dir=""; die "cannot create a directory in $PWD"; }
}
say "$(date -u '+%Y-%m-%dT%H:%M:%SZ') on $(hostname 2>/dev/null) for site \"$SITE\""
say "unpacking $tarball into $dir"
tar -xzf "$tarball" -C "$dir" || die "cannot unpack \"$tarball\" (see tar's message above)"
for f in glideinExec/sbin/condor_master glideinExec/sbin/condor_startd glideinExec/sbin/condor_starter; do
    [ -x "$dir/$f" ] || die "\"$tarball\" lacks $f; build it with: glidein tarball build"
done
grep -q '^GLIDEIN_RUNTIME_VERSION *= *1 *$' "$dir/glidein_condor_config" 2>/dev/null ||
    die "\"$tarball\" was not made by glidein tarball build (its glidein_condor_config is missing or foreign)"
# HTCondor that cannot run here (another architecture, a glibc or library the node lacks)
# would otherwise fail only in MasterLog; say so now, in the job's output.
if ! version=$(bounded 60 "$dir/glideinExec/sbin/condor_master" -version 2>&1); then
    die "HTCondor from \"$tarball\" cannot run on $(hostname 2>/dev/null): $(printf '%s' "$version" | head -n 3 | tr '\n' ' ')"
fi
version=$(printf '%s\n' "$version" | sed -n 's/^\$CondorVersion: \([^ ]*\).*/\1/p' | head -n 1)
# What the glidein was made from, for the pool's view of tarball versions. The manifest is
# small and the same in every copy of one build, whatever credentials were put in later.
if [ -s "$dir/SHA256SUMS" ]; then
    digest_of="$dir/SHA256SUMS" digest_kind=manifest-sha256
    tarball_version=$(head -n 1 "$dir/SHA256SUMS" | sed -n 's/^# glidein \([^ ]*\) tarball manifest.*/\1/p')
else
    digest_of=$tarball digest_kind=sha256 tarball_version=""
fi
if command -v sha256sum >/dev/null 2>&1; then
    digest=$(bounded 300 sha256sum <"$digest_of" 2>/dev/null | cut -c 1-64)
elif command -v shasum >/dev/null 2>&1; then
    digest=$(bounded 300 shasum -a 256 <"$digest_of" 2>/dev/null | cut -c 1-64)
else
    digest=""
fi
case $digest in
*[!0-9a-f]* | '') digest="" ;;
*) digest="$digest_kind:$digest" ;;
esac
if [ -z "${CLUSTER:-}" ]; then
    [ -s "$dir/COLLECTOR" ] ||
        die "CLUSTER is not set and \"$tarball\" records no collector (set cluster = HOST[:PORT] in the site config, or build the tarball with --collector HOST[:PORT])"
    CLUSTER=$(head -n 1 "$dir/COLLECTOR")
    collector "the collector recorded in \"$tarball\"" "$CLUSTER"
    say "collector $CLUSTER from the tarball (CLUSTER is not set)"
fi

# Large pools spread glideins over several collectors: CLUSTER may list them (a,b,c), and
# each glidein picks one at random.
case $CLUSTER in
*,*)
    count=$(printf '%s\n' "$CLUSTER" | tr ',' '\n' | grep -c .)
    pick=$(od -An -N2 -tu2 /dev/urandom 2>/dev/null | tr -d ' \n')
    pick=$((${pick:-$$} % count + 1))
    CLUSTER=$(printf '%s\n' "$CLUSTER" | tr ',' '\n' | grep . | sed -n "${pick}p")
    collector "a collector in the list" "$CLUSTER"
    say "collector $CLUSTER, picked at random from $count"
    ;;
esac

## 3. Credentials: PASSWORD when passwdfile is there, IDTOKENS when tokens.d has tokens --------
credentials=""
if [ -s "$dir/passwdfile" ]; then
    export _condor_SEC_PASSWORD_FILE="$dir/passwdfile"
    credentials="pool password"
fi
tokens=0
for f in "$dir"/tokens.d/*; do
    if [ -f "$f" ] && [ -s "$f" ]; then tokens=$((tokens + 1)); fi
done
if [ "$tokens" -gt 0 ]; then credentials="${credentials:+$credentials and }$tokens IDTOKEN file(s)"; fi
[ -n "$credentials" ] ||
    die "\"$tarball\" carries no pool credential; add one with: glidein tarball inject-password"
# An expired token makes an idle glidein that no job can reach; one that expires before the
# glidein's end drops it from the pool then. (Where base64 is missing this is not checked.)
now=$(date +%s)
live=0
for f in "$dir"/tokens.d/*; do
    [ -f "$f" ] && [ -s "$f" ] || continue
    payload=$(head -n 1 "$f" | cut -d . -f 2 | tr '_-' '/+')
    while [ $((${#payload} % 4)) -ne 0 ]; do payload="$payload="; done
    exp=$(printf '%s' "$payload" | base64 -d 2>/dev/null | sed -n 's/.*"exp" *: *\([0-9][0-9]*\).*/\1/p')
    when=$(date -u -d "@${exp:-0}" '+%Y-%m-%dT%H:%M:%SZ' 2>/dev/null || echo "epoch ${exp:-0}")
    if [ -z "$exp" ] || [ ${#exp} -gt 15 ]; then
        live=$((live + 1))
    elif [ "$exp" -le "$now" ]; then
        say "the IDTOKEN in ${f##*/} expired at $when"
    else
        live=$((live + 1))
        [ "$exp" -ge $((start_time + WALLTIME)) ] ||
            say "the IDTOKEN in ${f##*/} expires at $when, before the glidein's end: it leaves the pool then"
    fi
done
if [ "$tokens" -gt 0 ] && [ "$live" -eq 0 ] && [ ! -s "$dir/passwdfile" ]; then
    die "every IDTOKEN in \"$tarball\" has expired; put a new one in with: glidein tarball inject-password --token"
fi

## 3b. Log upload: kept from payload jobs, which must not upload in the site's name ----------
upload_url=${LOG_UPLOAD_URL:-}
upload_prefix=${LOG_UPLOAD_PREFIX:-}
upload_policy=${LOG_UPLOAD_POLICY:-}
upload_credential=${LOG_UPLOAD_CREDENTIAL:-}
upload_date=${LOG_UPLOAD_DATE:-}
upload_signature=${LOG_UPLOAD_SIGNATURE:-}
upload_interval=${LOG_UPLOAD_INTERVAL:-600}
unset LOG_UPLOAD_URL LOG_UPLOAD_PREFIX LOG_UPLOAD_POLICY LOG_UPLOAD_CREDENTIAL LOG_UPLOAD_DATE \
    LOG_UPLOAD_SIGNATURE LOG_UPLOAD_INTERVAL
upload_key=""
if [ -n "$upload_url" ]; then
    # Each value goes into a curl argument: only the characters such a form holds.
    for value in "$upload_url" "$upload_prefix" "$upload_policy" "$upload_credential" \
        "$upload_date" "$upload_signature"; do
        case $value in
        '' | *[!][A-Za-z0-9._~:/%+=-]*)
            say "the LOG_UPLOAD_* settings are incomplete or malformed; HTCondor's logs are not uploaded"
            upload_url=""
            break
            ;;
        esac
    done
    case $upload_interval in '' | *[!0-9]* | 0) upload_interval=600 ;; esac
fi
if [ -n "$upload_url" ] && ! command -v curl >/dev/null 2>&1; then
    say "curl is not installed on $(hostname 2>/dev/null); HTCondor's logs are not uploaded"
    upload_url=""
fi
if [ -n "$upload_url" ]; then
    node=$(uname -n 2>/dev/null | tr -c 'A-Za-z0-9._\n-' '_')
    upload_key="$upload_prefix${node:-node}_$GLIDEIN_NAME.tar.gz"
    export _condor_GLIDEIN_LogsURL="\"$upload_url$upload_key\""
fi

# While HTCondor runs, log/ also holds its address files (dot-files): left out where tar can.
no_dot_files=""
if [ -n "$upload_url" ] && tar -cf /dev/null --exclude='.*' -C "$dir" . >/dev/null 2>&1; then
    no_dot_files="--exclude=.*"
fi

# Uploads log/ as one archive (the same object each time); $1 "quiet": no word on success.
ship_logs() {
    [ -n "$upload_url" ] || return 0
    # shellcheck disable=SC2086 # an option or nothing
    tar -czf "$dir/logs.tar.gz" $no_dot_files -C "$dir" log 2>/dev/null ||
        { say "cannot archive $dir/log for upload"; return 0; }
    code=$(curl -sS --max-time 120 -o "$dir/upload.out" -w '%{http_code}' \
        --form-string "key=$upload_key" \
        --form-string "x-amz-algorithm=AWS4-HMAC-SHA256" \
        --form-string "x-amz-credential=$upload_credential" \
        --form-string "x-amz-date=$upload_date" \
        --form-string "policy=$upload_policy" \
        --form-string "x-amz-signature=$upload_signature" \
        -F "file=@$dir/logs.tar.gz" "$upload_url" 2>"$dir/upload.err")
    case $code in
    2??) [ "${1:-}" = quiet ] || say "HTCondor logs uploaded to $upload_url$upload_key" ;;
    000 | '') say "could not upload HTCondor logs to $upload_url$upload_key: $(head -n 1 "$dir/upload.err")" ;;
    *)
        # S3 answers <Error><Code>..</Code><Message>..</Message>..</Error>
        why=$(tr -d '\n' <"$dir/upload.out" | sed -n 's|.*<Code>\(.*\)</Code>.*<Message>\(.*\)</Message>.*|\1: \2|p' | head -c 300)
        say "could not upload HTCondor logs to $upload_url$upload_key: HTTP $code${why:+ $why}"
        ;;
    esac
    rm -f "$dir/logs.tar.gz" "$dir/upload.out" "$dir/upload.err"
}

## 4. GPUs ------------------------------------------------------------------------------------
# HTCondor's own discovery (condor_gpu_discovery -properties, what `use feature:GPUs` runs)
# advertises what jobs match on (GPUs_Capability, GPUs_GlobalMemoryMb, ...) and reports only
# the devices the batch system left visible (CUDA_VISIBLE_DEVICES, ROCR_VISIBLE_DEVICES,
# HIP_VISIBLE_DEVICES). It runs here once, bounded in time, and the startd reads its output;
# a list of ids (GPUS, or the batch system's variables) is only the fallback, without properties.
mkdir -p "$dir/log" || die "cannot create directories in $dir"

# PBS writes <host>-gpu<N> lines into PBS_GPUFILE; Grid Engine lists the granted ids of its
# gpu resource in SGE_HGR_gpu ("0 1", "gpu0 gpu1"). Both become CUDA_VISIBLE_DEVICES.
if [ -z "${CUDA_VISIBLE_DEVICES:-}" ] && [ -n "${PBS_GPUFILE:-}" ] && [ -r "$PBS_GPUFILE" ]; then
    short=$(hostname 2>/dev/null | cut -d . -f 1)
    mine=$(grep -i "^$short[.-]" "$PBS_GPUFILE" 2>/dev/null)
    [ -n "$mine" ] || mine=$(cat "$PBS_GPUFILE")
    CUDA_VISIBLE_DEVICES=$(printf '%s\n' "$mine" | sed -n 's/.*-gpu\([0-9][0-9]*\) *$/\1/p' | tr '\n' ',' | sed 's/,$//')
fi
if [ -z "${CUDA_VISIBLE_DEVICES:-}" ] && [ -n "${SGE_HGR_gpu:-}" ]; then
    CUDA_VISIBLE_DEVICES=$(printf '%s' "$SGE_HGR_gpu" | tr ', ' '\n\n' | sed -n 's/^[A-Za-z]*\([0-9][0-9]*\)$/\1/p' | tr '\n' ',' | sed 's/,$//')
fi
if [ -n "${CUDA_VISIBLE_DEVICES:-}" ]; then export CUDA_VISIBLE_DEVICES; fi
unset PBS_GPUFILE SGE_HGR_gpu
# AMD: ROCm numbers HIP_VISIBLE_DEVICES among the devices ROCR_VISIBLE_DEVICES leaves, so
# a job given its own ROCR_VISIBLE_DEVICES must not inherit the batch job's HIP list.
amd=""
if [ -z "${CUDA_VISIBLE_DEVICES:-}" ] && [ -n "${ROCR_VISIBLE_DEVICES:-}${HIP_VISIBLE_DEVICES:-}" ]; then amd=1; fi

# $1: ids separated by commas or spaces, one a line; CUDA<n> and OCL<n> become <n>, since jobs
# get them verbatim. MIG ids (MIG-<uuid>, MIG-GPU-<uuid>/<gi>/<ci>) are kept as they are.
gpu_ids() {
    for id in $(printf '%s' "$1" | tr ',' ' '); do
        case $id in
        *[!A-Za-z0-9_/-]*) say "ignoring a GPU id with odd characters: \"$id\"" >&2 ;;
        CUDA[0-9]*) printf '%s\n' "${id#CUDA}" ;;
        OCL[0-9]*) printf '%s\n' "${id#OCL}" ;;
        *) printf '%s\n' "$id" ;;
        esac
    done
}
# Sets found to the ids condor_gpu_discovery found (one a line); its output is in $dir/gpus.ad.
discover_gpus() {
    found=""
    discovery="$dir/glideinExec/libexec/condor_gpu_discovery"
    [ -x "$discovery" ] || return 0
    # GPU_DISCOVERY_EXTRA: HTCondor's name for more arguments (-nvcuda, -hip, -simulate...)
    # shellcheck disable=SC2086 # a list of arguments
    bounded "${GPU_DISCOVERY_TIMEOUT:-120}" "$discovery" ${GPU_DISCOVERY_EXTRA:-} -properties \
        >"$dir/gpus.ad" 2>"$dir/log/gpu_discovery.err" || {
        say "condor_gpu_discovery failed (status $?): $(head -c 300 "$dir/log/gpu_discovery.err" | tr '\n' ' ')"
        return 0
    }
    found=$(sed -n 's/^DetectedGPUs *= *"\(.*\)" *$/\1/p' "$dir/gpus.ad" | head -n 1 | tr -d ' ' | tr ',' '\n' | grep .)
}
# $1: the ids to keep (one a line): writes gpus.ad with only those, and the inventory
# program the startd runs (MACHINE_RESOURCE_INVENTORY_GPUs) to read it.
keep_discovered() {
    keep=" $(printf '%s' "$1" | tr '\n' ' ') "
    list=$(printf '%s' "$1" | tr '\n' ',' | sed 's/,/, /g')
    while IFS= read -r line; do
        case $line in
        DetectedGPUs*=*) printf 'DetectedGPUs="%s"\n' "$list" ;;
        *'=[ id="'*)
            id=${line#*=\[ id=\"}
            case $keep in *" ${id%%\"*} "*) printf '%s\n' "$line" ;; esac
            ;;
        *) printf '%s\n' "$line" ;;
        esac
    done <"$dir/gpus.ad" >"$dir/gpus.kept" && mv "$dir/gpus.kept" "$dir/gpus.ad"
    printf '#!/bin/sh\nexec cat "${0%%/*}/gpus.ad"\n' >"$dir/gpu_inventory.sh" && chmod 755 "$dir/gpu_inventory.sh"
}
case $GPUS in
0) wanted="" ;;
all) wanted=all ;;
*[!0-9]*) wanted=ids ;;
*) wanted=count ;;
esac
gpus=""
gpu_source=""
if [ "$wanted" = all ] || [ "$wanted" = count ]; then
    limit=$GPUS
    [ "$wanted" = count ] || limit=1000
    discover_gpus
    if [ -n "$found" ]; then
        gpus=$(printf '%s\n' "$found" | head -n "$limit")
        gpu_source=discovery
        keep_discovered "$gpus"
    else
        assigned=${CUDA_VISIBLE_DEVICES:-${ROCR_VISIBLE_DEVICES:-${HIP_VISIBLE_DEVICES:-}}}
        [ "$assigned" != NoDevFiles ] || assigned=""
        gpus=$(gpu_ids "$assigned" | head -n "$limit")
        if [ -n "$gpus" ]; then
            gpu_source=list
            say "condor_gpu_discovery found no GPU: advertising the batch system's ids ($(printf '%s' "$gpus" | tr '\n' ' ' | sed 's/ $//')) without their properties"
        fi
    fi
elif [ "$wanted" = ids ]; then
    gpus=$(gpu_ids "$GPUS")
    gpu_source=list
fi
gpu_count=$(printf '%s' "$gpus" | grep -c .)
if [ "$GPUS" != 0 ] && [ "$gpu_count" -eq 0 ]; then say "GPUS=$GPUS but no GPU was found; advertising none"; fi
case $GPUS in *[!0-9]* | 0) ;; *) [ "$gpu_count" -ge "$GPUS" ] || [ "$gpu_count" -eq 0 ] ||
    say "GPUS=$GPUS but only $gpu_count GPU(s) were found" ;; esac
if [ -n "$amd" ]; then unset HIP_VISIBLE_DEVICES; fi

## 5. Configure HTCondor through _condor_* variables -----------------------------------------
to_die=$((start_time + WALLTIME))
to_retire=$((to_die - RETIRETIME))
now=$(date +%s)
# condor_master -r counts minutes, so round down to stay ahead of the batch limit
runfor=$(((to_retire - now) / 60))
[ "$runfor" -ge 1 ] || die "unpacking took too long: less than a minute is left before retirement"

export CONDOR_CONFIG="$dir/glidein_condor_config"
export _condor_GLIDEIN_DIR="$dir"
export _condor_GLIDEIN_CLUSTER="$CLUSTER"
host=${CLUSTER%%\?*}
case $host in
\[*) host=${host%%]*}] ;;
*) host=${host%%:*} ;;
esac
export _condor_CONDOR_HOST="$host"
export _condor_NUM_CPUS="$CPUS"
export _condor_MEMORY="$MEMORY"
# A slot larger than the free space lets jobs match that then fill the disk.
free=$(df -Pk "$dir" 2>/dev/null | awk 'NR == 2 { print $4 }')
case $free in
'' | *[!0-9]*) ;;
*)
    if [ "$DISK" -gt "$free" ]; then
        say "DISK is $DISK KB but $dir has $free KB free: advertising $free KB"
        DISK=$free
    fi
    ;;
esac
export _condor_DISK="$DISK"
export _condor_GLIDEIN_HAS_GPUS=False
if [ "$gpu_source" = discovery ]; then
    export _condor_MACHINE_RESOURCE_INVENTORY_GPUs="$dir/gpu_inventory.sh"
    export _condor_GLIDEIN_HAS_GPUS=True
    # HTCondor's own setting; its starter puts the GPUs' full UUIDs into CUDA_VISIBLE_DEVICES
    gpu_env="GPU_DEVICE_ORDINAL=/(CUDA|OCL)// CUDA_VISIBLE_DEVICES=/CUDA//"
elif [ "$gpu_count" -gt 0 ]; then
    export _condor_MACHINE_RESOURCE_GPUs="$(printf '%s' "$gpus" | tr '\n' ',' | sed 's/,/, /g')"
    export _condor_GLIDEIN_HAS_GPUS=True
    # Jobs get their ids verbatim, through a pattern that never matches: HTCondor's regex
    # replacement misplaces matches on 64-bit builds (CUDA0 stays CUDA0), and its form without
    # a pattern keeps only the digits of an id (GPU-1a2b becomes 12).
    gpu_env="CUDA_VISIBLE_DEVICES=/(?!)// GPU_DEVICE_ORDINAL=/(?!)//"
else
    export _condor_MACHINE_RESOURCE_GPUs=0
    gpu_env=""
fi
if [ -n "$amd" ] && [ -n "$gpu_env" ]; then gpu_env="ROCR_VISIBLE_DEVICES=/(?!)// $gpu_env"; fi
if [ -n "$gpu_env" ]; then export _condor_ENVIRONMENT_FOR_AssignedGPUs="$gpu_env"; fi
# LOCK and RUN (the master's lock, procd's pipe) on node-local disk: the master aborts on file
# systems without POSIX locks (Lustre mounted noflock, some NFS), and socket paths are short.
lockdir=$(mktemp -d /tmp/glidein-lock.XXXXXX 2>/dev/null) || lockdir=""
export _condor_GLIDEIN_LOCK_DIR="${lockdir:-$dir/log}"
if [ -n "$batch_job" ]; then export _condor_GLIDEIN_BatchJobId="\"$batch_job\""; fi
# Who submitted this glidein and what it runs, for the pool's view of each site's glideins.
client=$(ad_text "${GLIDEIN_CLIENT:-}")
if [ -n "$client" ]; then export _condor_GLIDEIN_Client="\"$client\""; fi
partition=$(ad_text "${GLIDEIN_PARTITION:-}")
if [ -n "$partition" ]; then export _condor_GLIDEIN_Partition="\"$partition\""; fi
glidein_version=$(ad_text "$glidein_version")
if [ -n "$glidein_version" ]; then export _condor_GLIDEIN_Version="\"$glidein_version\""; fi
if [ -n "$digest" ]; then export _condor_GLIDEIN_TarballDigest="\"$digest\""; fi
tarball_version=$(ad_text "$tarball_version")
if [ -n "$tarball_version" ]; then export _condor_GLIDEIN_TarballVersion="\"$tarball_version\""; fi
# Only these owners' jobs start here, as HTCondor's annex does for its owner.
if [ -n "${GLIDEIN_OWNERS:-}" ]; then
    owners=$(printf '%s' "$GLIDEIN_OWNERS" | tr ' ' ',' | tr -s ',' | sed 's/^,//; s/,$//')
    export _condor_GLIDEIN_START_OWNERS="stringListMember(TARGET.Owner, \"$owners\")"
fi
# Attributes a site adds: GLIDEIN_STARTD_ATTRS, CVMFS repositories, and pyglidein's
# _condor_STARTD_ATTRS, which would replace the glidein's own list instead of adding to it.
extra=$(printf '%s' "${_condor_STARTD_ATTRS:-}" | sed 's/\$(STARTD_ATTRS)//g' | tr ',' ' ')
unset _condor_STARTD_ATTRS
old_ifs=$IFS
IFS=';'
set -f
for pair in ${GLIDEIN_STARTD_ATTRS:-}; do
    IFS=$old_ifs
    name=$(printf '%s' "${pair%%=*}" | sed 's/^ *//; s/ *$//')
    case $name in
    '') ;;
    *[!A-Za-z0-9_]* | [0-9]*) say "GLIDEIN_STARTD_ATTRS: ignoring \"$pair\": expected NAME=VALUE" ;;
    *)
        case $pair in
        *=*)
            export "_condor_$name=${pair#*=}"
            extra="$extra $name"
            ;;
        *) say "GLIDEIN_STARTD_ATTRS: ignoring \"$pair\": expected NAME=VALUE" ;;
        esac
        ;;
    esac
done
IFS=$old_ifs
for repo in ${GLIDEIN_CVMFS_REPOS:-}; do
    case $repo in *[!A-Za-z0-9._-]* | .*) say "GLIDEIN_CVMFS_REPOS: ignoring \"$repo\"" && continue ;; esac
    name="HAS_CVMFS_$(printf '%s' "$repo" | tr '.-' '__')"
    if bounded 30 ls "/cvmfs/$repo/" >/dev/null 2>&1; then value=True; else value=False; fi
    export "_condor_$name=$value"
    extra="$extra $name"
    say "CVMFS $repo: $value"
done
set +f
export _condor_GLIDEIN_EXTRA_ATTRS="$(printf '%s' "$extra" | tr -s ' ' | sed 's/^ //')"
export _condor_GLIDEIN_Site="\"$SITE\""
export _condor_GLIDEIN_ResourceName="\"$ResourceName\""
export _condor_GLIDEIN_Max_Walltime="$WALLTIME"
export _condor_GLIDEIN_ToRetire="$to_retire"
export _condor_GLIDEIN_ToDie="$to_die"
export _condor_GLIDEIN_NOCLAIM_TIME="$NOCLAIMTIME"
export _condor_SHUTDOWN_GRACEFUL_TIMEOUT=$((RETIRETIME + 60))
export _condor_MASTER_NAME="$GLIDEIN_NAME"
export _condor_STARTD_NAME="$GLIDEIN_NAME"
# for payload jobs (HTCondor passes the environment on)
export GLIDEIN_Site="$SITE" GLIDEIN_ResourceName="$ResourceName"
mkdir -p "$dir/log" "$dir/execute" "$dir/spool" || die "cannot create directories in $dir"

say "collector $CLUSTER; $CPUS cores, $MEMORY MB, $DISK KB, $gpu_count GPU(s); $credentials"
say "no new jobs after $(date -u -d "@$to_retire" '+%H:%M:%SZ' 2>/dev/null || echo "+$((to_retire - start_time)) s"), all done by $(date -u -d "@$to_die" '+%H:%M:%SZ' 2>/dev/null || echo "+$WALLTIME s")"
say "HTCondor logs: $dir/log"

## 6. Run condor_master until it is done, or the batch limit is near -----------------------
"$dir/glideinExec/sbin/condor_master" -f -r "$runfor" &
master=$!
# HTCondor stops itself by GLIDEIN_ToDie; if it has not, stop it before the batch system does.
# Stopped with TERM, the watchdog kills its sleep by $!: a TERM that comes between `sleep &` and
# the next command runs the trap after $! is set (traps run between commands), where a variable
# assigned from $! would still be empty or name the last sleep. Before the first sleep, $! is
# the master, inherited from this shell, so the trap leaves that one alone. KILL, not TERM: a
# child just forked still has the shell's handler until it resets its traps, and a TERM caught
# there is forgotten when it execs sleep, which then outlives the job script.
(
    trap '[ "$!" = "$master" ] || kill -KILL "$!" 2>/dev/null; exit 0' TERM
    sleep $((to_die + 120 - now)) &
    wait "$!"
    kill -QUIT "$master" 2>/dev/null
    sleep 60 &
    wait "$!"
    kill -KILL "$master" 2>/dev/null
) </dev/null >/dev/null 2>&1 &
watchdog=$!
# Uploads the logs now and then, for a glidein the batch system kills outright. Its sleep is
# stopped as the watchdog's is; $! before the first sleep is the watchdog, and while it uploads
# $! names a sleep that has ended, whose number may be another process's by then.
shipper=""
if [ -n "$upload_url" ]; then
    (
        inherited=$!
        napping=""
        trap '[ -z "$napping" ] || [ "$!" = "$inherited" ] || kill -KILL "$!" 2>/dev/null; exit 0' TERM
        while :; do
            napping=1
            sleep "$upload_interval" &
            wait "$!"
            napping=""
            ship_logs quiet
        done
    ) </dev/null >/dev/null 2>&1 &
    shipper=$!
fi
# Trapped only now: a subshell forked while this shell traps TERM keeps its handler until it
# resets it, and a TERM caught in that moment is lost, leaving the watchdog to run for hours.
# shellcheck disable=SC2317 # called from the traps below
signalled=""
forward() {
    interrupted=1
    signalled=1
    say "got SIG$1: asking HTCondor for a fast shutdown"
    kill -QUIT "$master" 2>/dev/null
}
trap 'forward TERM' TERM
trap 'forward INT' INT
trap 'forward HUP' HUP

# A trapped signal interrupts wait, which then says 128+signal whether or not the master has
# exited since; waiting again gives the master's own status. (Not after a wait that did return
# it: sh then says 0 for a pid it no longer knows.)
while :; do
    interrupted=""
    wait "$master"
    status=$?
    if [ -z "$interrupted" ] || [ "$status" -le 128 ]; then break; fi
done
# and wait until their traps have stopped their sleeps, so nothing of ours outlives this script
kill "$watchdog" $shipper 2>/dev/null
wait "$watchdog" $shipper
trap - TERM INT HUP
# What the logs are kept and uploaded for is the text: not the daemons' address files and
# other dot-files, nor pipes and sockets (procd's, when LOCK fell back to log/).
find "$dir/log" ! -type d \( -name '.*' -o ! -type f \) -exec rm -f {} + 2>/dev/null
ship_logs

## 7. What ended the glidein; clean up, keeping the logs ------------------------------------
rm -rf "$dir/passwdfile" "$dir/tokens.d"
if [ -n "$lockdir" ]; then rm -rf "$lockdir"; fi
master_status=$status
# A master that stops itself through DAEMON_SHUTDOWN exits 99 (HTCondor's DAEMON_NO_RESTART)
# by design: the glidein's planned end (its time is up, or the startd left). MasterLog says
# whether the startd left as planned (it too exits 99) or crashed.
startd_end=$(grep -h 'The STARTD (pid [0-9]*) ' "$dir/log/MasterLog" 2>/dev/null | tail -n 1)
startd_end=${startd_end#*The STARTD}
if [ "$status" -eq 99 ]; then
    case $startd_end in
    *'died due to'* | *'no longer responding'* | *'exited with status '*[1-9]*)
        case $startd_end in
        *'exited with status 99 '* | *'exited with status 99') ;;
        *)
            say "the startd failed: the STARTD$startd_end"
            status=1
            ;;
        esac
        ;;
    esac
    if [ "$status" -eq 99 ]; then
        say "condor_master stopped itself as planned (DAEMON_SHUTDOWN, HTCondor's status 99)"
        status=0
    fi
fi
# A glidein nobody claimed because it could not reach or satisfy the pool looks like an idle
# one: tell them apart by the errors in the logs, and fail the batch job so its logs are kept.
# (A starter runs for a claim and leaves StarterLog.<slot>; StarterLog.testing is the
# startd's own test of it at start.)
starters=$(find "$dir/log" -name 'StarterLog.slot*' 2>/dev/null | head -n 1)
if [ "$status" -eq 0 ] && [ -z "$signalled" ] && [ -f "$dir/log/StartLog" ] && [ -z "$starters" ] &&
    ! grep -q -e '-> Claimed' "$dir"/log/StartLog*; then
    why=$(grep -h -E 'AUTHENTICATE|PERMISSION DENIED|SECMAN:[0-9]|CCBListener: .*fail|[Ff]ailed to (send|connect)' \
        "$dir/log/MasterLog" "$dir"/log/StartLog* 2>/dev/null | tail -n 20)
    if [ -n "$why" ]; then
        say "never claimed, and the logs say why:"
        printf '%s\n' "$why"
        status=3
    else
        say "never claimed: no job matched it (the logs show no authentication or connection error)"
    fi
fi
if [ "$status" -ne 0 ]; then
    if [ "$status" -eq "$master_status" ]; then say "condor_master exited with status $status"; fi
    for log in "$dir"/log/MasterLog "$dir"/log/StartLog; do
        if [ -f "$log" ]; then
            say "last lines of $log:"
            tail -n 30 "$log"
        fi
    done
fi
if [ -z "${GLIDEIN_KEEP:-}" ]; then
    rm -rf "$dir/glideinExec" "$dir/execute" "$dir/spool"
fi
say "done after $(($(date +%s) - start_time)) s; HTCondor logs are in $dir/log until the job's directory is removed"
exit "$status"
