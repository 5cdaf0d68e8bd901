# The glidein's working directory (rendered from templates/enter-glidein-dir.sh).
# Every job makes its own glidein.XXXXXX in the base folder, which other glideins may share, so
# only that directory is removed at exit; the base folder at most with rmdir, when this job made
# it. HTCondor's logs are saved next to the batch output when the job fails or GLIDEIN_KEEP is
# set, since node scratch is gone after the job.
LOCAL_DIR=
glidein_made_base=
glidein_keep={{GLIDEIN_KEEP}}
glidein_log_dir={{LOG_DIR}}
# $1: the job's exit status
# shellcheck disable=SC2317 # called from the EXIT trap below
glidein_cleanup() {
  [ -n "$LOCAL_DIR" ] || return 0
  cd / || return 0
  if [ "$1" -ne 0 ] || [ -n "$glidein_keep" ]; then
    for glidein_log in "$LOCAL_DIR"/glidein.*/log; do
      [ -d "$glidein_log" ] || continue
      glidein_run=${glidein_log%/log}
      glidein_run=${glidein_run##*/}
      glidein_archive="$glidein_log_dir/glidein-logs-$(date -u +%Y%m%dT%H%M%SZ)-$(uname -n)-${glidein_run#glidein.}.tar.gz"
      if tar -czf "$glidein_archive" -C "$LOCAL_DIR" "$glidein_run/log"; then
        echo "glidein: exit status $1; HTCondor logs saved in $glidein_archive"
      else
        echo "glidein: exit status $1; could not save the HTCondor logs in $glidein_archive"
      fi
    done
  fi
  if [ -n "$glidein_keep" ]; then
    echo "glidein: GLIDEIN_KEEP is set: $LOCAL_DIR is kept on $(uname -n)"
    return 0
  fi
  rm -rf "$LOCAL_DIR"
  # ls -A prints something unless the folder is there and empty
  if [ -n "$glidein_made_base" ] && [ -z "$(ls -A "$glidein_base" 2>&1)" ]; then
    rmdir "$glidein_base"
  fi
  return 0
}
trap 'glidein_cleanup "$?"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
glidein_base={{GLIDEIN_BASE}}
# A glidein that made the base folder removes it when it ends empty, maybe between our mkdir
# and mktemp: then try again.
for glidein_try in 1 2 3; do
  if [ ! -d "$glidein_base" ]; then
    mkdir -p "$glidein_base" || exit 1
    glidein_made_base=1
  fi
  LOCAL_DIR=$(mktemp -d "$glidein_base/glidein.XXXXXX") && break
  if [ -d "$glidein_base" ] || [ "$glidein_try" -eq 3 ]; then exit 1; fi
done
cd "$LOCAL_DIR" || exit 1
