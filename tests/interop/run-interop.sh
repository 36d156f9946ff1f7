#!/usr/bin/env bash
# tests/interop/run-interop.sh: interop suite against Fedify 1.5.9, an independent
# ActivityPub implementation (tests/interop/peer.mjs).
#
#   DINET_BIN=build/dinet tests/interop/run-interop.sh
#
# Starts a dinet district node on a free loopback port and a Fedify peer, then checks:
#  (a)  Fedify follows the district actor by URL and accepts our signed Accept;
#  (b)  a measure created on the node reaches Fedify's inbox as Create(Article);
#  (b') our eddsa-jcs-2022 proof on its own: an activity from our outbox with a broken
#       HTTP signature is accepted (Fedify verifies the proof first), and the same
#       activity changed by one character after proving is refused;
#  (c)  the node follows the Fedify actor, Fedify accepts and sends a Create(Note),
#       and the node stores the Note.
#  (d)  the state aggregator's actor and a Group announce the district's measures.
#  (e)  discussion: Fedify replies to a measure → the reply waits in the moderation queue
#       → approved → on the district's measure page, in its outbox (and delivered to
#       Fedify, proof verified) and on the state node; Fedify's Flag counts as a report
#       and hides it at the threshold; a reply from a blocked domain is refused (403).
# One line per check, then "N passed, M failed". Exits non-zero on any failure and
# prints the logs of the node and the peer.
#
# Environment:
#   DINET_BIN              the dinet binary (default: build/dinet)
#   INTEROP_SAVE_EXAMPLES  1: also write the exchanged JSON to protocol-docs/examples/
#                          (it is always written to the temporary directory)
#   INTEROP_KEEP           1: keep the temporary directory
#   PEER_LOG_LEVEL         LogTape level for Fedify's "fedify" category (default warning)
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DINET_BIN=${DINET_BIN:-$ROOT/build/dinet}
SUITE_START=$SECONDS
SUITE_LIMIT=${INTEROP_TIME_LIMIT:-170} # seconds; the watchdog ends the suite after this

PASSED=0
FAILED=0
NODE_PID=
PEER_PID=
WATCHDOG_PID=
TMP=

pass() {
    PASSED=$((PASSED + 1))
    echo "ok    $*"
}
fail() {
    FAILED=$((FAILED + 1))
    echo "FAIL  $*"
}
note() { echo "      $*"; }

# check NAME COMMAND...: one line per check.
check() {
    local name=$1
    shift
    if "$@"; then pass "$name"; else fail "$name"; fi
}

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

show_logs() {
    [[ -n $TMP && -d $TMP ]] || return 0
    if [[ -f $TMP/node.log ]]; then
        echo "---- dinet node log (stdout+stderr) ----"
        tail -n 200 "$TMP/node.log"
    fi
    if [[ -f $TMP/peer.log ]]; then
        echo "---- Fedify peer log (stderr) ----"
        tail -n 200 "$TMP/peer.log"
    fi
    if [[ -n ${BASE:-} && -n ${TOKEN:-} ]]; then
        echo "---- node deliveries ----"
        curl -s --max-time 3 -H "Authorization: Bearer $TOKEN" \
            "$BASE/api/v1/federation/deliveries?state=failed" || true
        echo
        curl -s --max-time 3 -H "Authorization: Bearer $TOKEN" \
            "$BASE/api/v1/federation/deliveries?state=pending" || true
        echo
    fi
    if [[ -n ${PEER:-} ]]; then
        echo "---- Fedify peer inbox log ----"
        curl -s --max-time 3 "$PEER/inbox-log" | head -c 6000 || true
        echo
        echo "---- Fedify peer deliveries ----"
        curl -s --max-time 3 "$PEER/sent" | jq -c '.[] | {url, status, response}' 2>/dev/null |
            head -n 40 || true
    fi
}

FINISHED=0
finish() {
    local rc=$?
    ((FINISHED)) && return
    FINISHED=1
    # Cleaning up is not interrupted, not even by the watchdog.
    trap '' TERM INT
    if [[ -n $WATCHDOG_PID ]]; then
        local sleeper
        sleeper=$(pgrep -P "$WATCHDOG_PID" 2>/dev/null) # its sleep, by parent id
        kill "$WATCHDOG_PID" 2>/dev/null
        [[ -n $sleeper ]] && kill "$sleeper" 2>/dev/null
    fi
    if ((FAILED > 0 || (rc != 0 && rc != 1))); then
        show_logs
    fi
    stop_pid "$PEER_PID"
    stop_pid "${PEER2_PID:-}"
    stop_pid "$NODE_PID"
    stop_pid "${STATE_PID:-}"
    if [[ -n $TMP && -d $TMP ]]; then
        if [[ ${INTEROP_KEEP:-0} == 1 ]]; then
            echo "kept $TMP"
        else
            rm -rf "$TMP"
        fi
    fi
}
trap finish EXIT
# A reader that goes away (| head) must not kill the script before it cleans up.
trap '' PIPE
trap 'fail "suite: interrupted or over the time limit (${SUITE_LIMIT} s)"; echo "$PASSED passed, $FAILED failed"; exit 1' TERM INT

# ---- preconditions ------------------------------------------------------------------

for tool in node curl jq; do
    if ! command -v "$tool" >/dev/null; then
        fail "setup: $tool is not installed"
        echo "$PASSED passed, $FAILED failed"
        exit 1
    fi
done
if [[ ! -x $DINET_BIN ]]; then
    fail "setup: DINET_BIN=$DINET_BIN is not an executable (build first)"
    echo "$PASSED passed, $FAILED failed"
    exit 1
fi
if [[ ! -d $HERE/node_modules/@fedify/fedify ]]; then
    echo "== npm ci in tests/interop"
    (cd "$HERE" && timeout 300 npm ci --no-audit --no-fund) || {
        fail "setup: npm ci in tests/interop failed"
        echo "$PASSED passed, $FAILED failed"
        exit 1
    }
    SUITE_START=$SECONDS # the install does not count against the suite's limit
fi

# The watchdog keeps none of the script's output open, so a pipe reading the suite's
# output (tests/run.sh uses tee) ends with the suite, not with the watchdog's sleep.
(
    sleep "$SUITE_LIMIT"
    kill -TERM $$
) </dev/null >/dev/null 2>&1 &
WATCHDOG_PID=$!

TMP=$(mktemp -d "${TMPDIR:-/tmp}/dinet-interop.XXXXXX")
DATA=$TMP/node
EX=$TMP/examples
mkdir -p "$EX"

# ---- helpers ------------------------------------------------------------------------

# wait_for SECONDS COMMAND...: runs COMMAND every 0.2 s until it succeeds.
wait_for() {
    local limit=$1 deadline
    shift
    deadline=$((SECONDS + limit))
    while ((SECONDS < deadline)); do
        "$@" && return 0
        sleep 0.2
    done
    "$@"
}

api() { # METHOD PATH [JSON]: call the node's API with the admin token; body to stdout
    local m=$1 p=$2
    shift 2
    curl -sS --max-time 10 -X "$m" -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/json' ${1:+--data "$1"} "$BASE$p"
}

api_status() { # METHOD PATH JSON OUTFILE: prints the HTTP status, body into OUTFILE
    curl -sS --max-time 10 -o "$4" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/json' --data "$3" "$BASE$2"
}

peer_get() { curl -sS --max-time 10 "$PEER$1"; }

peer_post() { # PATH JSON OUTFILE: prints the HTTP status
    curl -sS --max-time 20 -o "$3" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
        --data "$2" "$PEER$1"
}

free_port() {
    node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# The entry of the peer's /received list that matches a jq filter, as JSON.
received_where() { peer_get /received | jq -c "[.[] | select($1)] | first // empty"; }
has_received() { [[ -n $(received_where "$1") ]]; }

# ---- start the dinet node -----------------------------------------------------------

start_node() {
    local port=$1
    BASE=http://127.0.0.1:$port
    rm -rf "$DATA"
    "$DINET_BIN" init --data "$DATA" --role district --district 15003 --base-url "$BASE" \
        --listen "127.0.0.1:$port" --allow-private 127.0.0.0/8 >"$TMP/init.log" 2>&1 ||
        return 1
    echo "retry_base_ms = 200" >>"$DATA/dinet.conf"
    TOKEN=$("$DINET_BIN" token create --data "$DATA" --role admin interop 2>>"$TMP/init.log") ||
        return 1
    "$DINET_BIN" serve --data "$DATA" >"$TMP/node.log" 2>&1 &
    NODE_PID=$!
    wait_for 10 grep -q '^listening on ' "$TMP/node.log" || {
        stop_pid "$NODE_PID"
        NODE_PID=
        return 1
    }
}

STARTED=0
for attempt in 1 2 3; do
    if start_node "$(free_port)"; then
        STARTED=1
        break
    fi
    note "node did not start (attempt $attempt), retrying on another port"
    cat "$TMP/init.log" "$TMP/node.log" 2>/dev/null | tail -n 5
done
if ((!STARTED)); then
    fail "setup: dinet node starts"
    echo "$PASSED passed, $FAILED failed"
    exit 1
fi
ACTOR=$BASE/actor
KEY_ID=$ACTOR#main-key
pass "setup: dinet node listens at $BASE (actor $ACTOR)"

# ---- start the Fedify peer ------------------------------------------------------------

(cd "$HERE" && exec node peer.mjs 0) >"$TMP/peer.out" 2>"$TMP/peer.log" &
PEER_PID=$!
if ! wait_for 20 grep -q '"port"' "$TMP/peer.out"; then
    fail "setup: Fedify peer starts"
    echo "$PASSED passed, $FAILED failed"
    exit 1
fi
PEER=$(jq -r .origin "$TMP/peer.out")
PEER_ACTOR=$(jq -r .actor "$TMP/peer.out")
pass "setup: Fedify $(jq -r .version "$HERE/node_modules/@fedify/fedify/package.json") peer listens at $PEER (actor $PEER_ACTOR)"

# A measure created before anybody follows: its Create is in our outbox, signed, but
# was never delivered to Fedify. (b') sends it by hand.
EARLY_TITLE="Sprachcafé im Stadtteil (Interop $RANDOM)"
code=$(api_status POST /api/v1/measures \
    "$(jq -nc --arg t "$EARLY_TITLE" '{title: $t, description: "Offener Treff für Deutsch im Alltag.", fields_of_action: ["HF1"], status: "active"}')" \
    "$TMP/m0.json")
check "setup: measure created before any follower (HTTP $code)" test "$code" = 201

# ---- (a) Fedify follows the district actor ---------------------------------------------

echo "== (a) Fedify follows $ACTOR"
code=$(peer_post /control/follow "$(jq -nc --arg t "$ACTOR" '{target: $t}')" "$TMP/a.json")
check "(a) Fedify looks up our actor by URL and sends a Follow (HTTP $code: $(head -c 200 "$TMP/a.json"))" \
    test "$code" = 200
FOLLOW_ID=$(jq -r '.follow // empty' "$TMP/a.json" 2>/dev/null)
# Waits for consequences are short when the step that causes them failed already.
W=10
[[ $code == 200 ]] || { W=2; note "Fedify: $(jq -r '.error // empty' "$TMP/a.json" 2>/dev/null)"; }
check "(a) Fedify reads our actor as an actor (type $(jq -r '.type // "?"' "$TMP/a.json" 2>/dev/null))" \
    test "$(jq -r '.type // empty' "$TMP/a.json" 2>/dev/null)" = Organization

follower_accepted() {
    api GET /api/v1/federation/followers |
        jq -e --arg a "$PEER_ACTOR" '.items[] | select(.actor == $a and .state == "accepted")' \
            >/dev/null 2>&1
}
check "(a) the node verified Fedify's Follow and lists it as an accepted follower" \
    wait_for "$W" follower_accepted

ACCEPT_Q='.type == "Accept" and .actor == "'"$ACTOR"'"'
check "(a) Fedify's inbox verified and accepted our signed Accept" wait_for "$W" has_received "$ACCEPT_Q"
ACCEPT=$(received_where "$ACCEPT_Q")
check "(a) the Accept's object is Fedify's Follow ($FOLLOW_ID)" \
    test "$(jq -r '.raw.object.id // .raw.object' <<<"${ACCEPT:-null}")" = "$FOLLOW_ID"
check "(a) Fedify's verifyObject verifies the Accept's eddsa-jcs-2022 proof" \
    test "$(jq -r .proofVerified <<<"${ACCEPT:-null}")" = true
check "(a) Fedify's verifyRequest verifies the Accept's HTTP signature" \
    test "$(jq -r .httpSignatureVerified <<<"${ACCEPT:-null}")" = true
accept_known() {
    peer_get /state | jq -e --arg a "$ACTOR" '.following[] | select(.actor == $a and .state == "accepted")' \
        >/dev/null 2>&1
}
check "(a) Fedify counts its follow of our actor as accepted" accept_known

# ---- (b) a measure reaches Fedify as Create(Article) ------------------------------------

echo "== (b) the district creates a measure"
TITLE="Elternlotsen an Grundschulen (Interop $RANDOM)"
code=$(api_status POST /api/v1/measures \
    "$(jq -nc --arg t "$TITLE" '{title: $t, description: "Mehrsprachige Elternlotsinnen begleiten zugewanderte Familien.\n\nZweiter Absatz.", fields_of_action: ["HF3", "HF5"], themes: ["QT2"], status: "active"}')" \
    "$TMP/m1.json")
check "(b) POST /api/v1/measures (HTTP $code)" test "$code" = 201
W=10
[[ $code == 201 ]] && accept_known || W=2
# shellcheck disable=SC2016 # $TITLE is a jq variable (--arg TITLE)
CREATE_Q='.type == "Create" and .actor == "'"$ACTOR"'" and .name == $TITLE'
create_received() { [[ -n $(peer_get /received | jq -c --arg TITLE "$TITLE" "[.[] | select($CREATE_Q)] | first // empty") ]]; }
check "(b) Fedify's inbox verified and accepted our Create" wait_for "$W" create_received
CREATE=$(peer_get /received | jq -c --arg TITLE "$TITLE" "[.[] | select($CREATE_Q)] | first // empty")
check "(b) Fedify reads the object as an Article (got $(jq -r '.objectType // "nothing"' <<<"${CREATE:-null}"))" \
    test "$(jq -r .objectType <<<"${CREATE:-null}")" = Article
check "(b) the Article's name is the measure's title" \
    test "$(jq -r .name <<<"${CREATE:-null}")" = "$TITLE"
check "(b) the Article is the measure's URL ($(jq -r .url "$TMP/m1.json"))" \
    test "$(jq -r .objectId <<<"${CREATE:-null}")" = "$(jq -r .url "$TMP/m1.json")"
check "(b) Fedify's verifyObject verifies the Create's proof" \
    test "$(jq -r .proofVerified <<<"${CREATE:-null}")" = true
check "(b) Fedify's verifyRequest verifies the Create's HTTP signature" \
    test "$(jq -r .httpSignatureVerified <<<"${CREATE:-null}")" = true

# ---- (b') the proof on its own ------------------------------------------------------------

echo "== (b') our proof alone, with a broken HTTP signature"
curl -sS --max-time 10 -H 'Accept: application/activity+json' "$ACTOR/outbox?page=true&limit=100" \
    >"$TMP/outbox.json"
jq --arg t "$EARLY_TITLE" '[.orderedItems[] | select(.type == "Create" and .object.name == $t)] | first // empty' \
    "$TMP/outbox.json" >"$TMP/early-create.json"
has_proof() { jq -e '.proof.cryptosuite == "eddsa-jcs-2022"' "$TMP/early-create.json" >/dev/null 2>&1; }
check "(b') our outbox holds the earlier measure's Create with a proof" has_proof
EARLY_ID=$(jq -r '.id // empty' "$TMP/early-create.json")
early_not_delivered() { ! has_received ".id == \"$EARLY_ID\""; }
check "(b') Fedify has not seen that Create yet" early_not_delivered

post_raw() { # OUT [options]: post early-create.json to Fedify's inbox as our actor
    local out=$1
    shift
    (cd "$HERE" && node post-activity.mjs --inbox "$PEER/users/peer/inbox" \
        --activity "$TMP/early-create.json" --key-id "$KEY_ID" --rsa-key "$DATA/keys/rsa.pem" \
        "$@") >"$TMP/$out.json" 2>"$TMP/$out.err"
    jq -r .status "$TMP/$out.json" 2>/dev/null || echo "error: $(head -c 300 "$TMP/$out.err")"
}

st=$(post_raw bp1 --break-signature)
check "(b'1) valid proof + broken HTTP signature: Fedify accepts (HTTP $st)" test "$st" = 202
B1=$(received_where ".id == \"$EARLY_ID\"")
check "(b'1) ... and the inbox listener got it, verified by the proof, not the signature" \
    test "$(jq -c '[.proofVerified, .httpSignatureVerified]' <<<"${B1:-null}")" = '[true,false]'

st=$(post_raw bp2 --break-signature --tamper-object)
check "(b'2) one character of the object changed after proving, same id: refused (HTTP $st)" \
    test "$st" = 401
st=$(post_raw bp3 --break-signature --tamper-object --fresh-id --out "$TMP/bp3-body.json")
check "(b'3) one character changed and a fresh id: refused (HTTP $st)" test "$st" = 401
BP3_ID=$(jq -r .id "$TMP/bp3.json" 2>/dev/null)
tampered_absent() { ! has_received ".id == \"$BP3_ID\""; }
check "(b'3) ... and no inbox listener saw it" tampered_absent
# Control: the refusals above come from the proof. The same tampered activity with a
# valid HTTP signature is accepted, because Fedify falls back to the signature.
st=$(post_raw bp4 --tamper-object --fresh-id)
check "(b'4) control: the tampered activity with a valid HTTP signature is accepted (HTTP $st)" \
    test "$st" = 202

# ---- (c) the district follows the Fedify actor -----------------------------------------

echo "== (c) the district follows $PEER_ACTOR"
code=$(api_status POST /api/v1/federation/following \
    "$(jq -nc --arg t "$PEER_ACTOR" '{target: $t}')" "$TMP/c.json")
check "(c) POST /api/v1/federation/following (HTTP $code: $(head -c 200 "$TMP/c.json"))" \
    test "$code" = 202
W=10
[[ $code == 202 ]] || W=2
peer_has_follower() {
    peer_get /state | jq -e --arg a "$ACTOR" '.followers[] | select(.id == $a)' >/dev/null 2>&1
}
check "(c) Fedify's inbox verified our Follow and recorded us as a follower" wait_for "$W" peer_has_follower
OUR_FOLLOW=$(received_where '.type == "Follow" and .actor == "'"$ACTOR"'"')
check "(c) Fedify's verifyObject verifies our Follow's proof" \
    test "$(jq -r .proofVerified <<<"${OUR_FOLLOW:-null}")" = true
following_accepted() {
    api GET /api/v1/federation/following |
        jq -e --arg a "$PEER_ACTOR" '.items[] | select(.actor == $a and .state == "accepted")' \
            >/dev/null 2>&1
}
check "(c) the node verified Fedify's Accept: following is accepted" wait_for "$W" following_accepted

MARKER="interop-$RANDOM-$RANDOM"
code=$(peer_post /control/note \
    "$(jq -nc --arg m "$MARKER" '{content: ("<p>Hallo Sachsen-Anhalt! Gruß vom Fedify-Testpeer (" + $m + ").</p>")}')" \
    "$TMP/note.json")
check "(c) Fedify sends a Create(Note) to its followers (HTTP $code: $(head -c 200 "$TMP/note.json"))" \
    test "$code" = 200
NOTE_ID=$(jq -r '.note // empty' "$TMP/note.json" 2>/dev/null)
note_delivered() {
    peer_get /sent | jq -e --arg id "$NOTE_ID" --arg b "$BASE" \
        '.[] | select(.activity.type == "Create" and .activity.object.id == $id and (.url | startswith($b)))' \
        >/dev/null 2>&1
}
W=10
[[ $code == 200 ]] || { W=2; note "Fedify: $(jq -r '.error // empty' "$TMP/note.json" 2>/dev/null)"; }
wait_for "$W" note_delivered
check "(c) our inbox answered Fedify's Create with 2xx (got $(peer_get /sent | jq -r --arg id "$NOTE_ID" '[.[] | select(.activity.object.id? == $id)] | first | .status // "nothing"'))" \
    test "$(peer_get /sent | jq -r --arg id "$NOTE_ID" '[.[] | select(.activity.object.id? == $id)] | first | .status // 0' | cut -c1)" = 2
note_stored() {
    api GET /api/v1/federation/objects |
        jq -e --arg id "$NOTE_ID" --arg a "$PEER_ACTOR" --arg m "$MARKER" \
            '.items[] | select(.id == $id and .actor == $a and .type == "Note" and (.object.content | contains($m)))' \
            >/dev/null 2>&1
}
check "(c) GET /api/v1/federation/objects shows Fedify's Note" wait_for "$W" note_stored

# ---- (d) the state aggregator: its actor and a Group announce to Fedify ------------------------

echo "== (d) the state node announces the district's measures"
SPORT=$(free_port)
SBASE=http://127.0.0.1:$SPORT
SDATA=$TMP/state
STATE_PID=
if "$DINET_BIN" init --data "$SDATA" --role state --base-url "$SBASE" --listen "127.0.0.1:$SPORT" \
    --allow-private 127.0.0.0/8 >"$TMP/state-init.log" 2>&1; then
    printf 'retry_base_ms = 200\nsync_interval = 1\n' >>"$SDATA/dinet.conf"
    "$DINET_BIN" serve --data "$SDATA" >"$TMP/state.log" 2>&1 &
    STATE_PID=$!
fi
check "(d) the state node starts" wait_for 10 grep -q '^listening on ' "$TMP/state.log"
check "(d) the district is registered on the state node (keys pinned, follow queued)" \
    "$DINET_BIN" district add --data "$SDATA" --code 15003 "$ACTOR"
state_synced() {
    curl -sS --max-time 5 "$SBASE/api/v1/districts" |
        jq -e '.items[0].records > 0 and .items[0].last_error == null' >/dev/null 2>&1
}
check "(d) the state backfilled the district's records" wait_for 20 state_synced
for target in "$SBASE/actor" "$SBASE/groups/HF2"; do
    code=$(peer_post /control/follow "$(jq -nc --arg t "$target" '{target: $t}')" "$TMP/d.json")
    check "(d) Fedify follows $target (HTTP $code, type $(jq -r '.type // "?"' "$TMP/d.json" 2>/dev/null))" \
        test "$code" = 200
    followed() {
        peer_get /state | jq -e --arg a "$1" '.following[] | select(.actor == $a and .state == "accepted")' \
            >/dev/null 2>&1
    }
    check "(d) ... and receives our verified Accept" wait_for 10 followed "$target"
done
STITLE="Integrationslotsen im Landkreis (Interop $RANDOM)"
code=$(api_status POST /api/v1/measures \
    "$(jq -nc --arg t "$STITLE" '{title: $t, fields_of_action: ["HF2"], status: "planned"}')" \
    "$TMP/m3.json")
check "(d) the district creates a measure in HF2 (HTTP $code)" test "$code" = 201
MURL=$(jq -r .url "$TMP/m3.json")
for who in "$SBASE/actor" "$SBASE/groups/HF2"; do
    ANN_Q='.type == "Announce" and .actor == "'"$who"'" and .objectId == "'"$MURL"'"'
    check "(d) Fedify's inbox verified an Announce of the measure by $who" \
        wait_for 20 has_received "$ANN_Q"
    check "(d) ... its eddsa-jcs-2022 proof verifies in Fedify" \
        test "$(received_where "$ANN_Q" | jq -r .proofVerified)" = true
    check "(d) ... its HTTP signature verifies in Fedify" \
        test "$(received_where "$ANN_Q" | jq -r .httpSignatureVerified)" = true
done
check "(d) Fedify reads the announced object as the district's Article" \
    test "$(received_where '.type == "Announce" and .objectId == "'"$MURL"'"' | jq -r .objectType)" = Article
if ((FAILED)); then
    echo "---- state node log (tail) ----"
    tail -n 30 "$TMP/state.log" 2>/dev/null
fi

# ---- (e) discussion: a reply from the fediverse, moderation, Flag, blocks ------------------

echo "== (e) Fedify replies to a measure"
MID=$(jq -r .id "$TMP/m3.json")
RMARK="Antwort-$RANDOM-$RANDOM"
code=$(peer_post /control/reply \
    "$(jq -nc --arg to "$ACTOR" --arg r "$MURL" --arg m "$RMARK" \
        '{to: $to, inReplyTo: $r, content: ("<p>Gute Idee! <script>alert(1)</script>" + $m + " &amp; mehr</p>")}')" \
    "$TMP/e1.json")
check "(e) Fedify sends a Create(Note) replying to the measure (HTTP $code, error $(jq -r '.error // "none"' "$TMP/e1.json" 2>/dev/null))" \
    test "$code" = 200 -a "$(jq -r '.error // empty' "$TMP/e1.json" 2>/dev/null)" = ""
RNOTE=$(jq -r '.note // empty' "$TMP/e1.json" 2>/dev/null)
queued() {
    api GET "/api/v1/moderation/queue?state=pending" |
        jq -e --arg m "$RMARK" --arg a "$PEER_ACTOR" \
            '.items[] | select((.content | contains($m)) and .author.actor == $a and .target.id != null)' \
            >/dev/null 2>&1
}
check "(e) the reply waits in the moderation queue (pending), author = the Fedify actor" wait_for 10 queued
CID=$(api GET "/api/v1/moderation/queue?state=pending" |
    jq -r --arg m "$RMARK" '[.items[] | select(.content | contains($m))] | first | .id // empty')
check "(e) its HTML became plain text (script removed, entities decoded)" \
    test "$(api GET "/api/v1/comments/$CID" | jq -r '.content')" = "Gute Idee! $RMARK & mehr"
public_has() { curl -sS --max-time 5 "$BASE/api/v1/measures/$MID/comments" | grep -q "$RMARK"; }
not_public() { ! public_has; }
check "(e) not public while pending" not_public
code=$(api_status POST "/api/v1/comments/$CID/moderation" '{"action":"approve"}' "$TMP/e2.json")
check "(e) a moderator approves it (HTTP $code)" test "$code" = 200
check "(e) approved: in the district's public list" wait_for 5 public_has
page_has() { curl -sS --max-time 5 "$BASE/measures/$MID" | grep -q "$RMARK"; }
check "(e) approved: on the district's measure page" page_has
page_inert() { ! curl -sS --max-time 5 "$BASE/measures/$MID" | grep -q '<script>alert'; }
check "(e) the page has no raw script from the reply" page_inert
OUT_Q='.type == "Create" and .object.type == "Note" and .object.comment.origin == "'"$RNOTE"'"'
in_outbox() {
    curl -sS --max-time 5 -H 'Accept: application/activity+json' "$ACTOR/outbox?page=true&limit=100" |
        jq -e "[.orderedItems[] | select($OUT_Q)] | length > 0" >/dev/null 2>&1
}
check "(e) approved: the district's outbox has a Create(Note) of it" in_outbox
state_has() { curl -sS --max-time 5 "$SBASE/api/v1/measures/$MID/comments" | grep -q "$RMARK"; }
check "(e) approved: replicated to the state node" wait_for 20 state_has
state_page_has() { curl -sS --max-time 5 "$SBASE/measures/$MID" | grep -q "$RMARK"; }
check "(e) approved: on the state's measure page" state_page_has
FED_Q='.type == "Create" and .actor == "'"$ACTOR"'" and .objectType == "Note" and .objectId == "'"$BASE/comments/$CID"'"'
check "(e) Fedify (a follower) receives the district's Note of the reply" wait_for 10 has_received "$FED_Q"
check "(e) ... its proof verifies in Fedify" \
    test "$(received_where "$FED_Q" | jq -r .proofVerified)" = true

echo "== (e) Fedify edits its reply"
EMARK="Bearbeitet-$RANDOM"
peer_post /control/update \
    "$(jq -nc --arg to "$ACTOR" --arg n "$RNOTE" --arg m "$EMARK" '{to: $to, note: $n, content: ("<p>" + $m + "</p>")}')" \
    "$TMP/e10.json" >/dev/null
edited_pending() {
    api GET "/api/v1/comments/$CID" |
        jq -e --arg m "$EMARK" '.content == $m and .status == "pending"' >/dev/null 2>&1
}
check "(e) Fedify's Update(Note) changes the comment and sends it back to moderation ($(jq -r '.error // "no error"' "$TMP/e10.json" 2>/dev/null))" \
    wait_for 10 edited_pending
check "(e) ... the old text is no longer public" not_public
check "(e) ... and the state removed it meanwhile" wait_for 20 bash -c "! curl -sS --max-time 5 '$SBASE/api/v1/measures/$MID/comments' | grep -q '$RMARK'"
code=$(api_status POST "/api/v1/comments/$CID/moderation" '{"action":"approve"}' "$TMP/e11.json")
check "(e) approved again (HTTP $code)" test "$code" = 200
state_has_edit() { curl -sS --max-time 5 "$SBASE/api/v1/measures/$MID/comments" | grep -q "$EMARK"; }
check "(e) the edited text reaches the state" wait_for 20 state_has_edit
RMARK=$EMARK # public_has, state_has and friends now look for the edited text

echo "== (e) Fedify flags the comment"
ETAG=$(curl -sS --max-time 5 -D - -o /dev/null "$BASE/api/v1/settings" | tr -d '\r' |
    awk 'tolower($1) == "etag:" {print $2}')
code=$(curl -sS --max-time 10 -o "$TMP/e3.json" -w '%{http_code}' -X PATCH \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -H "If-Match: $ETAG" \
    --data '{"moderation":{"auto_hide_reports":2}}' "$BASE/api/v1/settings")
check "(e) auto-hide threshold set to 2 reports (HTTP $code)" test "$code" = 200
code=$(api_status POST "/api/v1/comments/$CID/reports" '{"reason":"spam"}' "$TMP/e4.json")
check "(e) one local report (HTTP $code), still visible" test "$code" = 201 -a \
    "$(jq -r .status "$TMP/e4.json" 2>/dev/null)" = approved
code=$(peer_post /control/flag \
    "$(jq -nc --arg to "$ACTOR" --arg o "$BASE/comments/$CID" '{to: $to, object: $o, content: "spam"}')" \
    "$TMP/e5.json")
check "(e) Fedify sends a Flag of the comment (HTTP $code, error $(jq -r '.error // "none"' "$TMP/e5.json" 2>/dev/null))" \
    test "$code" = 200 -a "$(jq -r '.error // empty' "$TMP/e5.json" 2>/dev/null)" = ""
hidden_now() {
    api GET "/api/v1/comments/$CID" | jq -e '.status == "hidden" and (.moderation_reason | test("auto-hidden after 2"))' \
        >/dev/null 2>&1
}
check "(e) the Flag counts as the second report: the comment is hidden" wait_for 10 hidden_now
check "(e) hidden: no longer in the public list" not_public
state_lacks() { ! state_has; }
check "(e) hidden: removed on the state node (Delete)" wait_for 20 state_lacks

code=$(peer_post /control/flag \
    "$(jq -nc --arg to "$ACTOR" --arg o "$MURL" '{to: $to, object: $o, content: "off-topic"}')" \
    "$TMP/e13.json")
flagged_measure() {
    api GET "/api/v1/moderation/queue?state=flagged" |
        jq -e --arg m "$MID" --arg a "$PEER_ACTOR" \
            '.items[] | select(.target.id == $m and .target.kind == "measure" and (.reports[0].reporter == $a) and .reports[0].reason == "off-topic")' \
            >/dev/null 2>&1
}
check "(e) Fedify's Flag of the measure is a report in the moderators' queue (state=flagged)" \
    wait_for 10 flagged_measure

echo "== (e) Fedify deletes its reply"
peer_post /control/delete "$(jq -nc --arg to "$ACTOR" --arg n "$RNOTE" '{to: $to, note: $n}')" \
    "$TMP/e12.json" >/dev/null
deleted_now() {
    [[ $(curl -sS --max-time 5 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
        "$BASE/api/v1/comments/$CID") == 404 ]]
}
check "(e) Fedify's Delete deletes the comment ($(jq -r '.error // "no error"' "$TMP/e12.json" 2>/dev/null))" \
    wait_for 10 deleted_now

echo "== (e) replies per actor and hour are limited"
ETAG=$(curl -sS --max-time 5 -D - -o /dev/null "$BASE/api/v1/settings" | tr -d '\r' |
    awk 'tolower($1) == "etag:" {print $2}')
code=$(curl -sS --max-time 10 -o "$TMP/e8.json" -w '%{http_code}' -X PATCH \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -H "If-Match: $ETAG" \
    --data '{"moderation":{"rate_per_hour":1}}' "$BASE/api/v1/settings")
check "(e) rate limit set to 1 reply per hour (HTTP $code)" test "$code" = 200
LMARK="Zuviel-$RANDOM"
peer_post /control/reply \
    "$(jq -nc --arg to "$ACTOR" --arg r "$MURL" --arg m "$LMARK" '{to: $to, inReplyTo: $r, content: $m}')" \
    "$TMP/e9.json" >/dev/null
LNOTE=$(jq -r '.create // empty' "$TMP/e9.json" 2>/dev/null)
ST=$(peer_get /sent | jq -r --arg id "$LNOTE" '[.[] | select(.activity.id == $id)] | first | .status // 0')
check "(e) Fedify's second reply within the hour is refused (HTTP $ST)" test "$ST" = 403
over_not_queued() { ! api GET "/api/v1/moderation/queue?state=pending" | grep -q "$LMARK"; }
check "(e) ... and not stored" over_not_queued

echo "== (e) a blocked domain cannot comment"
code=$(api_status POST /api/v1/federation/blocks '{"pattern":"localhost","kind":"domain"}' "$TMP/e6.json")
check "(e) the domain localhost is blocked (HTTP $code)" test "$code" = 201
(cd "$HERE" && PEER_HOST=localhost exec node peer.mjs 0) >"$TMP/peer2.out" 2>"$TMP/peer2.log" &
PEER2_PID=$!
if wait_for 20 grep -q '"port"' "$TMP/peer2.out"; then
    PEER2=$(jq -r .origin "$TMP/peer2.out")
    BMARK="Blockiert-$RANDOM"
    curl -sS --max-time 20 -o "$TMP/e7.json" -X POST -H 'Content-Type: application/json' \
        --data "$(jq -nc --arg to "$ACTOR" --arg r "$MURL" --arg m "$BMARK" '{to: $to, inReplyTo: $r, content: $m}')" \
        "$PEER2/control/reply" >/dev/null
    ST=$(curl -sS --max-time 5 "$PEER2/sent" |
        jq -r --arg b "$BASE" '[.[] | select(.activity.type == "Create" and (.url | startswith($b)))] | first | .status // 0')
    check "(e) a reply from the blocked domain is refused with 403 (got $ST)" test "$ST" = 403
    not_queued() {
        ! api GET "/api/v1/moderation/queue?state=pending" | grep -q "$BMARK"
    }
    check "(e) ... and nothing of it is stored" not_queued
else
    fail "(e) a second Fedify peer on localhost starts"
fi

# ---- examples for protocol-docs -----------------------------------------------------------

save() { # NAME JSON
    [[ -n $2 && $2 != null ]] || return 0
    jq . <<<"$2" >"$EX/$1.json"
}
RECEIVED=$(peer_get /received)
SENT=$(peer_get /sent)
save dinet-accept "$(jq -c "[.[] | select($ACCEPT_Q)] | first | .raw" <<<"$RECEIVED")"
save dinet-accept.headers "$(jq -c "[.[] | select($ACCEPT_Q)] | first | .headers" <<<"$RECEIVED")"
save dinet-create-article "$(jq -c --arg TITLE "$TITLE" "[.[] | select($CREATE_Q)] | first | .raw" <<<"$RECEIVED")"
save dinet-create-article.headers "$(jq -c --arg TITLE "$TITLE" "[.[] | select($CREATE_Q)] | first | .headers" <<<"$RECEIVED")"
save dinet-follow "$(jq -c '[.[] | select(.type == "Follow" and .actor == "'"$ACTOR"'")] | first | .raw' <<<"$RECEIVED")"
save fedify-follow "$(jq -c --arg b "$BASE" '[.[] | select(.activity.type == "Follow" and (.url | startswith($b)))] | first | .activity' <<<"$SENT")"
save fedify-follow.headers "$(jq -c --arg b "$BASE" '[.[] | select(.activity.type == "Follow" and (.url | startswith($b)))] | first | .headers' <<<"$SENT")"
save fedify-accept "$(jq -c --arg b "$BASE" '[.[] | select(.activity.type == "Accept" and (.url | startswith($b)))] | first | .activity' <<<"$SENT")"
save fedify-create-note "$(jq -c --arg b "$BASE" '[.[] | select(.activity.type == "Create" and (.url | startswith($b)))] | first | .activity' <<<"$SENT")"
save dinet-create-tampered "$(cat "$TMP/bp3-body.json" 2>/dev/null)"
save dinet-create-comment-note "$(jq -c "[.[] | select($FED_Q)] | first | .raw" <<<"$RECEIVED")"
save fedify-reply-note "$(jq -c --arg b "$BASE" '[.[] | select(.activity.type == "Create" and .activity.object.inReplyTo != null and (.url | startswith($b)))] | first | .activity' <<<"$SENT")"
save fedify-flag "$(jq -c --arg b "$BASE" '[.[] | select(.activity.type == "Flag" and (.url | startswith($b)))] | first | .activity' <<<"$SENT")"
save dinet-announce-group "$(jq -c '[.[] | select(.type == "Announce" and (.actor | test("/groups/")))] | first | .raw' <<<"$RECEIVED")"
if [[ ${INTEROP_SAVE_EXAMPLES:-0} == 1 ]]; then
    mkdir -p "$ROOT/protocol-docs/examples"
    cp "$EX"/*.json "$ROOT/protocol-docs/examples/"
    note "examples written to protocol-docs/examples/: $(cd "$EX" && echo *.json)"
fi

echo "(suite took $((SECONDS - SUITE_START)) s)"
echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
