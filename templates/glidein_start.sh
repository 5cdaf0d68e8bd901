#!/bin/sh
# glidein_start.sh: runs one glidein (an HTCondor startd that joins the pool) inside a batch
# job. `glidein submit` writes this file next to each submission; the batch job script runs
#
#   cd <job scratch dir> && exec env -i CPUS=.. MEMORY=.. ... sh ./glidein_start.sh
#
# so nothing but the variables below is set (not even PATH). POSIX sh only.
#
# Environment:
#   CLUSTER          the pool's collector, host[:port] (port 9618 when left out)
#                    default: the one the tarball records (tarball build --collector)
#   CPUS             cores of the glidein's one partitionable slot                   required
#   MEMORY           memory in MB                                                     required
#   DISK             disk in KB                                                       required
#   WALLTIME         seconds the glidein may live; already 300 s under the batch limit required
#   SITE             advertised as GLIDEIN_Site                                      required
#   ResourceName     advertised as GLIDEIN_ResourceName (and GLIDEIN_SiteResource)   default: SITE
#   GPUS             a count, "all", or device ids ("CUDA0,CUDA1", "0,1", "GPU-…")   default: 0
#   GLIDEIN_TARBALL  the glidein tarball                                  default: ./glidein.tar.gz
# Optional knobs (set them in the site config's [CustomEnv]):
#   RETIRETIME       seconds before the end when no new job starts; running jobs may use
#                    them to finish                               default: 1200, at most WALLTIME/4
#   NOCLAIMTIME      seconds without a claim after which the glidein gives up   default: 1200
#   GLIDEIN_NAME     name of the startd (HTCondor adds @host)   default: glidein_<time>_<pid>
#   GLIDEIN_KEEP     1: keep the whole glidein directory after exit (for debugging); batch
#                    job scripts then keep their directory and save the logs (see below)
#   GLIDEIN_JOB_WRAPPER  a program that runs every payload job, as `wrapper job args...`
#   CUDA_VISIBLE_DEVICES the GPUs the batch system assigned; used when GPUS is a count
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
# Exit status: 0 after a normal shutdown, 2 for a bad environment or tarball, otherwise
# condor_master's status.

PATH="${PATH:+$PATH:}/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"
export PATH
start_time=$(date +%s)

dir=""
say() { printf 'glidein: %s\n' "$*"; }
die() {
    printf 'glidein_start.sh: %s\n' "$*" >&2
    if [ -n "$dir" ] && [ -z "${GLIDEIN_KEEP:-}" ]; then rm -rf "$dir"; fi
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

# $1 where it comes from, $2 value: the collector's address, host[:port]
collector() {
    case $2 in
    '' | *[!][A-Za-z0-9._:?=,-]* | [!A-Za-z0-9[]*) die "$1 is not a host[:port]: \"$2\"" ;;
    esac
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
*[!A-Za-z0-9,_-]*) die "GPUS must be a count, \"all\" or device ids like CUDA0,CUDA1; got \"$GPUS\"" ;;
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
GLIDEIN_NAME=${GLIDEIN_NAME:-glidein_${start_time}_$$}
case $GLIDEIN_NAME in
*[!A-Za-z0-9._-]*) die "GLIDEIN_NAME may only hold letters, digits, '.', '_' and '-': \"$GLIDEIN_NAME\"" ;;
esac

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
if [ -z "${CLUSTER:-}" ]; then
    [ -s "$dir/COLLECTOR" ] ||
        die "CLUSTER is not set and \"$tarball\" records no collector (set cluster = HOST[:PORT] in the site config, or build the tarball with --collector HOST[:PORT])"
    CLUSTER=$(head -n 1 "$dir/COLLECTOR")
    collector "the collector recorded in \"$tarball\"" "$CLUSTER"
    say "collector $CLUSTER from the tarball (CLUSTER is not set)"
fi

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

# Uploads log/ as one archive (the same object each time); $1 "quiet": no word on success.
ship_logs() {
    [ -n "$upload_url" ] || return 0
    tar -czf "$dir/logs.tar.gz" -C "$dir" log 2>/dev/null ||
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

## 4. GPUs: MACHINE_RESOURCE_GPUs gets device ids ---------------------------------------------
# $1: ids separated by commas or spaces; numbers become CUDA<n>, HTCondor's name for them
gpu_ids() {
    for id in $(printf '%s' "$1" | tr ',' ' '); do
        case $id in
        *[!A-Za-z0-9_-]*) say "ignoring a GPU id with odd characters: \"$id\"" >&2 ;;
        *[!0-9]*) printf '%s\n' "$id" ;;
        *) printf 'CUDA%s\n' "$id" ;;
        esac
    done
}
discover_gpus() {
    discovery="$dir/glideinExec/libexec/condor_gpu_discovery"
    [ -x "$discovery" ] || return 0
    "$discovery" -properties 2>/dev/null | sed -n 's/^DetectedGPUs *= *"\(.*\)" *$/\1/p' | tr -d ' '
}
gpus=""
case $GPUS in
0) ;;
all) gpus=$(gpu_ids "$(discover_gpus)") ;;
*[!0-9]*) gpus=$(gpu_ids "$GPUS") ;;
*)
    if [ -n "${CUDA_VISIBLE_DEVICES:-}" ] && [ "$CUDA_VISIBLE_DEVICES" != "NoDevFiles" ]; then
        gpus=$(gpu_ids "$CUDA_VISIBLE_DEVICES" | head -n "$GPUS")
    else
        gpus=$(gpu_ids "$(discover_gpus)" | head -n "$GPUS")
        [ -z "$gpus" ] || say "CUDA_VISIBLE_DEVICES is not set: taking the first $GPUS GPU(s) condor_gpu_discovery found"
    fi
    ;;
esac
gpu_count=$(printf '%s' "$gpus" | grep -c .)
if [ "$GPUS" != 0 ] && [ "$gpu_count" -eq 0 ]; then say "GPUS=$GPUS but no GPU was found; advertising none"; fi
case $GPUS in *[!0-9]* | 0) ;; *) [ "$gpu_count" -ge "$GPUS" ] || [ "$gpu_count" -eq 0 ] ||
    say "GPUS=$GPUS but only $gpu_count GPU(s) were found" ;; esac

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
export _condor_DISK="$DISK"
if [ "$gpu_count" -gt 0 ]; then
    _condor_MACHINE_RESOURCE_GPUs=$(printf '%s' "$gpus" | tr '\n' ',' | sed 's/,/, /g')
    export _condor_GLIDEIN_HAS_GPUS=True
else
    _condor_MACHINE_RESOURCE_GPUs=0
    export _condor_GLIDEIN_HAS_GPUS=False
fi
export _condor_MACHINE_RESOURCE_GPUs
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
forward() {
    interrupted=1
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
ship_logs

## 7. Clean up, keeping the logs --------------------------------------------------------------
rm -rf "$dir/passwdfile" "$dir/tokens.d"
if [ "$status" -ne 0 ]; then
    say "condor_master exited with status $status"
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
