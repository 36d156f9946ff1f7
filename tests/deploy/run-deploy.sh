#!/usr/bin/env bash
# tests/deploy/run-deploy.sh: the production deployment files.
#
#  1. systemd: `systemd-analyze security --offline=true` rates dinet.service and an
#     instance of dinet@.service at most MAX_EXPOSURE (2.0), and the directives the
#     deployment promises are there.
#  2. nginx: `nginx -t` accepts deploy/nginx/dinet.conf (in a temporary prefix with a
#     self-signed certificate); then nginx runs it in front of a real node: HTTP/2 over
#     TLS, gzip for /admin/ and /opendata/ but not for the API, HSTS, the body limit
#     (413), the ACME webroot and the https redirect on the plain port, /metrics refused
#     through the proxy without the token and answered with it (and directly from the
#     local host), nginx's login limit, and (with Node.js as an echoing upstream) the
#     forwarded Host, X-Real-IP (a forged one replaced), X-Forwarded-For and -Proto.
#  3. The man page: groff reports nothing, and it has a section for every command that
#     `dinet --help` lists.
#  4. The example configuration: with every key uncommented it is a valid dinet.conf,
#     and it names every key of the README's configuration table.
#  5. The Debian package: configured with deploy/cpack.cmake (PACKAGE=0 skips this
#     slow part), `cpack` builds it; it holds the expected files, depends on the
#     runtime libraries, its maintainer scripts pass `sh -n`, and the binary and man
#     page unpacked from it run.
#
# Env: DINET_BIN (default build/dinet), MAX_EXPOSURE, PACKAGE=0, KEEP=1 (keep the
# temporary directory). Installs nginx-light when it is missing and this runs as root.
# Ends with "N passed, M failed"; exits non-zero when anything failed.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DINET_BIN=${DINET_BIN:-$ROOT/build/dinet}
MAX_EXPOSURE=${MAX_EXPOSURE:-2.0}
PACKAGE=${PACKAGE:-1}
DEPLOY=$ROOT/deploy

PASSED=0
FAILED=0
ok() { PASSED=$((PASSED + 1)); echo "ok   $*"; }
bad() { FAILED=$((FAILED + 1)); echo "FAIL $*"; }
check() { # DESCRIPTION COMMAND...
    local what=$1
    shift
    if "$@" >/dev/null 2>&1; then ok "$what"; else bad "$what"; fi
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/dinet-deploy.XXXXXX")
NODE_PID=
NGINX_CONF=
cleanup() {
    if [[ -n $NGINX_CONF && -f $WORK/nginx/nginx.pid ]]; then
        nginx -p "$WORK/nginx" -c "$NGINX_CONF" -s stop 2>/dev/null || true
    fi
    if [[ -n $NODE_PID ]] && kill -0 "$NODE_PID" 2>/dev/null; then
        kill "$NODE_PID" 2>/dev/null
        wait "$NODE_PID" 2>/dev/null
    fi
    if [[ ${KEEP:-0} == 1 ]]; then echo "deploy: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

[[ -x $DINET_BIN ]] || { echo "deploy: no dinet binary at $DINET_BIN"; echo "0 passed, 1 failed"; exit 1; }

# A TCP port on 127.0.0.1 that nothing listens on.
free_port() {
    local p
    for _ in $(seq 1 200); do
        p=$((20000 + RANDOM % 30000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# The first line a background process wrote to FILE (waits up to 10 s).
first_line() {
    for _ in $(seq 1 100); do
        if [[ -s $1 ]] && IFS= read -r l <"$1"; then
            echo "$l"
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# ---- 1. systemd ---------------------------------------------------------------------

echo "== systemd units"
if command -v systemd-analyze >/dev/null; then
    cp "$DEPLOY/dinet.service" "$WORK/dinet.service"
    cp "$DEPLOY/dinet@.service" "$WORK/dinet@15003.service"
    for unit in dinet.service dinet@15003.service; do
        out=$(cd "$WORK" && systemd-analyze security --offline=true "$unit" 2>&1)
        score=$(sed -nE 's/.*Overall exposure level for [^:]*: ([0-9.]+).*/\1/p' <<<"$out")
        if [[ -n $score ]] && awk -v s="$score" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s <= m) }'; then
            ok "$unit: systemd-analyze security exposure $score <= $MAX_EXPOSURE"
        else
            bad "$unit: systemd-analyze security exposure '${score:-none}' (want <= $MAX_EXPOSURE)"
            tail -n 5 <<<"$out"
        fi
    done
else
    bad "systemd-analyze is not installed"
fi
for unit in dinet.service dinet@.service; do
    missing=()
    for d in 'User=dinet' 'ProtectSystem=strict' 'ReadWritePaths=/var/lib/dinet' \
        'NoNewPrivileges=yes' 'PrivateTmp=yes' 'ProtectHome=yes' \
        'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' 'SystemCallFilter=@system-service' \
        'MemoryDenyWriteExecute=yes' 'CapabilityBoundingSet=$' 'ExecStart=/usr/bin/dinet serve --data /var/lib/dinet'; do
        grep -qE "^${d}" "$DEPLOY/$unit" || missing+=("$d")
    done
    if ((${#missing[@]} == 0)); then ok "$unit has the promised directives"; else bad "$unit lacks: ${missing[*]}"; fi
done

# ---- 2. nginx -----------------------------------------------------------------------

echo "== nginx"
if ! command -v nginx >/dev/null && ((EUID == 0)) && command -v apt-get >/dev/null; then
    echo "deploy: installing nginx-light"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx-light \
        >"$WORK/apt.log" 2>&1 || { apt-get update >/dev/null 2>&1 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx-light \
            >"$WORK/apt.log" 2>&1; }
fi
if command -v nginx >/dev/null && command -v openssl >/dev/null && command -v curl >/dev/null; then
    N=$WORK/nginx
    mkdir -p "$N/certs" "$N/logs" "$N/acme/.well-known/acme-challenge"
    HOST=integration.example.de
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$HOST" \
        -addext "subjectAltName=DNS:$HOST" -keyout "$N/certs/privkey.pem" \
        -out "$N/certs/fullchain.pem" >/dev/null 2>&1
    echo acme-token-42 >"$N/acme/.well-known/acme-challenge/t42"

    # The node behind nginx: its base_url is the public https origin.
    DATA=$WORK/node
    "$DINET_BIN" init --data "$DATA" --role district --district 15003 \
        --base-url "https://$HOST" >"$WORK/init.log" 2>&1
    TOKEN=metrics-$RANDOM$RANDOM$RANDOM
    DINET_SHARE=$ROOT DINET_METRICS_TOKEN=$TOKEN "$DINET_BIN" serve --data "$DATA" \
        --listen 127.0.0.1:0 >"$WORK/serve.out" 2>"$WORK/serve.log" &
    NODE_PID=$!
    line=$(first_line "$WORK/serve.out")
    UP=${line##*:}
    HTTP_PORT=$(free_port)
    HTTPS_PORT=$(free_port)
    [[ $HTTPS_PORT == "$HTTP_PORT" ]] && HTTPS_PORT=$(free_port)
    if [[ $line != "listening on"* ]]; then
        bad "the node behind nginx starts: '$line'"
    fi

    # The site as shipped, with this test's certificate, logs, webroot and ports.
    sed -e "s#/etc/letsencrypt/live/$HOST#$N/certs#" \
        -e "s#/var/log/nginx#$N/logs#" \
        -e "s#root /var/www/html;#root $N/acme;#" \
        -e "s/listen 80;/listen $HTTP_PORT;/" -e "s/listen \[::\]:80;/listen [::]:$HTTP_PORT;/" \
        -e "s/443/$HTTPS_PORT/g" -e "s/127.0.0.1:8080/127.0.0.1:$UP/" \
        "$DEPLOY/nginx/dinet.conf" >"$N/dinet.conf"
    # What a Debian nginx.conf gives a site: gzip on (the site must turn it off).
    NGINX_CONF=$N/nginx.conf
    {
        echo "pid $N/nginx.pid;"
        echo "error_log $N/logs/error.log;"
        ((EUID == 0)) && echo "user root;"
        echo "events {}"
        echo "http {"
        echo "    include /etc/nginx/mime.types;"
        echo "    gzip on;"
        for t in client_body proxy fastcgi uwsgi scgi; do echo "    ${t}_temp_path $N/$t;"; done
        echo "    include $N/dinet.conf;"
        echo "}"
    } >"$NGINX_CONF"
    if nginx -t -p "$N" -c "$NGINX_CONF" >"$WORK/nginx-t.log" 2>&1; then
        ok "nginx -t accepts deploy/nginx/dinet.conf"
    else
        bad "nginx -t: $(tail -n 3 "$WORK/nginx-t.log")"
    fi
    if nginx -p "$N" -c "$NGINX_CONF" 2>"$WORK/nginx-start.log"; then
        for _ in $(seq 1 50); do [[ -s $N/nginx.pid ]] && break; sleep 0.1; done
        C=(curl -s --max-time 10 --resolve "$HOST:$HTTPS_PORT:127.0.0.1" --cacert "$N/certs/fullchain.pem")
        U=https://$HOST:$HTTPS_PORT
        v=$("${C[@]}" -o /dev/null -w '%{http_version} %{http_code}' "$U/healthz")
        [[ $v == "2 200" ]] && ok "HTTP/2 over TLS to /healthz" || bad "HTTP/2 over TLS to /healthz: $v"
        h=$("${C[@]}" -D - -o /dev/null -H 'Accept-Encoding: gzip' "$U/admin/")
        grep -qi '^content-encoding: gzip' <<<"$h" && ok "gzip for /admin/" || bad "gzip for /admin/"
        grep -qi '^strict-transport-security: max-age=' <<<"$h" && ok "HSTS" || bad "HSTS"
        grep -qi '^content-security-policy:' <<<"$h" && ok "dinet's own headers pass" || bad "CSP header"
        h=$("${C[@]}" -D - -o /dev/null -H 'Accept-Encoding: gzip' "$U/opendata/")
        grep -qi '^content-encoding: gzip' <<<"$h" && ok "gzip for /opendata/" || bad "gzip for /opendata/"
        h=$("${C[@]}" -D - -o /dev/null -H 'Accept-Encoding: gzip' "$U/api/v1/taxonomy")
        if grep -qi '^HTTP/2 200' <<<"$h" && ! grep -qi '^content-encoding' <<<"$h"; then
            ok "no gzip for the API"
        else
            bad "no gzip for the API: $(head -n 1 <<<"$h")"
        fi
        s=$(head -c 1100000 /dev/zero | "${C[@]}" -o /dev/null -w '%{http_code}' -X POST \
            -H 'Content-Type: application/json' --data-binary @- "$U/api/v1/measures")
        [[ $s == 413 ]] && ok "a body over 1 MiB is refused (413)" || bad "body limit: $s"
        s=$("${C[@]}" -o /dev/null -w '%{http_code}' "$U/metrics")
        [[ $s == 403 ]] && ok "/metrics through nginx without the token: 403" || bad "/metrics through nginx: $s"
        s=$("${C[@]}" -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$U/metrics")
        [[ $s == 200 ]] && ok "/metrics through nginx with the token: 200" || bad "/metrics with token: $s"
        s=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$UP/metrics")
        [[ $s == 200 ]] && ok "/metrics directly from the local host: 200" || bad "/metrics local: $s"
        r=$(curl -s --max-time 5 -o /dev/null -w '%{http_code} %{redirect_url}' -H "Host: $HOST" \
            "http://127.0.0.1:$HTTP_PORT/api/v1/node")
        [[ $r == "301 https://$HOST/api/v1/node" ]] && ok "port 80 redirects to https" || bad "redirect: $r"
        a=$(curl -s --max-time 5 -H "Host: $HOST" "http://127.0.0.1:$HTTP_PORT/.well-known/acme-challenge/t42")
        [[ $a == acme-token-42 ]] && ok "ACME challenges from the webroot" || bad "ACME webroot: '$a'"
        s=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' --resolve "other.example:$HTTPS_PORT:127.0.0.1" -k \
            "https://other.example:$HTTPS_PORT/")
        [[ $s == 000 ]] && ok "TLS for another host name is refused" || bad "other host name: $s"
        # nginx's own limit on logins: 20 a minute with a burst of 10, per address.
        # 14 at once (a failed login costs dinet a password hash, about a second):
        # 11 reach dinet (401), nginx refuses the rest (429).
        pids=()
        for i in $(seq 1 14); do
            "${C[@]}" -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' \
                -d "{\"name\":\"nobody$i\",\"password\":\"falsch-falsch\"}" \
                "$U/api/v1/session" >"$WORK/login.$i" &
            pids+=($!)
        done
        wait "${pids[@]}"
        n401=$(cat "$WORK"/login.* | grep -c 401)
        n429=$(cat "$WORK"/login.* | grep -c 429)
        [[ $n401 == 11 && $n429 == 3 ]] && ok "nginx limits logins per address (11 x 401, 3 x 429)" ||
            bad "login limit: $n401 x 401, $n429 x 429"
        # The forwarded headers, seen by an upstream that echoes them (Node.js).
        if command -v node >/dev/null; then
            nginx -p "$N" -c "$NGINX_CONF" -s stop 2>/dev/null
            for _ in $(seq 1 50); do [[ -e $N/nginx.pid ]] || break; sleep 0.1; done
            node -e '
                const s = require("http").createServer((q, r) => r.end(JSON.stringify(q.headers)));
                s.listen(0, "127.0.0.1", () => console.log(s.address().port));' >"$WORK/echo.out" &
            ECHO_PID=$!
            EP=$(first_line "$WORK/echo.out")
            sed -i "s/127.0.0.1:$UP/127.0.0.1:$EP/" "$N/dinet.conf"
            if [[ -n $EP ]] && nginx -p "$N" -c "$NGINX_CONF" 2>>"$WORK/nginx-start.log"; then
                for _ in $(seq 1 50); do [[ -s $N/nginx.pid ]] && break; sleep 0.1; done
                e=$("${C[@]}" -H 'X-Real-IP: 203.0.113.66' -H 'X-Forwarded-For: 203.0.113.66' "$U/x")
                grep -q "\"host\":\"$HOST\"" <<<"$e" && ok "Host reaches the node as the client sent it" ||
                    bad "Host: $e"
                grep -q '"x-real-ip":"127.0.0.1"' <<<"$e" && ok "X-Real-IP is the peer, a forged one is replaced" ||
                    bad "X-Real-IP: $e"
                grep -q '"x-forwarded-for":"203.0.113.66, 127.0.0.1"' <<<"$e" && ok "X-Forwarded-For is appended to" ||
                    bad "X-Forwarded-For: $e"
                grep -q '"x-forwarded-proto":"https"' <<<"$e" && ok "X-Forwarded-Proto https" ||
                    bad "X-Forwarded-Proto: $e"
            else
                bad "nginx in front of an echoing upstream"
            fi
            kill "$ECHO_PID" 2>/dev/null
            wait "$ECHO_PID" 2>/dev/null
        fi
    else
        bad "nginx starts: $(tail -n 3 "$WORK/nginx-start.log")"
    fi
else
    bad "nginx, openssl or curl is not installed"
fi

# ---- 3. the man page ------------------------------------------------------------------

echo "== man page"
if command -v groff >/dev/null; then
    warn=$(groff -man -Tutf8 -ww -z "$DEPLOY/dinet.1" 2>&1)
    [[ -z $warn ]] && ok "groff reports nothing on dinet.1" || bad "groff: $warn"
else
    bad "groff is not installed"
fi
cmds=$("$DINET_BIN" --help | sed -nE 's/^  ([a-z]+) .*/\1/p')
missing=()
for c in $cmds; do
    grep -q "^\.SS $c\$" "$DEPLOY/dinet.1" || missing+=("$c")
done
if [[ -n $cmds ]] && ((${#missing[@]} == 0)); then
    ok "dinet.1 covers every command of dinet --help ($(echo $cmds))"
else
    bad "dinet.1 lacks commands: ${missing[*]:-(dinet --help listed none)}"
fi

# ---- 4. the example configuration ----------------------------------------------------

echo "== dinet.conf.example"
EX=$WORK/example
"$DINET_BIN" init --data "$EX" --role district --district 15003 --base-url https://x.example \
    >/dev/null 2>&1
# Every "#key = value" line becomes a setting, except keys dinet does not know yet.
sed -E 's/^#([a-z_]+ = .+)$/\1/' "$DEPLOY/dinet.conf.example" |
    grep -vE '^metrics_token =' >"$EX/dinet.conf"
if out=$("$DINET_BIN" info --data "$EX" 2>&1); then
    ok "the example configuration with every key set is valid"
else
    bad "the example configuration: $out"
fi
missing=()
for k in $(sed -nE 's/^\| `([a-z_]+)` \|.*/\1/p' "$ROOT/README.md"); do
    grep -qE "^#?$k =" "$DEPLOY/dinet.conf.example" || missing+=("$k")
done
((${#missing[@]} == 0)) && ok "the example names every key of the README" || bad "example lacks: ${missing[*]}"

# ---- 5. the Debian package --------------------------------------------------------------

echo "== Debian package"
if ((PACKAGE)) && command -v cpack >/dev/null && command -v dpkg-deb >/dev/null; then
    # A copy of the tree that includes deploy/cpack.cmake (whether or not
    # CMakeLists.txt does already).
    T=$WORK/tree
    mkdir -p "$T"
    tar -C "$ROOT" --exclude='./build*' --exclude='./demo' --exclude='*/node_modules' \
        --exclude='./.git' --exclude-tag-all=CMakeCache.txt -cf - . | tar -C "$T" -xf -
    grep -q 'deploy/cpack.cmake' "$T/CMakeLists.txt" || echo 'include(deploy/cpack.cmake)' >>"$T/CMakeLists.txt"
    if (cmake -S "$T" -B "$T/b" -DDINET_TESTS=OFF -DCMAKE_INSTALL_PREFIX=/usr &&
        cmake --build "$T/b" -j"${JOBS:-2}" && cd "$T/b" && cpack) >"$WORK/cpack.log" 2>&1; then
        DEB=$(ls "$T"/b/dinet_*.deb 2>/dev/null | head -n 1)
    else
        DEB=
        tail -n 20 "$WORK/cpack.log"
    fi
    if [[ -n $DEB ]]; then
        ok "cpack builds $(basename "$DEB")"
        contents=$(dpkg-deb --contents "$DEB" | awk '{print $6}')
        missing=()
        for f in ./usr/bin/dinet ./usr/share/dinet/admin-web/index.html \
            ./usr/share/dinet/protocol-docs/openapi.json ./lib/systemd/system/dinet.service \
            ./lib/systemd/system/dinet@.service ./usr/share/man/man1/dinet.1.gz \
            ./etc/dinet/dinet.conf.example ./usr/share/dinet/nginx/dinet.conf; do
            grep -qxF "$f" <<<"$contents" || missing+=("$f")
        done
        ((${#missing[@]} == 0)) && ok "the package holds the expected files" || bad "package lacks: ${missing[*]}"
        dep=$(dpkg-deb -f "$DEB" Depends)
        missing=()
        for p in libmicrohttpd12 libsqlite3-0 libjansson4 libsodium23 libcurl4 libssl3; do
            grep -q "\b$p\b" <<<"$dep" || missing+=("$p")
        done
        ((${#missing[@]} == 0)) && ok "Depends: $dep" || bad "Depends lacks: ${missing[*]}"
        mkdir -p "$WORK/ctl" "$WORK/x"
        dpkg-deb -e "$DEB" "$WORK/ctl"
        check "postinst, prerm and postrm pass sh -n" sh -c "sh -n '$WORK/ctl/postinst' && sh -n '$WORK/ctl/prerm' && sh -n '$WORK/ctl/postrm'"
        check "postinst creates the user dinet" grep -q 'useradd --system' "$WORK/ctl/postinst"
        check "the example configuration is a conffile" grep -qx /etc/dinet/dinet.conf.example "$WORK/ctl/conffiles"
        dpkg-deb -x "$DEB" "$WORK/x"
        v=$("$WORK/x/usr/bin/dinet" --version 2>&1)
        [[ $v == "dinet "* ]] && ok "the packaged binary runs: $v" || bad "packaged dinet --version: $v"
        if command -v man >/dev/null; then
            m=$(MANWIDTH=80 man -l "$WORK/x/usr/share/man/man1/dinet.1.gz" 2>/dev/null | head -n 5)
            grep -q 'dinet' <<<"$m" && ok "man -l on the packaged man page" || bad "man -l: $m"
        fi
    else
        bad "cpack builds the package (see above)"
    fi
else
    echo "(package: skipped: PACKAGE=0 or no cpack/dpkg-deb)"
fi

echo "deploy: $PASSED passed, $FAILED failed"
((FAILED == 0))
