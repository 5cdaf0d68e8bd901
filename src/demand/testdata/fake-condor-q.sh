#!/bin/sh
# A stand-in for condor_q in tests (HTCondor has no Debian package here).
#   fake-condor-q.sh MODE DIR [FILE] -- CONDOR_Q_ARGS...
# Records CONDOR_Q_ARGS one per line in DIR/argv.log, then:
#   print       prints FILE, exits 0
#   fail        prints what a schedd failure looks like on stderr, exits 1
#   partial     prints FILE, then fails (exit 2): output that must not be published
#   hang        prints one line and sleeps (as condor_q does against a dead schedd)
#   hang-child  the same, but a child holds stdout open after this shell is killed
#   exit-child  prints FILE and exits 0, leaving a child that holds stdout and stderr open
#   garbage     prints lines that are not -af:, output, exits 0
#   killed      prints FILE and kills itself with SIGKILL
#   cut         prints FILE and half a line, then kills itself (died mid-output)
#   truncated   prints FILE and half a line without a newline, exits 0
#   mute-hang   prints FILE, closes its output and sleeps (exit never comes)
#   stderr-flood  prints 8 MB of errors on stderr, exits 1
#   noise       prints binary noise, NULs and invalid UTF-8 between FILE's lines, exits 0
#   DIR/mode    runs the mode named in the file DIR/mode (a poller's successive polls)
mode=$1
dir=$2
file=$3
shift 3
[ "$1" = "--" ] && shift
: > "$dir/argv.log"
for arg in "$@"; do printf '%s\n' "$arg" >> "$dir/argv.log"; done
[ "$mode" = DIR/mode ] && mode=$(cat "$dir/mode")
case $mode in
  print) cat "$file" ;;
  fail)
    echo "-- Failed to fetch ads from: <192.0.2.7:9618?addrs=192.0.2.7-9618> : schedd.example.org" >&2
    echo "SECMAN:2007:Failed to end classad message." >&2
    exit 1 ;;
  partial) cat "$file"; exit 2 ;;
  hang) echo '1, 2000, 10000000, undefined, (TARGET.Arch == "X86_64")'; exec sleep 300 ;;
  hang-child)
    echo '1, 2000, 10000000, undefined, (TARGET.Arch == "X86_64")'
    sleep 300 &
    echo $! > "$dir/child.pid"
    wait ;;
  exit-child)
    cat "$file"
    sleep 300 &
    echo $! > "$dir/child.pid" ;;
  garbage)
    echo "-- Schedd: schedd.example.org : <192.0.2.7:9618?..."
    echo " ID      OWNER            SUBMITTED     RUN_TIME ST PRI SIZE CMD"
    printf '\001\002\377 binary noise\n'
    echo "Total for query: 3 jobs; 0 completed, 0 removed, 3 idle, 0 running, 0 held, 0 suspended" ;;
  killed) cat "$file"; kill -9 $$ ;;
  cut) cat "$file"; printf '4, 16000, 20000'; kill -9 $$ ;;
  truncated) cat "$file"; printf '4, 16000, 20000' ;;
  mute-hang) cat "$file"; exec >&- ; exec sleep 300 ;;
  stderr-flood)
    i=0
    while [ $i -lt 8192 ]; do printf '%01023d\n' $i; i=$((i + 1)); done >&2
    exit 1 ;;
  noise)
    while IFS= read -r line; do
      printf '%s\n' "$line"
      printf '\000\377\376 \200garbage\033[31m\r\n'
    done < "$file" ;;
  *) echo "fake-condor-q: unknown mode $mode" >&2; exit 64 ;;
esac
