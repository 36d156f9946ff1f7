#!/usr/bin/env bash
# tests/bench/bench_list.sh: how fast does a node list measures, compared with the
# cheapest request it can answer?
#
#   tests/bench/bench_list.sh [--measures N] [--duration 10s] [--connections 32]
#                             [--threads 2] [--keep] [--check]
#
# Initialises a node in a temporary directory, loads N measures (default 5000) through
# the real write path (POST /api/v1/measures with a bearer token from
# 'dinet token create', four curl clients in parallel), then runs wrk against
#   GET /api/v1/measures?limit=50   (the list)
#   GET /healthz                    (the ceiling: routing and HTTP only)
# and prints both rates, the ratio list/ceiling and a verdict against the goal
# "list >= 50% of ceiling". --check makes the exit status 1 when the goal is missed.
# DINET_BIN selects the binary (default build/dinet, built if missing).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MEASURES=5000
DURATION=10s
CONNECTIONS=32
THREADS=2
KEEP=0
CHECK=0
GOAL=50 # percent of the ceiling

usage() { sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
die() {
    echo "bench_list.sh: $*" >&2
    exit 2
}

while (($#)); do
    case $1 in
    --measures) MEASURES=${2:?}; shift ;;
    --duration) DURATION=${2:?}; shift ;;
    --connections) CONNECTIONS=${2:?}; shift ;;
    --threads) THREADS=${2:?}; shift ;;
    --keep) KEEP=1 ;;
    --check) CHECK=1 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
    esac
    shift
done
[[ $MEASURES =~ ^[0-9]+$ ]] || die "--measures must be a number"

for cmd in curl wrk jq; do
    command -v "$cmd" >/dev/null || die "$cmd is missing (apt-get install $cmd)"
done

BIN=${DINET_BIN:-$ROOT/build/dinet}
if [[ -z ${DINET_BIN:-} ]]; then
    echo "== building $BIN"
    cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$ROOT/build" -j2 --target dinet >/dev/null
fi
[[ -x $BIN ]] || die "no dinet binary at $BIN"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/dinet-bench.XXXXXX")
SERVER_PID=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID"
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if ((KEEP)); then
        echo "kept $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

NODE=$WORK/node
"$BIN" init --data "$NODE" --role district --district 15003 \
    --base-url http://127.0.0.1:8080 --allow-private 127.0.0.0/8 >/dev/null
TOKEN=$("$BIN" token create --data "$NODE" bench)

# Port 0: the node picks a free port and says which.
"$BIN" serve --data "$NODE" --listen 127.0.0.1:0 >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!
ORIGIN=
for ((i = 0; i < 100; i++)); do
    ORIGIN=$(sed -n 's|.*listening on \(http://[^ ]*\).*|\1|p' "$WORK/serve.log" | head -n 1)
    [[ -n $ORIGIN ]] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/serve.log" >&2; die "the node did not start"; }
    sleep 0.1
done
[[ -n $ORIGIN ]] || die "the node did not say where it listens"
echo "node: $ORIGIN ($("$BIN" version), $(nproc) cores)"

# ---- load the measures ------------------------------------------------------------
# One curl config file per client; each client keeps its connection open and sends
# its share one after another. Bodies are plain JSON without backslashes, so only
# double quotes need escaping for curl's config syntax.
fields=(HF1 HF2 HF3 HF4 HF5 HF6 HF7)
themes=(QT1 QT2 QT3)
statuses=(planned active completed paused)
words=(Sprachkurs Beratung Lotsen Elterncafé Begegnung Ausbildung Gesundheit Sport Kultur Ehrenamt)
CLIENTS=4
for ((c = 0; c < CLIENTS; c++)); do : >"$WORK/load.$c.cfg"; done
for ((i = 1; i <= MEASURES; i++)); do
    w=${words[i % 10]}
    body=$(printf '{"title":"%s %d für Zugewanderte","description":"Maßnahme %d: %s im Quartier, mit Sprachmittlung und Kinderbetreuung; Benchmark-Daten.","fields_of_action":["%s"],"themes":["%s"],"status":"%s","progress":%d,"start_date":"2024-%02d-%02d","end_date":"2026-12-31","target_groups":["Geflüchtete","Familien"]}' \
        "$w" "$i" "$i" "$w" "${fields[i % 7]}" "${themes[i % 3]}" "${statuses[i % 4]}" \
        $((i % 101)) $((i % 12 + 1)) $((i % 28 + 1)))
    if ((i > CLIENTS)); then echo next >>"$WORK/load.$((i % CLIENTS)).cfg"; fi
    printf 'url = "%s/api/v1/measures"\nheader = "Authorization: Bearer %s"\nheader = "Content-Type: application/json"\ndata-binary = "%s"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' \
        "$ORIGIN" "$TOKEN" "${body//\"/\\\"}" >>"$WORK/load.$((i % CLIENTS)).cfg"
done

echo "== loading $MEASURES measures through POST /api/v1/measures ($CLIENTS clients)"
t0=$(date +%s.%N)
# shellcheck disable=SC2016 # $1 is for the inner sh
for ((c = 0; c < CLIENTS; c++)); do echo "$WORK/load.$c.cfg"; done |
    xargs -P"$CLIENTS" -I{} sh -c 'curl -sS -K "$1" >"$1.codes"' _ {} || true # counted below
t1=$(date +%s.%N)
created=$(cat "$WORK"/load.*.cfg.codes | grep -c '^201$' || true)
others=$(cat "$WORK"/load.*.cfg.codes | grep -v '^201$' | sort | uniq -c | tr -s ' \n' ' ' || true)
awk -v n="$created" -v a="$t0" -v b="$t1" \
    'BEGIN { printf "created %d measures in %.1f s (%.0f writes/s)\n", n, b - a, n / (b - a) }'
if ((created != MEASURES)); then
    echo "bench_list.sh: $((MEASURES - created)) writes failed (status counts:$others)" >&2
    exit 2
fi

list_url="$ORIGIN/api/v1/measures?limit=50"
check=$(curl -fsS "$list_url" | jq -c '{items: (.items | length), total}')
echo "list check: $check"
[[ $(jq .items <<<"$check") == 50 ]] || die "the list did not return 50 items"

# ---- measure ---------------------------------------------------------------------
run_wrk() { # NAME URL -> sets RATE, prints wrk's summary
    local name=$1 url=$2 out
    wrk -t"$THREADS" -c"$CONNECTIONS" -d2s "$url" >/dev/null # warm-up
    out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$url")
    echo "-- $name: $url"
    grep -E 'Latency|Req/Sec|requests in|Requests/sec|Transfer/sec|Non-2xx|Socket errors|^ +(50|99)%' <<<"$out" | sed 's/^/   /'
    if grep -q 'Non-2xx' <<<"$out"; then
        die "$name answered with errors"
    fi
    RATE=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
}

echo "== wrk -t$THREADS -c$CONNECTIONS -d$DURATION (after a 2 s warm-up each)"
run_wrk ceiling "$ORIGIN/healthz"
CEILING=$RATE
run_wrk list "$list_url"
LIST=$RATE

echo
echo "== result ($MEASURES measures)"
printf '  GET /healthz                   %10.0f req/s (ceiling)\n' "$CEILING"
printf '  GET /api/v1/measures?limit=50  %10.0f req/s\n' "$LIST"
pct=$(awk -v l="$LIST" -v c="$CEILING" 'BEGIN { printf "%.1f", 100 * l / c }')
echo "  ratio list/ceiling: $pct %"
if awk -v p="$pct" -v g="$GOAL" 'BEGIN { exit !(p >= g) }'; then
    echo "  verdict: goal met (list >= $GOAL% of ceiling)"
else
    echo "  verdict: goal NOT met (list < $GOAL% of ceiling)"
    ((CHECK)) && exit 1
fi
exit 0
