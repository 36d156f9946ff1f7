#!/usr/bin/env bash
# tests/bench/bench_node.sh: resident memory and startup time of a node.
#
#   tests/bench/bench_node.sh [--runs N] [--idle S] [--base-port N] [--keep] [--check]
#
# "The resident memory of one idle district node with its sample data, and of the state
# node with the whole network's data. The startup time of a node. Goals: an idle district
# node under 16 MB RSS; startup under 200 ms."
#
# 1. Starts the demo network (deploy/demo.sh, which builds build/dinet) in a temporary
#    directory on the first free block of 15 loopback ports from 28400 (or --base-port)
#    and waits (at most --converge-timeout s, default 180) until the state holds every
#    district's records.
# 2. After --idle seconds (default 5) without requests from this script, reads VmRSS,
#    VmHWM, RssAnon, RssFile (/proc/PID/status), Pss (/proc/PID/smaps_rollup), the
#    thread count and the resident size of the dinet.db mappings of one district node
#    (15003 Magdeburg) and of the state node (15), and VmRSS of all 14 districts.
# 3. Stops the network. For the district 15003 and then the state node (with the whole
#    network's data), --runs times (default 10): starts 'dinet serve' on the node's data
#    directory and port and measures, from just before the exec, when it prints
#    'listening on' and when GET /healthz first answers 200 (a bash loop without child
#    processes: a TCP connect every 2 ms), and the CPU time the node's threads had used
#    by then (schedstat; the figure that depends least on other load); then stops it
#    with SIGTERM. Prints each run and min/median/max. (The node's own log has second
#    resolution only, so the 'listening on' line on standard output is its own
#    "started" mark.)
#
# Every figure is printed with the load average: other processes share the machine.
# Only 127.0.0.1. On exit (also Ctrl-C) it stops the nodes it started, by pid, and
# removes the directory unless --keep. --check: exit 1 when a goal is missed (the
# district's VmRSS >= 16 MiB, a median startup to /healthz >= 200 ms); otherwise the
# figures never fail the run.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DEMO=$ROOT/deploy/demo.sh
BIN=$ROOT/build/dinet
HOST=127.0.0.1

RUNS=10
IDLE=5
KEEP=0
CHECK=0
BASE=
CONVERGE_TIMEOUT=180
RSS_GOAL_KB=$((16 * 1024))
START_GOAL_MS=200
DISTRICT=15003
STATE=15

usage() { sed -n '2,32p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
die() { echo "bench_node: $*" >&2; exit 2; }

while (($#)); do
    case $1 in
    --runs) RUNS=${2:?}; shift ;;
    --idle) IDLE=${2:?}; shift ;;
    --base-port) BASE=${2:?}; shift ;;
    --converge-timeout) CONVERGE_TIMEOUT=${2:?}; shift ;;
    --keep) KEEP=1 ;;
    --check) CHECK=1 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
    esac
    shift
done
[[ $RUNS =~ ^[1-9][0-9]*$ && $IDLE =~ ^[0-9]+$ && $CONVERGE_TIMEOUT =~ ^[1-9][0-9]*$ ]] ||
    die "--runs, --idle and --converge-timeout take numbers"
for tool in curl jq; do command -v "$tool" >/dev/null || die "$tool is needed"; done

NODES=(15 15001 15002 15003 15081 15082 15083 15084 15085 15086 15087 15088 15089 15090 15091)
DISTRICTS=("${NODES[@]:1}")

load() { cut -d' ' -f1-3 /proc/loadavg; }
port_busy() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

if [[ -z $BASE ]]; then
    for ((b = 28400; b <= 30400; b += 20)); do
        busy=0
        for ((i = 0; i < ${#NODES[@]}; i++)); do
            if port_busy $((b + i)); then busy=1; break; fi
        done
        ((busy)) || { BASE=$b; break; }
    done
    [[ -n $BASE ]] || die "no free block of 15 ports from 28400 to 30400"
fi
declare -A PORT=() URL=()
for i in "${!NODES[@]}"; do
    PORT[${NODES[i]}]=$((BASE + i))
    URL[${NODES[i]}]=http://$HOST:$((BASE + i))
done

WORK=$(realpath "$(mktemp -d "${TMPDIR:-/tmp}/dinet-bench-node.XXXXXX")")
DIR=$WORK/net
OWN_PID= # a node this script started itself (startup runs)

node_pid() { # CODE: the pid demo.sh recorded, if it is still that node
    local f=$DIR/$1/serve.pid pid
    [[ -f $f ]] || return 1
    pid=$(<"$f")
    [[ $pid =~ ^[0-9]+$ ]] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF "serve --data $DIR/$1 " &&
        echo "$pid"
}

cleanup() {
    local pid pids=() code
    if [[ -n $OWN_PID ]] && kill -0 "$OWN_PID" 2>/dev/null; then
        kill -TERM "$OWN_PID" 2>/dev/null
        for ((i = 0; i < 200; i++)); do kill -0 "$OWN_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$OWN_PID" 2>/dev/null
    fi
    if [[ -d $DIR ]]; then
        for code in "${NODES[@]}"; do pid=$(node_pid "$code") && pids+=("$pid"); done
        timeout 60 "$DEMO" stop --dir "$DIR" >/dev/null 2>&1
        for pid in "${pids[@]}"; do
            tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF "serve --data $DIR/" &&
                kill -KILL "$pid" 2>/dev/null
        done
    fi
    if ((KEEP)); then echo "bench_node: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

get() { curl -fsS --max-time 10 "$@" 2>/dev/null; }

converged() {
    local listing own code live
    listing=$(get "${URL[$STATE]}/api/v1/districts") || return 1
    for code in "${DISTRICTS[@]}"; do
        live=$(get "${URL[$code]}/api/v1/summary" | jq -r '.live // empty' 2>/dev/null)
        [[ -n $live && $live != 0 ]] || return 1
        own=$(jq -r --arg c "$code" '.items[] | select(.code == $c) | .records // 0' <<<"$listing" 2>/dev/null)
        [[ $own == "$live" ]] || return 1
    done
}

# ---- 1. the network -------------------------------------------------------------

echo "== bench_node: demo network in $DIR, ports $BASE-$((BASE + 14)) (load $(load))"
t=$SECONDS
timeout 900 "$DEMO" start --dir "$DIR" --base-port "$BASE" </dev/null >"$WORK/demo.log" 2>&1
rc=$?
echo "   deploy/demo.sh: exit $rc after $((SECONDS - t)) s (load $(load))"
if ((rc != 0)) && ! grep -qE 'did not answer .*/healthz within|the state node holds measures from' "$WORK/demo.log"; then
    tail -n 30 "$WORK/demo.log" >&2
    die "deploy/demo.sh failed"
fi
deadline=$((SECONDS + CONVERGE_TIMEOUT))
until converged; do
    ((SECONDS < deadline)) || die "the state did not converge within $CONVERGE_TIMEOUT s"
    sleep 2
done
measures=$(get "${URL[$STATE]}/api/v1/stats" | jq -r '.state.measures')
dbsize() { du -k "$DIR/$1/dinet.db" | cut -f1; }
echo "   converged: $measures statewide measures; dinet.db: district $DISTRICT $(dbsize "$DISTRICT") kB, state $(dbsize "$STATE") kB"

# ---- 2. memory -----------------------------------------------------------------

echo "   idle for $IDLE s"
sleep "$IDLE"

status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
pss_kb() { awk '$1 == "Pss:" { print $2 }' "/proc/$1/smaps_rollup" 2>/dev/null; }
# Resident kB of the mappings of dinet.db (SQLite mmap_size: one mapping per connection,
# each counted in VmRSS/RssFile although they share the file's page cache) and their count.
dbmap_kb() {
    awk '/^[0-9a-f]+-[0-9a-f]+ / { db = ($NF ~ /\/dinet\.db$/); if (db) n++ }
         db && $1 == "Rss:" { kb += $2 } END { printf "%d kB/%d\n", kb, n }' "/proc/$1/smaps" 2>/dev/null
}
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB = %.1f MB", k / 1024, k * 1.024 / 1000 }'; }

declare -A RSS=()
echo
echo "== resident memory, idle (load $(load))"
printf '   %-22s %10s %10s %10s %10s %10s %7s  %s\n' node VmRSS VmHWM RssAnon RssFile Pss threads "dinet.db mapped (Rss/mappings)"
for code in "$DISTRICT" "$STATE"; do
    pid=$(node_pid "$code") || die "node $code is not running"
    RSS[$code]=$(status_kb "$pid" VmRSS)
    label="district $code"
    [[ $code == "$STATE" ]] && label="state $code (all data)"
    printf '   %-22s %7s kB %7s kB %7s kB %7s kB %7s kB %7s  %s\n' "$label" "${RSS[$code]}" \
        "$(status_kb "$pid" VmHWM)" "$(status_kb "$pid" RssAnon)" "$(status_kb "$pid" RssFile)" \
        "$(pss_kb "$pid")" "$(status_kb "$pid" Threads)" "$(dbmap_kb "$pid")"
done
all=()
for code in "${DISTRICTS[@]}"; do
    pid=$(node_pid "$code") && all+=("$(status_kb "$pid" VmRSS)")
done
read -r lo med hi < <(printf '%s\n' "${all[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[1], v[int((NR + 1) / 2)], v[NR] }')
echo "   all ${#all[@]} districts VmRSS: min $lo kB, median $med kB, max $hi kB"
verdict() { (($1 < $2)) && echo "meets the goal" || echo "MISSES the goal"; }
echo "   district $DISTRICT idle VmRSS $(mib "${RSS[$DISTRICT]}") vs goal < 16 MiB: $(verdict "${RSS[$DISTRICT]}" "$RSS_GOAL_KB");" \
    "< 16 MB (10^6 bytes): $(verdict "${RSS[$DISTRICT]}" 15625)"
echo "   state idle VmRSS $(mib "${RSS[$STATE]}") (no goal; shown for comparison)"
MISSED=0
((RSS[$DISTRICT] < RSS_GOAL_KB)) || MISSED=1

timeout 120 "$DEMO" stop --dir "$DIR" >"$WORK/stop.log" 2>&1 || die "demo.sh stop failed: $(cat "$WORK/stop.log")"

# ---- 3. startup ----------------------------------------------------------------

exec {SLEEPFD}<> <(:) # read -t on this fd sleeps without a child process
nap() { read -r -t "$1" -u "$SLEEPFD" _; }

# True when GET /healthz on the port answers 200 (one connection, no child process).
healthy() { # PORT
    local line
    { printf 'GET /healthz HTTP/1.0\r\nHost: %s:%s\r\n\r\n' "$HOST" "$1" >&3 &&
        IFS= read -r -t 5 line <&3; } 2>/dev/null 3<>"/dev/tcp/$HOST/$1" || return 1
    [[ $line == "HTTP/1."?" 200"* ]]
}

# One start of a node: sets L_MS, H_MS and C_MS (the CPU time its threads had used when
# /healthz answered; ms with one decimal). Runs in this shell,
# so that the trap knows OWN_PID.
start_once() { # CODE
    local code=$1 port=${PORT[$1]} out=$WORK/start.out t0 now t_listen='' t_health='' line deadline f run cpu_ns=0
    : >"$out"
    t0=${EPOCHREALTIME/[.,]/}
    "$BIN" serve --data "$DIR/$code" --listen "$HOST:$port" >"$out" 2>>"$WORK/start.$code.log" &
    OWN_PID=$!
    deadline=$((10#$t0 + 60000000))
    while :; do
        now=${EPOCHREALTIME/[.,]/}
        if [[ -z $t_listen ]] && IFS= read -r line <"$out" && [[ $line == "listening on"* ]]; then
            t_listen=$now
        fi
        if [[ -z $t_health ]] && healthy "$port"; then
            t_health=${EPOCHREALTIME/[.,]/}
            cpu_ns=0 # CPU time of the node's threads so far (schedstat: ns on a CPU)
            for f in "/proc/$OWN_PID/task/"*/schedstat; do
                read -r run _ <"$f" 2>/dev/null && cpu_ns=$((cpu_ns + run))
            done
        fi
        # The node prints its line after starting its workers, which can be after it
        # answers: wait for both.
        [[ -n $t_health && -n $t_listen ]] && break
        kill -0 "$OWN_PID" 2>/dev/null || { echo "node $code exited while starting" >&2; return 1; }
        ((10#$now < deadline)) || { echo "node $code did not answer within 60 s" >&2; return 1; }
        nap 0.002
    done
    kill -TERM "$OWN_PID"
    wait "$OWN_PID" 2>/dev/null
    OWN_PID=
    read -r L_MS H_MS C_MS < <(awk -v a="$t0" -v l="$t_listen" -v h="$t_health" -v c="$cpu_ns" \
        'BEGIN { printf "%.1f %.1f %.1f\n", (l - a) / 1000, (h - a) / 1000, c / 1e6 }')
}

SUMMARY=()
stats3() { sort -n | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
    printf "%.1f %.1f %.1f\n", v[1], m, v[NR] }'; }

echo
echo "== startup: exec of 'dinet serve' until 'listening on' / GET /healthz 200, $RUNS runs each"
for code in "$DISTRICT" "$STATE"; do
    label="district $code"
    [[ $code == "$STATE" ]] && label="state $code (all data)"
    listens=() healths=() cpus=()
    for ((r = 1; r <= RUNS; r++)); do
        start_once "$code" || die "start of node $code failed (see $WORK/start.$code.log)"
        listens+=("$L_MS")
        healths+=("$H_MS")
        cpus+=("$C_MS")
        printf '   %-22s run %2d: listening %7.1f ms, /healthz %7.1f ms, CPU %5.1f ms (load %s)\n' \
            "$label" "$r" "$L_MS" "$H_MS" "$C_MS" "$(load)"
    done
    read -r llo lmed lhi < <(printf '%s\n' "${listens[@]}" | stats3)
    read -r hlo hmed hhi < <(printf '%s\n' "${healths[@]}" | stats3)
    read -r clo cmed chi < <(printf '%s\n' "${cpus[@]}" | stats3)
    v=$(awk -v m="$hmed" -v g="$START_GOAL_MS" 'BEGIN { print (m < g) ? "meets the goal" : "MISSES the goal" }')
    awk -v m="$hmed" -v g="$START_GOAL_MS" 'BEGIN { exit !(m < g) }' || MISSED=1
    echo "   $label: min/median/max: listening $llo/$lmed/$lhi ms; /healthz $hlo/$hmed/$hhi ms;" \
        "CPU until /healthz $clo/$cmed/$chi ms"
    echo "   $label: median startup (/healthz) vs goal < $START_GOAL_MS ms: $v (load $(load))"
    SUMMARY+=("startup $label: median $hmed ms to /healthz (min $hlo, max $hhi), CPU $cmed ms")
done

echo
echo "== summary (load $(load))"
echo "   idle VmRSS: district $DISTRICT $(mib "${RSS[$DISTRICT]}") (goal < 16 MiB), state $(mib "${RSS[$STATE]}")"
printf '   %s\n' "${SUMMARY[@]}"
if ((CHECK && MISSED)); then
    echo "bench_node: a goal was missed (--check)"
    exit 1
fi
exit 0
