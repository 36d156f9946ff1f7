#!/usr/bin/env bash
# tests/bench/bench_aggregate.sh: the state aggregator with its 14 district nodes on
# loopback. How soon does a district's write show on the state, and how fast does the
# state catch up after an outage?
#
#   tests/bench/bench_aggregate.sh [--only latency|catchup] [--runs 2]
#       [--writes 50] [--spread 20] [--poll-ms 10]
#       [--changes 100000] [--write-seconds 300] [--conns 2] [--create-ratio 0.25]
#       [--converge-timeout 900] [--perf] [--perf-seconds 90] [--base-port N]
#       [--district-retry-ms MS] [--keep] [--check]
#
# Starts the state node (code 15) and the 14 district nodes of Sachsen-Anhalt from a
# private copy of build/dinet in a temporary directory (ports N..N+14, default the first
# free block from 18400), registers every district on the state ('dinet district add')
# and waits until the state follows and has synced all of them. Then:
#
# latency  (each run) every district writes --writes measures (creates and updates in
#          turn) through its API, spread over --spread seconds, 14 districts at once;
#          agg_load times each write from the district's 2xx answer until the state
#          serves that version (one poller reads the state's outbox every --poll-ms,
#          then GETs each announced record). Prints p50/p90/p99. Goal: p99 < 500 ms.
# catchup  (each run) with 'sync_interval = 1' on the state: stop the state; the
#          districts write --changes changes (or as many as --write-seconds allow;
#          creates and updates, --conns connections per district); restart the state
#          and time until every district's /api/v1/summary hash equals the state's
#          /api/v1/summary?district=CODE; then compare every (id, version) pair
#          (detail=1). Prints changes/s = changes / convergence time.
#          Goal: >= 2,000 changes/s, nothing missing.
#
# portal   (only with --only portal; issue #6) the districts create --portal-measures
#          measures each (default 2,000: 28,000 in all) while the state runs; once the
#          state has converged, wrk (-t2 -c32, --portal-seconds each, after a warm-up)
#          measures the state's start page, a field-of-action page (HF3) and a measure
#          page, each right after /healthz, and prints each page's share of /healthz
#          from the same moment. Goal: the start page >= 30 %.
#
# --district-retry-ms sets retry_base_ms on the districts (default: the node's, 30 s);
# 3600000 keeps their failed deliveries to the stopped state from coming back during the
# measurement, so that the state catches up by backfill alone.
# --perf adds one catch-up run (after the timed ones) during which the state is
# recorded with 'perf record --call-graph dwarf' and prints where its time goes.
# Each figure comes with the load average of the machine. --check: exit 1 when a goal
# is missed. DINET_BIN selects the binary (default build/dinet, brought up to date with
# cmake first).
# Only 127.0.0.1 is used; every wait is bounded; the nodes are stopped and the
# directory removed on exit (unless --keep). See tests/bench/README.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/tests/bench
ONLY=
RUNS=2
WRITES=50
SPREAD=20
POLL_MS=10
CHANGES=100000
WRITE_SECONDS=300
CONNS=2
CREATE_RATIO=0.25
CONVERGE_TIMEOUT=900
PERF=0
PERF_SECONDS=90
DISTRICT_RETRY_MS=
BASE_PORT=
KEEP=0
CHECK=0
LIVE_SYNC_INTERVAL=10 # the state's sync_interval during the latency runs (demo.sh's)
GOAL_P99_MS=500
GOAL_RATE=2000
PORTAL_MEASURES=2000 # per district, for --only portal
PORTAL_SECONDS=10
GOAL_PORTAL_PCT=30
HOST=127.0.0.1

usage() { sed -n '2,39p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
die() {
    echo "bench_aggregate.sh: $*" >&2
    exit 2
}

while (($#)); do
    case $1 in
    --only) ONLY=${2:?}; shift ;;
    --portal-measures) PORTAL_MEASURES=${2:?}; shift ;;
    --portal-seconds) PORTAL_SECONDS=${2:?}; shift ;;
    --runs) RUNS=${2:?}; shift ;;
    --writes) WRITES=${2:?}; shift ;;
    --spread) SPREAD=${2:?}; shift ;;
    --poll-ms) POLL_MS=${2:?}; shift ;;
    --changes) CHANGES=${2:?}; shift ;;
    --write-seconds) WRITE_SECONDS=${2:?}; shift ;;
    --conns) CONNS=${2:?}; shift ;;
    --create-ratio) CREATE_RATIO=${2:?}; shift ;;
    --converge-timeout) CONVERGE_TIMEOUT=${2:?}; shift ;;
    --perf) PERF=1 ;;
    --perf-seconds) PERF_SECONDS=${2:?}; shift ;;
    --base-port) BASE_PORT=${2:?}; shift ;;
    --district-retry-ms) DISTRICT_RETRY_MS=${2:?}; shift ;;
    --keep) KEEP=1 ;;
    --check) CHECK=1 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
    esac
    shift
done
[[ -z $ONLY || $ONLY == latency || $ONLY == catchup || $ONLY == portal ]] ||
    die "--only latency, catchup or portal"
[[ -z $DISTRICT_RETRY_MS || $DISTRICT_RETRY_MS =~ ^[0-9]+$ ]] || die "--district-retry-ms must be a number"
for v in RUNS WRITES SPREAD POLL_MS CHANGES WRITE_SECONDS CONNS CONVERGE_TIMEOUT PERF_SECONDS; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "--${v,,} must be a whole number"
done
((RUNS >= 1 && RUNS <= 10)) || die "--runs must be 1-10"
for cmd in curl jq gcc pkg-config; do
    command -v "$cmd" >/dev/null || die "$cmd is missing"
done
((PERF == 0)) || command -v perf >/dev/null || die "perf is missing (apt-get install linux-perf)"

# ---- binaries -------------------------------------------------------------------------

SRC_BIN=${DINET_BIN:-$ROOT/build/dinet}
if [[ -z ${DINET_BIN:-} ]]; then
    echo "== building $SRC_BIN"
    if ! grep -qx 'CMAKE_BUILD_TYPE:STRING=RelWithDebInfo' "$ROOT/build/CMakeCache.txt" 2>/dev/null; then
        cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    fi
    cmake --build "$ROOT/build" -j2 --target dinet >/dev/null
fi
[[ -x $SRC_BIN ]] || die "no dinet binary at $SRC_BIN"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/dinet-aggbench.XXXXXX")
chmod 700 "$WORK"
mkdir -p "$WORK/bin"
# A private copy: a rebuild of build/ during the run does not change what runs.
cp "$SRC_BIN" "$WORK/bin/dinet"
BIN=$WORK/bin/dinet
# shellcheck disable=SC2046 # pkg-config prints several words
gcc -O2 -Wall -Wextra -o "$WORK/bin/agg_load" "$HERE/agg_load.c" \
    $(pkg-config --cflags --libs libcurl jansson) -lm || die "cannot compile agg_load.c"
LOAD=$WORK/bin/agg_load

# ---- processes and cleanup ----------------------------------------------------------------

NODES=(15 15001 15002 15003 15081 15082 15083 15084 15085 15086 15087 15088 15089 15090 15091)
STATE=15
DISTRICTS=("${NODES[@]:1}")
declare -A PORT=() URL=() PID=()
PERF_PID=
LOAD_PID=
SAMPLER_PID=

# shellcheck disable=SC2317 # called by the trap
cleanup() {
    trap - EXIT INT TERM
    local code pid
    [[ -z $LOAD_PID ]] || kill -TERM "$LOAD_PID" 2>/dev/null || true
    [[ -z $SAMPLER_PID ]] || kill -TERM "$SAMPLER_PID" 2>/dev/null || true
    [[ -z $PERF_PID ]] || kill -INT "$PERF_PID" 2>/dev/null || true
    for code in "${!PID[@]}"; do
        pid=${PID[$code]}
        if [[ -n $pid ]]; then kill -TERM "$pid" 2>/dev/null || true; fi
    done
    for code in "${!PID[@]}"; do
        pid=${PID[$code]}
        [[ -n $pid ]] || continue
        for ((i = 0; i < 200; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    [[ -z $PERF_PID ]] || wait "$PERF_PID" 2>/dev/null || true
    if ((KEEP)); then
        echo "kept $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'echo "bench_aggregate.sh: interrupted" >&2; exit 130' INT TERM

now_ms() {
    local t=${EPOCHREALTIME/[.,]/}
    echo $((10#$t / 1000))
}
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
# CPU time (user+system, clock ticks) used so far by a process; secs turns ticks into seconds.
CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { # PID
    local f rest
    read -ra f <"/proc/$1/stat" 2>/dev/null || {
        echo 0
        return
    }
    # After the ')' that ends comm: field 3 (state) first; utime is field 14, stime 15.
    rest=${f[*]}
    rest=${rest##*) }
    read -ra f <<<"$rest"
    echo $((f[11] + f[12]))
}
sum_ticks_districts() {
    local code t=0
    for code in "${DISTRICTS[@]}"; do
        t=$((t + $(cpu_ticks "${PID[$code]}")))
    done
    echo "$t"
}
secs() { awk -v t="$1" -v hz="$CLK_TCK" 'BEGIN { printf "%.1f", t / hz }'; } # TICKS
port_busy() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# ---- the network ----------------------------------------------------------------------

if [[ -z $BASE_PORT ]]; then
    for ((BASE_PORT = 18400; BASE_PORT < 19400; BASE_PORT += 20)); do
        free=1
        for ((i = 0; i < ${#NODES[@]}; i++)); do
            if port_busy $((BASE_PORT + i)); then
                free=0
                break
            fi
        done
        ((free)) && break
    done
    ((BASE_PORT < 19400)) || die "no block of 15 free ports in 18400-19399"
fi
for i in "${!NODES[@]}"; do
    PORT[${NODES[i]}]=$((BASE_PORT + i))
    URL[${NODES[i]}]=http://$HOST:$((BASE_PORT + i))
done
SURL=${URL[$STATE]}

echo "== $(nproc) cores, load average $(loadavg); $("$BIN" version); nodes in $WORK, ports $BASE_PORT-$((BASE_PORT + 14))${DISTRICT_RETRY_MS:+; retry_base_ms of the districts = $DISTRICT_RETRY_MS}"

set_conf() { # NODEDIR KEY VALUE
    if grep -q "^$2[[:space:]]*=" "$1/dinet.conf"; then
        sed -i "s/^$2[[:space:]]*=.*/$2 = $3/" "$1/dinet.conf"
    else
        echo "$2 = $3" >>"$1/dinet.conf"
    fi
}

init_node() { # CODE
    local code=$1 role=district
    [[ $code == "$STATE" ]] && role=state
    "$BIN" init --data "$WORK/$code" --role "$role" --district "$code" --base-url "${URL[$code]}" \
        --listen "$HOST:${PORT[$code]}" --allow-private 127.0.0.0/8 >"$WORK/$code.init.log" 2>&1
}

echo "== initialising 15 nodes"
t0=$(now_ms)
pids=()
for code in "${NODES[@]}"; do
    init_node "$code" &
    pids+=($!)
    if ((${#pids[@]} >= 3)); then
        wait "${pids[0]}" || die "dinet init failed; see $WORK/*.init.log (--keep)"
        pids=("${pids[@]:1}")
    fi
done
for p in "${pids[@]}"; do wait "$p" || die "dinet init failed"; done
set_conf "$WORK/$STATE" sync_interval "$LIVE_SYNC_INTERVAL"
if [[ -n $DISTRICT_RETRY_MS ]]; then
    for code in "${DISTRICTS[@]}"; do set_conf "$WORK/$code" retry_base_ms "$DISTRICT_RETRY_MS"; done
fi
: >"$WORK/targets"
chmod 600 "$WORK/targets"
for code in "${DISTRICTS[@]}"; do
    tok=$("$BIN" token create --data "$WORK/$code" --role editor bench)
    echo "$code ${URL[$code]} $tok" >>"$WORK/targets"
done
STATE_TOKEN=$("$BIN" token create --data "$WORK/$STATE" --role editor bench)
echo "   done in $(($(now_ms) - t0)) ms"

start_node() { # CODE
    local code=$1
    "$BIN" serve --data "$WORK/$code" --listen "$HOST:${PORT[$code]}" >>"$WORK/$code/serve.log" 2>&1 </dev/null &
    PID[$code]=$!
}
wait_healthy() { # CODE TIMEOUT_S
    local code=$1 deadline=$(($(now_ms) + $2 * 1000))
    while :; do
        kill -0 "${PID[$code]}" 2>/dev/null || {
            tail -n 20 "$WORK/$code/serve.log" >&2
            die "node $code stopped while starting"
        }
        curl -fsS -o /dev/null --max-time 1 "${URL[$code]}/healthz" 2>/dev/null && return 0
        (($(now_ms) < deadline)) || die "node $code did not answer /healthz within $2 s"
        sleep 0.1
    done
}
stop_node() { # CODE
    local code=$1 pid=${PID[$1]} i
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 200; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    PID[$code]=
}

echo "== starting the nodes"
for code in "${NODES[@]}"; do start_node "$code"; done
for code in "${NODES[@]}"; do wait_healthy "$code" 60; done

echo "== registering the 14 districts on the state node"
for code in "${DISTRICTS[@]}"; do
    "$BIN" district add --data "$WORK/$STATE" --code "$code" "${URL[$code]}/actor" \
        >"$WORK/register.$code.log" 2>&1 || {
        cat "$WORK/register.$code.log" >&2
        die "dinet district add $code failed"
    }
done
curl -fsS -o /dev/null --max-time 10 -X POST -H @- "$SURL/api/v1/districts/${DISTRICTS[0]}/sync" \
    <<<"Authorization: Bearer $STATE_TOKEN" || true

# Ready when every district has accepted the state's follow (the state is among its
# followers, so writes are delivered) and the state has synced every district once.
wait_ready() { # TIMEOUT_S
    local deadline=$(($(now_ms) + $1 * 1000)) code n nf synced
    while :; do
        n=0
        for code in "${DISTRICTS[@]}"; do
            nf=$(curl -fsS --max-time 5 -H 'Accept: application/activity+json' \
                "${URL[$code]}/actor/followers" 2>/dev/null | jq -r '.totalItems // 0' 2>/dev/null || echo 0)
            ((nf >= 1)) && n=$((n + 1))
        done
        synced=$(curl -fsS --max-time 10 "$SURL/api/v1/districts" 2>/dev/null |
            jq '[.items[] | select(.last_sync != null)] | length' 2>/dev/null || echo 0)
        ((n == 14 && synced == 14)) && return 0
        (($(now_ms) < deadline)) || die "after $1 s: $n of 14 districts have the state as follower, $synced synced"
        sleep 1
    done
}
wait_ready 180
echo "   ready: the state follows and has synced all 14 districts (load $(loadavg))"

# ---- helpers for the figures --------------------------------------------------------------

# Prints "converged" when every district's summary hash equals the state's one.
declare -A DHASH=()
fetch_district_hashes() {
    local code
    for code in "${DISTRICTS[@]}"; do
        DHASH[$code]=$(curl -fsS --max-time 30 "${URL[$code]}/api/v1/summary" | jq -r .hash)
    done
}
state_hash() { # CODE
    curl -fsS --max-time 30 "$SURL/api/v1/summary?district=$1" 2>/dev/null | jq -r '.hash // empty' 2>/dev/null || true
}
# Waits until all hashes agree; prints per-district times (ms since START_MS) to
# $WORK/conv.times. Returns 1 on timeout.
wait_converged() { # START_MS TIMEOUT_S
    local start=$1 deadline=$(($1 + $2 * 1000)) code h left
    declare -A done_at=()
    : >"$WORK/conv.times"
    while :; do
        left=0
        for code in "${DISTRICTS[@]}"; do
            [[ -n ${done_at[$code]:-} ]] && continue
            h=$(state_hash "$code")
            if [[ -n $h && $h == "${DHASH[$code]}" ]]; then
                done_at[$code]=$(($(now_ms) - start))
                echo "$code ${done_at[$code]}" >>"$WORK/conv.times"
            else
                left=$((left + 1))
            fi
        done
        ((left == 0)) && return 0
        (($(now_ms) < deadline)) || return 1
        sleep 0.5
    done
}
# Compares every (id, version) pair of every district with the state's copy.
# Prints a line per district that differs; returns the number of differing districts.
compare_detail() {
    local code bad=0 a b
    for code in "${DISTRICTS[@]}"; do
        a=$(curl -fsS --max-time 60 "${URL[$code]}/api/v1/summary?detail=1" | jq -c '.items')
        b=$(curl -fsS --max-time 60 "$SURL/api/v1/summary?district=$code&detail=1" | jq -c '.items')
        if [[ $a != "$b" ]]; then
            bad=$((bad + 1))
            jq -rn --argjson a "$a" --argjson b "$b" --arg c "$code" '
                ($a | map({(.[0]): .[1]}) | add // {}) as $da
                | ($b | map({(.[0]): .[1]}) | add // {}) as $db
                | "   \($c): district \($a | length) pairs, state \($b | length); missing on the state \([$da | keys[] | select($db[.] == null)] | length), other version \([$da | to_entries[] | select($db[.key] != null and $db[.key] != .value)] | length), extra \([$db | keys[] | select($da[.] == null)] | length)"'
        fi
    done
    return "$bad"
}
kv() { sed -n "s/^$1=//p" "$2"; } # KEY FILE

RESULTS=$WORK/results
: >"$RESULTS"
missed=0

# ---- latency ----------------------------------------------------------------------------------

if [[ -z $ONLY || $ONLY == latency ]]; then
    echo
    echo "== live latency: 14 districts x $WRITES writes over ${SPREAD} s, poll every ${POLL_MS} ms ($RUNS runs; state sync_interval $LIVE_SYNC_INTERVAL s)"
    for ((r = 1; r <= RUNS; r++)); do
        la0=$(loadavg)
        sc0=$(cpu_ticks "${PID[$STATE]}")
        dc0=$(sum_ticks_districts)
        out=$WORK/latency.$r
        "$LOAD" latency --targets "$WORK/targets" --state "$SURL" --writes "$WRITES" \
            --spread "$SPREAD" --poll-ms "$POLL_MS" --out "$out.writes" --seed "$r" >"$out" &
        LOAD_PID=$!
        wait "$LOAD_PID" || echo "   (agg_load: some writes failed or were not seen; see below)"
        LOAD_PID=
        la1=$(loadavg)
        sc1=$(cpu_ticks "${PID[$STATE]}")
        dc1=$(sum_ticks_districts)
        printf '   run %d: %s writes ok (%s creates, %s updates, %s failed) at %s/s; seen %s, unseen %s\n' \
            "$r" "$(kv writes_ok "$out")" "$(kv creates "$out")" "$(kv updates "$out")" \
            "$(kv writes_failed "$out")" "$(kv write_rate "$out")" "$(kv seen "$out")" "$(kv unseen "$out")"
        printf '          latency p50 %s ms, p90 %s ms, p99 %s ms, max %s ms (mean %s ms; %s%% took >= 200 ms; %s seen before the 2xx was read)\n' \
            "$(kv lat_p50_ms "$out")" "$(kv lat_p90_ms "$out")" "$(kv lat_p99_ms "$out")" \
            "$(kv lat_max_ms "$out")" "$(kv lat_mean_ms "$out")" "$(kv lat_share_200ms_or_more "$out")" \
            "$(kv seen_before_response "$out")"
        printf '          poller: %s outbox polls, %s announces, %s GETs (%s by the 1 s safety net)\n' \
            "$(kv polls "$out")" "$(kv announces "$out")" "$(kv checks "$out")" "$(kv safety_net_checks "$out")"
        printf '          CPU: state %s s, districts %s s; load average before %s, after %s\n' \
            "$(secs $((sc1 - sc0)))" "$(secs $((dc1 - dc0)))" "$la0" "$la1"
        echo "latency run $r: p50 $(kv lat_p50_ms "$out") ms, p99 $(kv lat_p99_ms "$out") ms, unseen $(kv unseen "$out"), load $la0 -> $la1" >>"$RESULTS"
        if ! awk -v p="$(kv lat_p99_ms "$out")" -v g="$GOAL_P99_MS" 'BEGIN { exit !(p < g) }' ||
            [[ $(kv unseen "$out") != 0 ]]; then
            missed=1
        fi
        sleep 3
    done
fi

# ---- catch-up ----------------------------------------------------------------------------------

catchup_run() { # LABEL PERF(0/1)
    local label=$1 prof=$2 out=$WORK/catchup.$1 la0 la1 la2 t_start t_conv changes conv_ms rate
    echo "-- $label"
    # Start from a converged state, so that the clock measures this run's changes only.
    fetch_district_hashes
    wait_converged "$(now_ms)" 300 || die "the state did not converge before the run"
    stop_node "$STATE"
    la0=$(loadavg)
    local dt0 dt1 since_iso
    dt0=$(sum_ticks_districts)
    since_iso=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    echo "   state stopped; the districts write (load $la0)"
    "$LOAD" bulk --targets "$WORK/targets" --changes "$CHANGES" --seconds "$WRITE_SECONDS" \
        --conns "$CONNS" --create-ratio "$CREATE_RATIO" --seed "$RANDOM" >"$out.write" &
    LOAD_PID=$!
    wait "$LOAD_PID" || echo "   (agg_load: some writes failed; see below)"
    LOAD_PID=
    la1=$(loadavg)
    dt1=$(sum_ticks_districts)
    changes=$(kv changes "$out.write")
    printf '   wrote %s changes (%s creates, %s updates, %s failed) in %s s: %s changes/s over %s connections (write p50 %s ms, p99 %s ms); load %s\n' \
        "$changes" "$(kv creates "$out.write")" "$(kv updates "$out.write")" "$(kv failed "$out.write")" \
        "$(kv seconds "$out.write")" "$(kv rate "$out.write")" "$(kv connections "$out.write")" \
        "$(kv write_p50_ms "$out.write")" "$(kv write_p99_ms "$out.write")" "$la1"
    echo "   per district: $(kv per_district "$out.write"); district CPU $(secs $((dt1 - dt0))) s" \
        "($(awk -v t=$((dt1 - dt0)) -v hz="$CLK_TCK" -v n="$changes" 'BEGIN { printf "%.2f", n ? t / hz * 1000 / n : 0 }') ms per change, with the failing deliveries to the stopped state)"
    fetch_district_hashes
    # Restart the state; the clock runs from its start.
    dt0=$(sum_ticks_districts)
    t_start=$(now_ms)
    start_node "$STATE"
    "$LOAD" threads --pid "${PID[$STATE]}" --interval-ms 20 --max-seconds $((CONVERGE_TIMEOUT + 60)) \
        >"$out.threads" 2>&1 &
    SAMPLER_PID=$!
    wait_healthy "$STATE" 60
    if ((prof)); then
        # Attached once the node serves: its threads exist then (attached earlier,
        # between fork and exec, perf recorded nothing).
        perf record -F 199 --call-graph dwarf,16384 -p "${PID[$STATE]}" -o "$WORK/perf.data" \
            -- sleep "$PERF_SECONDS" >"$WORK/perf.log" 2>&1 &
        PERF_PID=$!
    fi
    local ok=1
    wait_converged "$t_start" "$CONVERGE_TIMEOUT" || ok=0
    t_conv=$(now_ms)
    kill -TERM "$SAMPLER_PID" 2>/dev/null || true
    wait "$SAMPLER_PID" 2>/dev/null || true
    SAMPLER_PID=
    la2=$(loadavg)
    local scpu dcpu swrote
    scpu=$(secs "$(cpu_ticks "${PID[$STATE]}")")
    # Bytes the state caused to be written to storage (WAL, checkpoints):
    # independent of how busy the machine is, unlike the times.
    swrote=$(awk '/^write_bytes:/ { printf "%.1f", $2 / 1048576 }' "/proc/${PID[$STATE]}/io" 2>/dev/null)
    dcpu=$(secs $(($(sum_ticks_districts) - dt0)))
    if [[ -n $PERF_PID ]]; then
        kill -INT "$PERF_PID" 2>/dev/null || true
        wait "$PERF_PID" 2>/dev/null || true
        PERF_PID=
    fi
    conv_ms=$((t_conv - t_start))
    if ((!ok)); then
        echo "   NOT converged after $CONVERGE_TIMEOUT s; converged districts: $(wc -l <"$WORK/conv.times")"
        missed=1
        echo "catchup $label: NOT converged in $CONVERGE_TIMEOUT s ($changes changes)" >>"$RESULTS"
        return 0
    fi
    rate=$(awk -v n="$changes" -v ms="$conv_ms" 'BEGIN { printf "%.0f", n / (ms / 1000) }')
    local first last
    first=$(sort -k2n "$WORK/conv.times" | head -n 1)
    last=$(sort -k2n "$WORK/conv.times" | tail -n 1)
    printf '   converged %.1f s after the restart (first district %s at %.1f s, last %s at %.1f s): %s changes/s; CPU: state %s s, districts %s s (serving their outboxes%s); load %s\n' \
        "$(awk -v m="$conv_ms" 'BEGIN { print m / 1000 }')" "${first% *}" \
        "$(awk -v m="${first#* }" 'BEGIN { print m / 1000 }')" "${last% *}" \
        "$(awk -v m="${last#* }" 'BEGIN { print m / 1000 }')" "$rate" "$scpu" "$dcpu" \
        "$([[ -n $DISTRICT_RETRY_MS ]] || echo ', retrying deliveries')" "$la2"
    echo "   the state wrote ${swrote:-?} MiB to storage ($(awk -v m="${swrote:-0}" -v n="$changes" 'BEGIN { printf "%.1f", n ? m * 1024 / n : 0 }') KiB per change) and used $(awk -v s="$scpu" -v n="$changes" 'BEGIN { printf "%.2f", n ? s * 1000 / n : 0 }') ms of CPU per change"
    local bad=0
    compare_detail || bad=$?
    local rejected
    rejected=$(curl -fsS --max-time 30 "$SURL/api/v1/districts" | jq '[.items[].rejected] | add')
    echo "   (id, version) pairs: $( ((bad == 0)) && echo "all 14 districts identical" || echo "$bad districts differ")," \
        "rejected activities on the state: $rejected," \
        "full replays (district.reconcile): $(grep -c 'district.reconcile' "$WORK/$STATE/serve.log" || true) so far"
    echo "   state threads until convergence (schedstat; samples every 20 ms: R = on a CPU or waiting for one, else the blocking system call):"
    sed 's/^/     /' "$out.threads"
    if command -v sqlite3 >/dev/null; then
        # How the changes arrived: the districts' delivery retries reach the inbox too.
        echo "   state inbox since the stop (outcome: activities): $(sqlite3 "file:$WORK/$STATE/dinet.db?mode=ro" \
            "SELECT coalesce(group_concat(outcome || ': ' || n, ', '), 'none') FROM (SELECT outcome, count(*) AS n FROM inbox_log WHERE received >= '$since_iso' GROUP BY outcome)" 2>/dev/null || echo '?')"
    fi
    echo "catchup $label: $changes changes, converged in $(awk -v m="$conv_ms" 'BEGIN { printf "%.1f", m / 1000 }') s = $rate changes/s, $bad districts differ; write rate $(kv rate "$out.write")/s; load $la0 / $la1 / $la2" >>"$RESULTS"
    if ((bad)) || ((rate < GOAL_RATE)); then missed=1; fi
}

# ---- portal pages on a state with the whole network's measures ---------------------------

wrk_rate() { # URL -> requests/s
    wrk -t2 -c32 -d2s "$1" >/dev/null 2>&1 || true
    wrk -t2 -c32 -d"${PORTAL_SECONDS}s" "$1" 2>/dev/null | awk '/^Requests\/sec/ { printf "%.0f", $2 }'
}

if [[ $ONLY == portal ]]; then
    command -v wrk >/dev/null || die "wrk is needed (apt-get install wrk)"
    total=$((14 * PORTAL_MEASURES))
    echo
    echo "== portal: the districts create $total measures while the state runs"
    "$LOAD" bulk --targets "$WORK/targets" --changes "$total" --seconds 3600 --conns "$CONNS" \
        --create-ratio 1 --seed 7 >"$WORK/portal.write" || echo "   (agg_load: some writes failed)"
    echo "   wrote $(kv changes "$WORK/portal.write") measures in $(kv seconds "$WORK/portal.write") s; per district: $(kv per_district "$WORK/portal.write")"
    fetch_district_hashes
    wait_converged "$(now_ms)" "$CONVERGE_TIMEOUT" || die "the state did not converge"
    # The backfill converges before the districts' live deliveries of the same changes
    # are through (each then answers "not newer"); measure a quiet state, as readers
    # meet it: wait until the state's inbox counters stand still for 6 s.
    t_quiet=$(now_ms)
    prev=x
    for ((i = 0; i < 600; i++)); do
        cur=$(curl -fsS --max-time 30 "$SURL/metrics" 2>/dev/null |
            awk '/^dinet_inbox_(accepted|rejected)_total/ { s += $NF } END { print s + 0 }')
        [[ $cur == "$prev" ]] && break
        prev=$cur
        sleep 6
    done
    echo "   the state's inbox is quiet after $(( ($(now_ms) - t_quiet) / 1000 )) s more ($cur activities received)"
    have=$(curl -fsS "$SURL/api/v1/measures?limit=1" | jq -r .total)
    mid=$(curl -fsS "$SURL/api/v1/measures?limit=1&field_of_action=HF3" | jq -r '.items[0].id')
    echo "   the state holds $have measures (load $(loadavg)); measure page /measures/$mid"
    for page in "/" "/handlungsfelder/HF3" "/measures/$mid"; do
        h=$(wrk_rate "$SURL/healthz")
        p=$(wrk_rate "$SURL$page")
        pct=$(awk -v p="$p" -v h="$h" 'BEGIN { printf "%.0f", h ? 100 * p / h : 0 }')
        line="portal $page: $p req/s vs /healthz $h req/s = $pct % (load $(loadavg))"
        echo "   $line"
        echo "$line" >>"$RESULTS"
        if [[ $page == / ]] && ((pct < GOAL_PORTAL_PCT)); then missed=1; fi
    done
fi

if [[ -z $ONLY || $ONLY == catchup ]]; then
    echo
    echo "== catch-up: stop the state, the districts write up to $CHANGES changes (at most ${WRITE_SECONDS} s), restart it ($RUNS runs; sync_interval = 1)"
    fetch_district_hashes
    wait_converged "$(now_ms)" 300 || die "the state did not converge after the latency runs"
    stop_node "$STATE"
    set_conf "$WORK/$STATE" sync_interval 1
    start_node "$STATE"
    wait_healthy "$STATE" 60
    for ((r = 1; r <= RUNS; r++)); do
        catchup_run "run-$r" 0
    done
    if ((PERF)); then
        catchup_run "profiled" 1
        echo
        echo "== where the state's CPU time goes (perf record -F 199 --call-graph dwarf, $PERF_SECONDS s from when the restarted state answers)"
        sed 's/^/   perf: /' "$WORK/perf.log" 2>/dev/null | tail -n 3 || true
        if [[ -s $WORK/perf.data ]]; then
            { perf script -i "$WORK/perf.data" -F tid,ip,sym,dso 2>/dev/null || true; } | awk -f "$HERE/agg_perf.awk"
            echo "   flat profile (self time by library and symbol, >= 1 %):"
            { perf report -i "$WORK/perf.data" --no-children --sort dso,symbol --stdio --percent-limit 1 \
                -g none 2>/dev/null || true; } | { grep '%' || true; } | { grep -v '^#' || true; } |
                head -n 30 | sed 's/^ */     /'
            if ((KEEP)); then echo "   (perf data: $WORK/perf.data)"; fi
        fi
    fi
fi

echo
echo "== summary ($(nproc) cores; goals: latency p99 < $GOAL_P99_MS ms, catch-up >= $GOAL_RATE changes/s with nothing missing)"
sed 's/^/   /' "$RESULTS"
if ((missed)); then
    echo "   verdict: goal NOT met in at least one run"
    ((CHECK)) && exit 1
else
    echo "   verdict: goals met"
fi
exit 0
