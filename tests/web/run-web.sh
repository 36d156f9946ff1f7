#!/usr/bin/env bash
# tests/web/run-web.sh: browser tests of admin-web against a real dinet node.
#
# Starts a fresh district node (temp dir, free loopback port) with an admin, an
# editor, a viewer and a moderator account, an editor API token and the sample data, then drives
# Debian's chromium through playwright-core (tests/web/web.test.mjs). The node serves
# admin-web itself at /admin/.
#
# Env: DINET_BIN (default: build/dinet), CHROMIUM (default: /usr/bin/chromium),
#      SCREENSHOT_DIR (default: tests/web/screenshots, git-ignored),
#      KEEP=1 keeps the node's temp dir, WEB_ONLY=REGEX runs only the matching tests
#      (and the first login test), e.g. WEB_ONLY=discussion.
# Ends with "N passed, M failed"; exits non-zero when anything failed.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DINET_BIN=${DINET_BIN:-$ROOT/build/dinet}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
export SCREENSHOT_DIR=${SCREENSHOT_DIR:-$HERE/screenshots}

fail_setup() {
    echo "web: $*" >&2
    echo "0 passed, 1 failed"
    exit 1
}

[[ -x $DINET_BIN ]] || fail_setup "no dinet binary at $DINET_BIN (build first, or set DINET_BIN)"
[[ -x $CHROMIUM ]] || fail_setup "no chromium at $CHROMIUM (apt-get install chromium)"
command -v node >/dev/null || fail_setup "node is not installed"
if [[ ! -d $HERE/node_modules/playwright-core || ! -d $HERE/node_modules/axe-core ]]; then
    echo "== npm install in tests/web"
    (cd "$HERE" && npm install --no-audit --no-fund) || fail_setup "npm install failed"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/dinet-web.XXXXXX")
SERVER_PID=
cleanup() {
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ ${KEEP:-0} == 1 ]]; then
        echo "web: kept $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

PORT=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
BASE="http://127.0.0.1:$PORT"
DATA="$WORK/node"

# --allow-private: the tests' fake fediverse actors live on 127.0.0.1 too.
"$DINET_BIN" init --data "$DATA" --role district --district 15003 --base-url "$BASE" \
    --listen "127.0.0.1:$PORT" --allow-private 127.0.0.0/8 >"$WORK/init.log" 2>&1 ||
    { cat "$WORK/init.log"; fail_setup "dinet init failed"; }
# Follow requests wait for approval, so the tests can approve one in the browser.
sed -i 's/^manual_approve = false$/manual_approve = true/' "$DATA/dinet.conf"
grep -q '^manual_approve = true$' "$DATA/dinet.conf" || fail_setup "cannot set manual_approve"

export ADMIN_PW='Admin-Elbe-2025!' EDITOR_PW='Redaktion-2025!' VIEWER_PW='Nur-Lesen-2025!' MODERATOR_PW='Moderation-2025!'
printf '%s\n' "$ADMIN_PW" | "$DINET_BIN" user add --data "$DATA" --role admin admin >/dev/null
printf '%s\n' "$EDITOR_PW" | "$DINET_BIN" user add --data "$DATA" --role editor redaktion.schmidt >/dev/null
printf '%s\n' "$VIEWER_PW" | "$DINET_BIN" user add --data "$DATA" --role viewer lesen.meier >/dev/null
printf '%s\n' "$MODERATOR_PW" | "$DINET_BIN" user add --data "$DATA" --role moderator moderation.lehmann >/dev/null
API_TOKEN=$("$DINET_BIN" token create --data "$DATA" --role editor web-tests | tail -n 1)
export API_TOKEN
"$DINET_BIN" sample --data "$DATA" >/dev/null || fail_setup "dinet sample failed"

# DINET_SHARE points the node at this checkout's admin-web/ and protocol-docs/.
DINET_SHARE="$ROOT" "$DINET_BIN" serve --data "$DATA" >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
    if node -e "fetch('$BASE/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))" 2>/dev/null; then
        break
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/serve.log"; fail_setup "dinet serve exited"; }
    sleep 0.1
done

export BASE CHROMIUM ADMIN_WEB="$ROOT/admin-web"
rc=0
(cd "$HERE" && timeout 172 node web.test.mjs) || rc=$?
# channel.test.mjs (coordinators' channel, events) runs after it on the same node.
if [[ -f $HERE/channel.test.mjs ]]; then
    (cd "$HERE" && DINET_BIN="$DINET_BIN" DATA="$DATA" timeout 120 node channel.test.mjs) || rc=$?
fi
if ((rc == 124)); then
    echo "web: the browser tests took longer than 172 s"
    echo "0 passed, 1 failed"
fi
if ((rc != 0)) && [[ -s $WORK/serve.log ]]; then
    echo "-- last lines of the node's log"
    tail -n 20 "$WORK/serve.log"
fi
exit "$rc"
