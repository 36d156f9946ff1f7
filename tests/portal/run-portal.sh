#!/usr/bin/env bash
# tests/portal/run-portal.sh: the public portal (issue 6) on a state node and a district node.
#
#   DINET_BIN=build/dinet tests/portal/run-portal.sh
#
# Starts a district node (15003 Magdeburg) with the sample data, one measure titled
# <script>alert(1)</script> and legal texts in its settings, and a state node (no settings,
# so its legal pages show the placeholders) that registers the district and replicates it.
# Then tests/portal/portal.test.mjs checks every page type over HTTP (status, content,
# escaping, no third-party references, feeds and sitemap as XML, the map table against
# /api/v1/stats) and in Debian's chromium through playwright-core (JavaScript off, axe-core,
# the request log, live filters, the report printed to PDF, screenshots).
# One line per check, then "N passed, M failed". Exits non-zero on any failure.
#
# Env: DINET_BIN (default build/dinet), CHROMIUM (default /usr/bin/chromium),
#      SCREENSHOT_DIR (default tests/portal/screenshots, git-ignored), PORTAL_KEEP=1 keeps
#      the temporary directory.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DINET_BIN=${DINET_BIN:-$ROOT/build/dinet}
export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
export SCREENSHOT_DIR=${SCREENSHOT_DIR:-$HERE/screenshots}

PASSED=0
FAILED=0
DIST_PID=
STATE_PID=
TMP=

pass() {
    PASSED=$((PASSED + 1))
    echo "ok    $*"
}
fail() {
    FAILED=$((FAILED + 1))
    echo "FAIL  $*"
}
check() { # NAME COMMAND...
    local name=$1
    shift
    if "$@"; then pass "$name"; else fail "$name"; fi
}
summary() { echo "$PASSED passed, $FAILED failed"; }

stop_pid() { # PID: TERM, then KILL after 3 s
    local pid=$1 i
    [[ -n $pid ]] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 30; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

FINISHED=0
finish() {
    ((FINISHED)) && return
    FINISHED=1
    trap '' TERM INT
    if ((FAILED > 0)) && [[ -n $TMP && -d $TMP ]]; then
        for f in district.log state.log; do
            [[ -f $TMP/$f ]] || continue
            echo "---- $f (tail) ----"
            tail -n 25 "$TMP/$f"
        done
    fi
    stop_pid "$DIST_PID"
    stop_pid "$STATE_PID"
    if [[ -n $TMP && -d $TMP ]]; then
        if [[ ${PORTAL_KEEP:-0} == 1 ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
    fi
}
trap finish EXIT
trap 'fail "suite: interrupted"; summary; exit 1' TERM INT

setup_fail() {
    fail "setup: $*"
    summary
    exit 1
}

# ---- preconditions ---------------------------------------------------------------

for tool in node curl jq; do
    command -v "$tool" >/dev/null || setup_fail "$tool is not installed"
done
[[ -x $DINET_BIN ]] || setup_fail "DINET_BIN=$DINET_BIN is not an executable (build first)"
[[ -x $CHROMIUM ]] || setup_fail "no chromium at $CHROMIUM (apt-get install chromium)"
if [[ ! -d $HERE/node_modules/playwright-core || ! -d $HERE/node_modules/axe-core ]]; then
    echo "== npm ci in tests/portal"
    (cd "$HERE" && timeout 300 npm ci --no-audit --no-fund) || setup_fail "npm ci in tests/portal failed"
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/dinet-portal.XXXXXX")

free_port() {
    node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

wait_for() { # SECONDS COMMAND...: every 0.2 s until COMMAND succeeds
    local deadline=$((SECONDS + $1))
    shift
    while ((SECONDS < deadline)); do
        "$@" && return 0
        sleep 0.2
    done
    "$@"
}

# ---- the district node -------------------------------------------------------------

start_node() { # ROLE DIR PORT LOG [init options...]: init and serve; sets STARTED_PID
    local role=$1 dir=$2 port=$3 log=$4
    shift 4
    "$DINET_BIN" init --data "$dir" --role "$role" "$@" --base-url "http://127.0.0.1:$port" \
        --listen "127.0.0.1:$port" --allow-private 127.0.0.0/8 >>"$TMP/init.log" 2>&1 || return 1
    printf 'retry_base_ms = 200\nsync_interval = 1\n' >>"$dir/dinet.conf"
    STARTED_PID=
    if [[ $role == district ]]; then
        "$DINET_BIN" sample --data "$dir" >>"$TMP/init.log" 2>&1 || return 1
    fi
    DINET_SHARE="$ROOT" "$DINET_BIN" serve --data "$dir" >"$log" 2>&1 &
    STARTED_PID=$!
    wait_for 10 grep -q '^listening on ' "$log"
}

DPORT=$(free_port)
DBASE=http://127.0.0.1:$DPORT
start_node district "$TMP/district" "$DPORT" "$TMP/district.log" --district 15003 ||
    setup_fail "district node starts ($(tail -n 3 "$TMP/init.log" "$TMP/district.log" 2>/dev/null))"
DIST_PID=$STARTED_PID
pass "setup: district node 15003 with the sample data at $DBASE"

TOKEN=$("$DINET_BIN" token create --data "$TMP/district" --role editor portal-tests 2>>"$TMP/init.log" | tail -n 1)
XSS='<script>alert(1)</script>'
code=$(curl -sS -o "$TMP/xss.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' "$DBASE/api/v1/measures" \
    --data "$(jq -nc --arg t "$XSS" '{title: $t, description: ("Beschreibung mit " + $t + " & \"Anführung\" <b>fett</b>"), fields_of_action: ["HF3"], status: "active", progress: 15, start_date: "2025-03-01", end_date: "2025-11-30"}')")
check "setup: a measure titled $XSS is created on the district (HTTP $code)" test "$code" = 201
XSS_ID=$(jq -r '.id // empty' "$TMP/xss.json")
curl -sS -o /dev/null -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    "$DBASE/api/v1/measures/$XSS_ID/progress" \
    --data "$(jq -nc --arg t "$XSS" '{date: "2025-06-01", title: $t, text: "Zwischenstand", progress: 15}')"

# Legal texts and the public contact on the district only, through the settings API
# that admin-web uses (the state keeps the placeholders). Impressum in German and
# English, the others in German only.
ADMIN=$("$DINET_BIN" token create --data "$TMP/district" --role admin portal-admin 2>>"$TMP/init.log" | tail -n 1)
ETAG=$(curl -sS -D - -o /dev/null -H "Authorization: Bearer $ADMIN" "$DBASE/api/v1/settings" |
    tr -d '\r' | sed -n 's/^[Ee][Tt][Aa][Gg]: *//p')
SETTINGS=$(jq -nc '{
  contact: {email: "integration@magdeburg.example", phone: "0391 540-0",
            address: "Alter Markt 6\n39104 Magdeburg"},
  texts: {
    impressum: {de: "Stadt Magdeburg, Integrationsbüro\nAlter Markt 6, 39104 Magdeburg\n\nVertreten durch den Oberbürgermeister.",
                en: "City of Magdeburg, integration office\nAlter Markt 6, 39104 Magdeburg"},
    privacy: {de: "Dieser Knoten speichert keine personenbezogenen Daten von Lesenden."},
    accessibility: {de: "Diese Website ist weitgehend barrierefrei."}}}')
code=$(curl -sS -o "$TMP/settings.json" -w '%{http_code}' -X PATCH -H "Authorization: Bearer $ADMIN" \
    -H 'Content-Type: application/json' -H "If-Match: ${ETAG:-\"0\"}" "$DBASE/api/v1/settings" --data "$SETTINGS")
if [[ $code == 200 ]]; then
    pass "setup: legal texts and the public contact set through PATCH /api/v1/settings"
    export LEGAL_SET=1
else
    fail "setup: PATCH /api/v1/settings (HTTP $code: $(head -c 300 "$TMP/settings.json"))"
    export LEGAL_SET=0
fi

# ---- the state node ---------------------------------------------------------------

SPORT=$(free_port)
SBASE=http://127.0.0.1:$SPORT
start_node state "$TMP/state" "$SPORT" "$TMP/state.log" ||
    setup_fail "state node starts ($(tail -n 3 "$TMP/init.log" "$TMP/state.log" 2>/dev/null))"
STATE_PID=$STARTED_PID
pass "setup: state node at $SBASE"
register() { "$DINET_BIN" district add --data "$TMP/state" --code 15003 "$DBASE/actor" >"$TMP/register.log" 2>&1; }
check "setup: the district is registered on the state node" register

# Replicated when the state holds as many live records as the district, the XSS
# measure's progress entry among them.
DCOUNT=$(curl -sS "$DBASE/api/v1/summary" | jq -r '.live // .count // 0')
replicated() {
    local s
    s=$(curl -sS --max-time 5 "$SBASE/api/v1/summary?district=15003" 2>/dev/null) || return 1
    [[ $(jq -r '.hash // empty' <<<"$s") == $(curl -sS --max-time 5 "$DBASE/api/v1/summary" | jq -r '.hash // empty') ]] &&
        [[ $(curl -sS --max-time 5 "$SBASE/api/v1/measures?q=alert&limit=1" | jq -r '.total') -ge 1 ]]
}
check "setup: the state replicated the district ($DCOUNT records)" wait_for 40 replicated

export DBASE SBASE XSS XSS_ID
RESULT=$TMP/node-result.txt
(cd "$HERE" && RESULT_FILE="$RESULT" timeout 420 node portal.test.mjs)
rc=$?
if [[ -f $RESULT ]]; then
    read -r np nf <"$RESULT"
    PASSED=$((PASSED + np))
    FAILED=$((FAILED + nf))
else
    fail "portal.test.mjs ended without results (exit $rc)"
fi
((rc != 0)) && ((FAILED == 0)) && fail "portal.test.mjs exited $rc"
summary
((FAILED == 0))
