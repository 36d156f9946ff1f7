#!/usr/bin/env bash
# deploy/demo.sh: a demo network of dinet nodes on this machine (127.0.0.1).
#
#   deploy/demo.sh [start] [--dir DIR] [--base-port N]   create or restart the network
#   deploy/demo.sh status  [--dir DIR]                    show which nodes run
#   deploy/demo.sh stop    [--dir DIR]                    stop the nodes
#   deploy/demo.sh reset   [--dir DIR]                    stop the nodes and delete DIR
#
# start installs missing Debian packages (as root; otherwise it prints the apt-get
# command), builds build/dinet, and for each node of the network creates its data
# directory DIR/CODE (dinet init), an admin account with a generated password (kept in
# DIR/credentials.txt, mode 0600), loads the sample data (Beispieldaten) and runs
# 'dinet serve' in the background (log DIR/CODE/serve.log, pid DIR/CODE/serve.pid).
# Running start again reuses the network: it starts stopped nodes and neither
# re-initialises nor re-seeds them.
#
# Defaults: DIR=./demo, N=8400. Ports: the state node (code 15) listens on N, the
# districts on N+1, N+2, ... in the order of NODES below.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# The nodes of the demo network, by Kreisschlüssel ("15" is the state aggregator).
# Ports follow from this order (see port_for).
NODES=(15003)

DEB_PACKAGES=(build-essential cmake pkg-config libmicrohttpd-dev libsqlite3-dev libjansson-dev
    libsodium-dev libcurl4-openssl-dev libssl-dev curl jq)

HOST=127.0.0.1
ACTION=start
DIR=./demo
BASE_PORT=8400
PORT_GIVEN=0

usage() {
    sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

die() {
    echo "demo.sh: $*" >&2
    exit 1
}

while (($#)); do
    case $1 in
    start | stop | status | reset) ACTION=$1 ;;
    --dir)
        (($# >= 2)) || die "--dir needs a directory"
        DIR=$2
        shift
        ;;
    --dir=*) DIR=${1#--dir=} ;;
    --base-port)
        (($# >= 2)) || die "--base-port needs a number"
        BASE_PORT=$2
        PORT_GIVEN=1
        shift
        ;;
    --base-port=*)
        BASE_PORT=${1#--base-port=}
        PORT_GIVEN=1
        ;;
    -h | --help)
        usage
        exit 0
        ;;
    *)
        usage >&2
        die "unknown argument '$1'"
        ;;
    esac
    shift
done

if ! [[ $BASE_PORT =~ ^[0-9]{1,5}$ ]] || ((BASE_PORT < 1024 || BASE_PORT + ${#NODES[@]} > 65535)); then
    die "--base-port must be a number from 1024 to $((65535 - ${#NODES[@]}))"
fi
[[ -n $DIR ]] || die "--dir must not be empty"

BIN=$ROOT/build/dinet

# ---- helpers -------------------------------------------------------------------

port_for() { # CODE -> port
    local code=$1 idx=0 c
    if [[ $code == 15 ]]; then
        echo "$BASE_PORT"
        return
    fi
    for c in "${NODES[@]}"; do
        [[ $c == 15 ]] && continue
        idx=$((idx + 1))
        if [[ $c == "$code" ]]; then
            echo $((BASE_PORT + idx))
            return
        fi
    done
    die "node $code is not in NODES"
}

# The node directories that exist in DIR (whatever NODES says now).
existing_nodes() {
    local d
    for d in "$DIR"/*/; do
        [[ -f $d/dinet.conf ]] && basename "$d"
    done
    return 0
}

# Prints the pid recorded for a node if that process is still its 'dinet serve'.
# A pid whose process has ended or now belongs to another program is not ours.
running_pid() { # NODEDIR
    local nd=$1 pid cmdline
    [[ -f $nd/serve.pid ]] || return 1
    pid=$(<"$nd/serve.pid")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ -r /proc/$pid/cmdline ]] || return 1
    cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)
    [[ $cmdline == *"dinet serve --data $nd "* || $cmdline == *"dinet serve --data $nd" ]] || return 1
    echo "$pid"
}

conf_get() { # NODEDIR KEY
    sed -n "s/^[[:space:]]*$2[[:space:]]*=[[:space:]]*//p" "$1/dinet.conf" | tail -n 1
}

pkg_present() {
    [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == "install ok installed" ]]
}

install_packages() {
    local missing=() p
    for p in "${DEB_PACKAGES[@]}"; do
        pkg_present "$p" || missing+=("$p")
    done
    ((${#missing[@]})) || return 0
    local cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
    if ((EUID != 0)); then
        echo "demo.sh: missing Debian packages: ${missing[*]}" >&2
        echo "run as root:" >&2
        echo "  $cmd" >&2
        exit 1
    fi
    echo "== installing Debian packages: ${missing[*]}"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}

build_dinet() {
    echo "== building $ROOT/build/dinet"
    # RelWithDebInfo (-O2 -g) is what tests/run.sh builds in build/ too, so the two
    # share one tree instead of rebuilding each other's objects.
    cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$ROOT/build" -j2 --target dinet >/dev/null
}

gen_password() {
    local p
    p=$(head -c 48 /dev/urandom | base64 -w0 | tr -dc 'A-Za-z0-9' | cut -c1-20)
    ((${#p} >= 16)) || die "could not generate a password"
    echo "$p"
}

wait_healthy() { # NODEDIR PORT PID
    local nd=$1 port=$2 pid=$3 i
    for ((i = 0; i < 150; i++)); do
        if curl -fsS -o /dev/null --max-time 1 "http://$HOST:$port/healthz" 2>/dev/null; then
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "demo.sh: the node in $nd stopped while starting; end of $nd/serve.log:" >&2
            tail -n 20 "$nd/serve.log" >&2 || true
            return 1
        fi
        sleep 0.2
    done
    echo "demo.sh: the node in $nd did not answer /healthz on port $port within 30 s" >&2
    return 1
}

# Creates (once) and starts (if stopped) one node.
start_node() { # CODE PORT
    local code=$1 port=$2
    local nd=$DIR/$code url="http://$HOST:$port" role=district
    [[ $code == 15 ]] && role=state

    if [[ ! -f $nd/dinet.conf ]]; then
        echo "== creating node $code ($role) in $nd"
        "$BIN" init --data "$nd" --role "$role" --district "$code" --base-url "$url" \
            --listen "$HOST:$port" --allow-private 127.0.0.0/8
    else
        local have
        have=$(conf_get "$nd" base_url)
        [[ $have == "$url" ]] ||
            die "node $code in $nd was created for $have, not $url; use the same --base-port or 'demo.sh reset'"
    fi

    if ! grep -q "^$code admin " "$DIR/credentials.txt" 2>/dev/null; then
        local pw
        pw=$(gen_password)
        printf '%s\n' "$pw" | "$BIN" user add --data "$nd" --role admin admin >/dev/null
        printf '%s admin %s %s/admin/\n' "$code" "$pw" "$url" >>"$DIR/credentials.txt"
    fi

    if [[ ! -f $nd/.sample-loaded ]]; then
        "$BIN" sample --data "$nd"
        touch "$nd/.sample-loaded"
    fi

    local pid
    if pid=$(running_pid "$nd"); then
        echo "node $code is running (pid $pid)"
    else
        echo "== starting node $code on $url"
        nohup "$BIN" serve --data "$nd" --listen "$HOST:$port" >>"$nd/serve.log" 2>&1 </dev/null &
        pid=$!
        echo "$pid" >"$nd/serve.pid"
        wait_healthy "$nd" "$port" "$pid" || return 1
    fi
}

print_node() { # CODE
    local code=$1 nd=$DIR/$1 url handle name pw
    url=$(conf_get "$nd" base_url)
    name=$(conf_get "$nd" name)
    handle=$("$BIN" info --data "$nd" --json | jq -r .handle)
    pw=$(awk -v c="$code" '$1 == c && $2 == "admin" { print $3 }' "$DIR/credentials.txt")
    cat <<EOF

$name ($code)
  public page:  $url/
  API:          $url/api/v1/measures   (also /api/v1/organisations, /api/v1/taxonomy)
  admin-web:    $url/admin/
  fediverse:    $handle
  login:        admin / $pw
EOF
}

# ---- actions --------------------------------------------------------------------

do_start() {
    install_packages
    build_dinet
    mkdir -p "$DIR"
    chmod 700 "$DIR"
    umask 077
    touch "$DIR/credentials.txt"
    chmod 600 "$DIR/credentials.txt"
    if [[ -f $DIR/network.conf ]]; then
        local stored
        stored=$(sed -n 's/^base_port=//p' "$DIR/network.conf")
        if [[ $stored != "$BASE_PORT" ]]; then
            ((PORT_GIVEN)) &&
                die "the network in $DIR uses base port $stored; use --base-port $stored or 'demo.sh reset'"
            BASE_PORT=$stored
        fi
    else
        echo "base_port=$BASE_PORT" >"$DIR/network.conf"
    fi
    local code
    for code in "${NODES[@]}"; do
        start_node "$code" "$(port_for "$code")"
    done
    echo
    echo "The demo network runs in $DIR (credentials in $DIR/credentials.txt)."
    for code in "${NODES[@]}"; do
        print_node "$code"
    done
    echo
    echo "Stop it with '$0 stop --dir $DIR', remove it with '$0 reset --dir $DIR'."
}

do_status() {
    [[ -d $DIR ]] || {
        echo "no demo network in $DIR"
        return 0
    }
    local code nd pid url health any=0
    for code in $(existing_nodes); do
        any=1
        nd=$DIR/$code
        url=$(conf_get "$nd" base_url)
        if pid=$(running_pid "$nd"); then
            health=$(curl -fsS --max-time 2 "$url/healthz" 2>/dev/null || echo "no answer")
            printf '%-6s running  pid %-8s %s  healthz: %s\n' "$code" "$pid" "$url" "$health"
        else
            printf '%-6s stopped               %s\n' "$code" "$url"
        fi
    done
    ((any)) || echo "no nodes in $DIR"
}

do_stop() {
    [[ -d $DIR ]] || return 0
    local code nd pid i
    for code in $(existing_nodes); do
        nd=$DIR/$code
        if pid=$(running_pid "$nd"); then
            kill -TERM "$pid"
            for ((i = 0; i < 50; i++)); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.2
            done
            if kill -0 "$pid" 2>/dev/null; then
                echo "node $code (pid $pid) did not stop within 10 s; sending SIGKILL"
                kill -KILL "$pid" 2>/dev/null || true
            fi
            echo "stopped node $code (pid $pid)"
        fi
        rm -f "$nd/serve.pid"
    done
}

do_reset() {
    do_stop
    if [[ -d $DIR ]]; then
        # Only a directory this script made is deleted.
        if [[ -f $DIR/network.conf || -f $DIR/credentials.txt ]]; then
            rm -rf "$DIR"
            echo "removed $DIR"
        else
            die "$DIR does not look like a demo network (no network.conf); not deleting it"
        fi
    fi
}

DIR=$(realpath -m -- "$DIR")
case $ACTION in
start) do_start ;;
status) do_status ;;
stop) do_stop ;;
reset) do_reset ;;
esac
