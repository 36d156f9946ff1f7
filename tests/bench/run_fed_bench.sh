#!/usr/bin/env bash
# tests/bench/run_fed_bench.sh: the federation benchmarks, inbox ingestion and fan-out.
#
#   tests/bench/run_fed_bench.sh [--runs N] [--n N] [--concurrency C] [--node-threads T]
#                                [--only inbox|fanout] [--perf] [--check] [--keep]
#
# 1. Builds build/dinet and its static libraries (cmake), then compiles
#    tests/bench/bench_inbox.c and bench_fanout.c with gcc -O2 against
#    build/libdinet_federation.a and build/libdinet_base.a into build/bench/.
# 2. Runs each benchmark N times (default 2) on a private copy of the dinet binary,
#    so a rebuild of build/ during the run cannot change what is measured.
# 3. Prints every run and a summary with the figures and the goals:
#      inbox ingestion  >= 3000 Create activities/s accepted (202 "accepted") and all of
#                       them durably stored (remote_objects rows counted after SIGTERM)
#      fan-out          < 5 s from the PATCH response until all 100 sinks have their POST
#                       (10,000 followers on 100 hosts, one POST per shared inbox)
#
#   --runs N           runs per benchmark (default 2)
#   --n N              activities in the inbox benchmark (default 30000)
#   --concurrency C    parallel inbox POSTs (default 32)
#   --node-threads T   the node's HTTP threads (dinet serve --threads; default: the node's)
#   --only NAME        run only "inbox" or "fanout"
#   --perf             profile the node during the first inbox run (perf record, DWARF call
#                      graphs) and print where its time goes; data kept in build/bench/
#   --check            exit 1 when a goal is missed or a check fails (default: report only)
#   --keep             keep the benchmarks' temporary node directories
#
# Benchmarks are reports, not tests: tests/run.sh does not run this script. Everything
# listens on 127.0.0.0/8 only, every run is bounded in time, and all processes and
# temporary directories are removed at the end (also on Ctrl-C).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${DINET_BUILD_DIR:-$ROOT/build}
JOBS=${JOBS:-2}
RUNS=2
N=30000
CONC=32
NODE_THREADS=0
ONLY=""
PERF=0
CHECK=0
KEEP=0

usage() {
    sed -n '2,29p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

while (($#)); do
    case $1 in
    --runs) RUNS=${2:?}; shift ;;
    --n) N=${2:?}; shift ;;
    --concurrency) CONC=${2:?}; shift ;;
    --node-threads) NODE_THREADS=${2:?}; shift ;;
    --only) ONLY=${2:?}; shift ;;
    --perf) PERF=1 ;;
    --check) CHECK=1 ;;
    --keep) KEEP=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "run_fed_bench.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
[[ $RUNS =~ ^[0-9]+$ ]] && ((RUNS >= 1 && RUNS <= 20)) || { echo "--runs: 1..20" >&2; exit 2; }
[[ $N =~ ^[0-9]+$ ]] && ((N >= 1 && N <= 1000000)) || { echo "--n: 1..1000000" >&2; exit 2; }
[[ $CONC =~ ^[0-9]+$ ]] && ((CONC >= 1 && CONC <= 1024)) || { echo "--concurrency: 1..1024" >&2; exit 2; }
[[ $NODE_THREADS =~ ^[0-9]+$ ]] || { echo "--node-threads: a number" >&2; exit 2; }
case $ONLY in "" | inbox | fanout) ;; *) echo "--only: inbox or fanout" >&2; exit 2 ;; esac

for tool in cmake gcc pkg-config; do
    command -v "$tool" >/dev/null || { echo "run_fed_bench.sh: $tool is required" >&2; exit 2; }
done
if ((PERF)) && ! command -v perf >/dev/null; then
    echo "run_fed_bench.sh: --perf needs perf (apt-get install linux-perf)" >&2
    exit 2
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/dinet-fedbench.XXXXXX")
cleanup() {
    # The benchmarks clean up after themselves; this removes the copies and logs.
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- 1. build ---------------------------------------------------------------

echo "== build ($BUILD)"
if [[ ! -f $BUILD/CMakeCache.txt ]]; then
    cmake -S "$ROOT" -B "$BUILD" >"$WORK/cmake.log" 2>&1 || { cat "$WORK/cmake.log"; exit 1; }
fi
if ! cmake --build "$BUILD" -j"$JOBS" --target dinet >"$WORK/build.log" 2>&1; then
    grep -E 'error|Error' "$WORK/build.log" | head -n 20
    echo "run_fed_bench.sh: the build failed" >&2
    exit 1
fi
for f in dinet libdinet_federation.a libdinet_base.a; do
    [[ -e $BUILD/$f ]] || { echo "run_fed_bench.sh: $BUILD/$f is missing after the build" >&2; exit 1; }
done
mkdir -p "$BUILD/bench"
read -r -a PKG_FLAGS <<<"$(pkg-config --cflags --libs libmicrohttpd jansson libsodium libcurl sqlite3 libcrypto)"
CFLAGS=(-O2 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow)
gcc "${CFLAGS[@]}" -I"$ROOT/federation" -I"$ROOT/node" "$ROOT/tests/bench/bench_inbox.c" \
    "$BUILD/libdinet_federation.a" "$BUILD/libdinet_base.a" "${PKG_FLAGS[@]}" -lpthread -lm \
    -o "$BUILD/bench/bench_inbox"
gcc "${CFLAGS[@]}" "$ROOT/tests/bench/bench_fanout.c" "${PKG_FLAGS[@]}" -lpthread -lm \
    -o "$BUILD/bench/bench_fanout"
# A private copy: another build of build/ during the runs must not swap the binary.
cp "$BUILD/dinet" "$WORK/dinet"
REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')
if [[ -n $(git -C "$ROOT" status --porcelain -- node federation 2>/dev/null) ]]; then
    REV="$REV + uncommitted changes in node/ or federation/"
fi
echo "built $("$WORK/dinet" version 2>/dev/null | head -n 1 || echo dinet) at $REV; bench_inbox, bench_fanout in $BUILD/bench"

# ---- helpers -----------------------------------------------------------------

field() { # LINE KEY -> value of KEY=value in a RESULT line
    sed -nE "s/.*[[:space:]]$2=([^[:space:]]+).*/\1/p" <<<"$1"
}

machine_note() {
    local load
    load=$(cut -d' ' -f1 /proc/loadavg)
    echo "machine: $(nproc) cores, load average $load before the run"
}

KEEP_ARGS=()
((KEEP)) && KEEP_ARGS=(--keep)

INBOX_LINES=()
FANOUT_LINES=()

# ---- 2. inbox ingestion ------------------------------------------------------

if [[ -z $ONLY || $ONLY == inbox ]]; then
    for ((i = 1; i <= RUNS; i++)); do
        echo
        echo "== inbox ingestion, run $i of $RUNS ($N activities, concurrency $CONC)"
        machine_note
        args=(--dinet "$WORK/dinet" --n "$N" --concurrency "$CONC" --max-seconds 900 "${KEEP_ARGS[@]}")
        ((NODE_THREADS > 0)) && args+=(--node-threads "$NODE_THREADS")
        if ((PERF && i == 1)); then
            args+=(--perf "$BUILD/bench/inbox.perf.data")
        fi
        rc=0
        timeout 960 "$BUILD/bench/bench_inbox" "${args[@]}" >"$WORK/inbox.out" 2>"$WORK/inbox.err" || rc=$?
        grep -v '^RESULT' "$WORK/inbox.out" || true
        line=$(grep '^RESULT' "$WORK/inbox.out" | tail -n 1 || true)
        if [[ -z $line || $line == *error=* ]]; then
            echo "-- run failed (exit $rc); its messages:"
            tail -n 20 "$WORK/inbox.err"
            line=${line:-"RESULT inbox error=exit$rc"}
        fi
        grep -E '^kept ' "$WORK/inbox.err" || true
        INBOX_LINES+=("$line")
        if ((PERF && i == 1)) && [[ -s $BUILD/bench/inbox.perf.data ]]; then
            echo
            echo "-- profile of the node during the timed phase (perf, $BUILD/bench/inbox.perf.data)"
            timeout 300 perf report -i "$BUILD/bench/inbox.perf.data" --stdio --no-children --sort dso -g none \
                2>/dev/null | grep -E '^ +[0-9]' | head -n 12 >"$BUILD/bench/inbox.perf.txt" || true
            echo "by library (self time):"
            cat "$BUILD/bench/inbox.perf.txt"
            echo "by function, inclusive (inbox phases):"
            timeout 300 perf report -i "$BUILD/bench/inbox.perf.data" --stdio --children --sort sym -g none \
                2>/dev/null |
                grep -E '\] (inbox_receive|json_loadb|blocked|httpsig_verify|proof_verify|db_begin|db_commit|log_activity|on_content|finish|sqlite3WalCheckpoint|sqlite3WalFrames|fdatasync|__libc_pwrite|rsa_verify|jcs_canonicalize|json_dumps|send_response|log_event)( |$)' |
                head -n 24 | tee -a "$BUILD/bench/inbox.perf.txt" || true
        fi
    done
fi

# ---- 3. fan-out ----------------------------------------------------------------

if [[ -z $ONLY || $ONLY == fanout ]]; then
    for ((i = 1; i <= RUNS; i++)); do
        echo
        echo "== fan-out, run $i of $RUNS (1 Update, 10000 followers on 100 hosts)"
        machine_note
        rc=0
        timeout 400 "$BUILD/bench/bench_fanout" --dinet "$WORK/dinet" --max-seconds 300 \
            "${KEEP_ARGS[@]}" >"$WORK/fanout.out" 2>"$WORK/fanout.err" || rc=$?
        grep -v '^RESULT' "$WORK/fanout.out" || true
        line=$(grep '^RESULT' "$WORK/fanout.out" | tail -n 1 || true)
        if [[ -z $line || $line == *error=* ]]; then
            echo "-- run failed (exit $rc); its messages:"
            tail -n 20 "$WORK/fanout.err"
            line=${line:-"RESULT fanout error=exit$rc"}
        fi
        grep -E '^kept ' "$WORK/fanout.err" || true
        FANOUT_LINES+=("$line")
    done
fi

# ---- 4. summary ------------------------------------------------------------------

MISSED=0
echo
echo "== summary"
if ((${#INBOX_LINES[@]})); then
    echo "inbox ingestion: goal >= 3000 activities/s accepted and durably stored ($N activities, concurrency $CONC)"
    best=0
    rates=()
    for i in "${!INBOX_LINES[@]}"; do
        l=${INBOX_LINES[$i]}
        if [[ $l == *error=* ]]; then
            printf '  run %d: failed (%s)\n' $((i + 1)) "$(field "$l" error)"
            MISSED=1
            continue
        fi
        rate=$(field "$l" rate)
        other=$(field "$l" other_cores)
        note=""
        if awk -v o="$other" 'BEGIN { exit !(o > 0.25) }'; then
            note=" [machine busy: other processes used $other cores]"
        fi
        printf '  run %d: %6.0f/s accepted (%s of %s), stored %s -> durable %s; p99 %s ms; node %s cores, %s us CPU per activity%s\n' \
            $((i + 1)) "$rate" "$(field "$l" accepted)" "$(field "$l" n)" "$(field "$l" stored)" \
            "$(field "$l" durable)" "$(field "$l" p99_ms)" "$(field "$l" node_cores)" \
            "$(field "$l" node_us_per_activity)" "$note"
        [[ $(field "$l" durable) == yes && $(field "$l" complete) == yes ]] || MISSED=1
        best=$(awk -v a="$best" -v b="$rate" 'BEGIN { print (b > a ? b : a) }')
        rates+=("$rate")
    done
    median=$(printf '%s\n' "${rates[@]:-0}" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }')
    if awk -v b="$best" 'BEGIN { exit !(b >= 3000) }'; then
        printf '  best %.0f/s, median %.0f/s: goal met\n' "$best" "$median"
    else
        printf '  best %.0f/s, median %.0f/s: goal missed (>= 3000/s)\n' "$best" "$median"
        MISSED=1
    fi
fi
if ((${#FANOUT_LINES[@]})); then
    echo "fan-out: goal < 5 s from the PATCH response until every sink has its POST (10000 followers, 100 hosts)"
    worst=0
    for i in "${!FANOUT_LINES[@]}"; do
        l=${FANOUT_LINES[$i]}
        if [[ $l == *error=* ]]; then
            printf '  run %d: failed (%s)\n' $((i + 1)) "$(field "$l" error)"
            MISSED=1
            continue
        fi
        secs=$(field "$l" seconds)
        printf '  run %d: %s s; %s POSTs, exactly one per sink: %s; deliveries %s pending, %s failed, %s done\n' \
            $((i + 1)) "$secs" "$(field "$l" posts)" "$(field "$l" exact)" "$(field "$l" pending)" \
            "$(field "$l" failed)" "$(field "$l" done)"
        [[ $(field "$l" exact) == yes && $(field "$l" pending) == 0 && $(field "$l" failed) == 0 ]] || MISSED=1
        if awk -v s="$secs" 'BEGIN { exit !(s < 0) }'; then
            worst=999
        else
            worst=$(awk -v a="$worst" -v b="$secs" 'BEGIN { print (b > a ? b : a) }')
        fi
    done
    if awk -v w="$worst" 'BEGIN { exit !(w < 5) }'; then
        printf '  worst %.3f s: goal met\n' "$worst"
    else
        printf '  worst %.3f s: goal missed (< 5 s)\n' "$worst"
        MISSED=1
    fi
fi
if ((MISSED)); then
    echo "result: a goal was missed or a check failed"
    ((CHECK)) && exit 1
else
    echo "result: all goals met"
fi
exit 0
