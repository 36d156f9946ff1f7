#!/usr/bin/env bash
# deploy/demo.sh: the demo network of dinet nodes on this machine (127.0.0.1): the state
# node of Sachsen-Anhalt and the 14 district nodes.
#
#   deploy/demo.sh [start] [--dir DIR] [--base-port N]   create or restart the network
#   deploy/demo.sh status  [--dir DIR]                    nodes, and the state's districts
#   deploy/demo.sh stop    [--dir DIR]                    stop the nodes
#   deploy/demo.sh reset   [--dir DIR]                    stop the nodes and delete DIR
#
# start installs missing Debian packages (as root; otherwise it prints the apt-get
# command), builds build/dinet, and for each node creates its data directory DIR/CODE
# (dinet init), an admin account with a generated password (kept in DIR/credentials.txt,
# mode 0600) and, on a district node, the sample data (Beispieldaten); it runs
# 'dinet serve' for each node in the background (log DIR/CODE/serve.log, pid
# DIR/CODE/serve.pid), registers every district on the state node (dinet district add)
# and waits until the state's statewide figures include all 14 districts.
# Running start again reuses the network: it starts stopped nodes and neither
# re-initialises, re-seeds nor re-registers (markers in the node directories).
#
# Defaults: DIR=./demo, N=8400. Ports: the state node (code 15) listens on N, the
# districts on N+1 ... N+14 in the order of NODES below (15001 on N+1, 15091 on N+14).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# The nodes of the demo network by Kreisschlüssel: the state aggregator (15) first, then
# the 14 districts. A node's port is BASE_PORT + its index here (see set_ports).
NODES=(15 15001 15002 15003 15081 15082 15083 15084 15085 15086 15087 15088 15089 15090 15091)
STATE=15
DISTRICTS=()
for c in "${NODES[@]}"; do
    [[ $c == "$STATE" ]] || DISTRICTS+=("$c")
done

DEB_PACKAGES=(build-essential cmake pkg-config libmicrohttpd-dev libsqlite3-dev libjansson-dev
    libsodium-dev libcurl4-openssl-dev libssl-dev curl jq)

HOST=127.0.0.1
ACTION=start
DIR=./demo
BASE_PORT=8400
PORT_GIVEN=0
SYNC_INTERVAL=10     # seconds between the state node's reconciliation rounds
HEALTH_TIMEOUT=30    # seconds for the started nodes to answer /healthz
CONVERGE_TIMEOUT=60  # seconds for the state node to hold every district's measures

usage() {
    sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
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

LAST_PORT_OFFSET=$((${#NODES[@]} - 1))
if ! [[ $BASE_PORT =~ ^[0-9]{1,5}$ ]] || ((BASE_PORT < 1024 || BASE_PORT + LAST_PORT_OFFSET > 65535)); then
    die "--base-port must be a number from 1024 to $((65535 - LAST_PORT_OFFSET))"
fi
[[ -n $DIR ]] || die "--dir must not be empty"

BIN=$ROOT/build/dinet

# ---- helpers -------------------------------------------------------------------

now_ms() {
    local t=${EPOCHREALTIME/[.,]/}
    echo $((10#$t / 1000))
}

since() { # START_MS -> "12.3 s"
    local ms=$(($(now_ms) - $1))
    printf '%d.%d s' $((ms / 1000)) $((ms % 1000 / 100))
}

# PORT[CODE] and URL[CODE] of each node of NODES; set_ports fills them once BASE_PORT
# is final. (The helpers avoid spawning processes: on a busy machine each costs.)
declare -A PORT=() URL=()
set_ports() {
    local i
    for i in "${!NODES[@]}"; do
        PORT[${NODES[i]}]=$((BASE_PORT + i))
        URL[${NODES[i]}]=http://$HOST:$((BASE_PORT + i))
    done
}

is_state() { [[ $1 == "$STATE" ]]; }

# The node directories that exist in DIR (whatever NODES says now).
existing_nodes() {
    local d
    for d in "$DIR"/*/; do
        d=${d%/}
        [[ -f $d/dinet.conf ]] && echo "${d##*/}"
    done
    return 0
}

# Prints the pid recorded for a node if that process is still its 'dinet serve'.
# A pid whose process has ended or now belongs to another program is not ours.
running_pid() { # NODEDIR
    local nd=$1 pid args=()
    [[ -f $nd/serve.pid ]] || return 1
    pid=$(<"$nd/serve.pid")
    [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
    mapfile -d '' args 2>/dev/null <"/proc/$pid/cmdline" || return 1
    ((${#args[@]} >= 4)) && [[ ${args[0]##*/} == dinet && ${args[1]} == serve &&
        ${args[2]} == --data && ${args[3]} == "$nd" ]] || return 1
    echo "$pid"
}

# The last value of KEY in NODEDIR/dinet.conf ('key = value' lines).
conf_get() { # NODEDIR KEY
    local line k v=
    while IFS= read -r line || [[ -n $line ]]; do
        [[ $line == *=* ]] || continue
        k=${line%%=*}
        k=${k//[[:space:]]/}
        [[ $k == "$2" ]] || continue
        v=${line#*=}
        v=${v#"${v%%[![:space:]]*}"}
        v=${v%"${v##*[![:space:]]}"}
    done <"$1/dinet.conf"
    echo "$v"
}

# True when something accepts connections on the port.
port_busy() { # PORT
    (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

install_packages() {
    local missing=() p installed
    # One dpkg-query for all: the installed ones print their name.
    installed=" $({ dpkg-query -W -f='${db:Status-Status} ${Package}\n' "${DEB_PACKAGES[@]}" 2>/dev/null || true; } |
        sed -n 's/^installed //p' | tr '\n' ' ')"
    for p in "${DEB_PACKAGES[@]}"; do
        [[ $installed == *" $p "* ]] || missing+=("$p")
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
    # (cmake --build re-runs the configuration itself when CMakeLists.txt changed.)
    if ! grep -qx 'CMAKE_BUILD_TYPE:STRING=RelWithDebInfo' "$ROOT/build/CMakeCache.txt" 2>/dev/null; then
        cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null ||
            die "configuring the build failed (see above)"
    fi
    cmake --build "$ROOT/build" -j2 --target dinet >/dev/null ||
        die "building dinet failed (the compiler's messages are above)"
}

gen_password() {
    local p
    p=$(head -c 48 /dev/urandom | base64 -w0 | tr -dc 'A-Za-z0-9' | cut -c1-20)
    ((${#p} >= 16)) || die "could not generate a password"
    echo "$p"
}

cred_password() { # CODE -> the admin password recorded in credentials.txt
    local code user pw rest
    while read -r code user pw rest; do
        if [[ $code == "$1" && $user == admin ]]; then
            echo "$pw"
            return 0
        fi
    done <"$DIR/credentials.txt"
    return 0
}

# A node needs setting up while one of its steps has not finished: init (dinet.conf
# exists), the admin account (.admin-created), the sample data (.sample-loaded).
needs_setup() { # CODE
    local nd=$DIR/$1
    [[ -f $nd/dinet.conf && -f $nd/.admin-created ]] || return 0
    if is_state "$1"; then
        [[ -s $nd/.sync-token ]] || return 0
    else
        [[ -f $nd/.sample-loaded ]] || return 0
    fi
    return 1
}

# Runs FUNC CODE for each CODE as background jobs, at most JOBS_MAX at a time; a job's
# output goes to DIR/CODE/LOG. Prints the last output line of each job that succeeds and
# the whole output of each that fails; fails if one did.
JOBS_MAX=$(($(nproc 2>/dev/null || echo 2) + 1))
((JOBS_MAX <= 4)) || JOBS_MAX=4
declare -A JOB_CODE=() # the running jobs: pid -> code
run_jobs() { # FUNC LOG CODE...
    local func=$1 log=$2 code pid rc failed=0
    shift 2
    local todo=("$@") next=0
    while ((next < ${#todo[@]} || ${#JOB_CODE[@]} > 0)); do
        while ((next < ${#todo[@]} && ${#JOB_CODE[@]} < JOBS_MAX)); do
            code=${todo[next]}
            next=$((next + 1))
            mkdir -p "$DIR/$code"
            "$func" "$code" >"$DIR/$code/$log" 2>&1 &
            JOB_CODE[$!]=$code
        done
        # Only these jobs: the nodes started earlier are children of this script too.
        pid=
        if wait -n -p pid "${!JOB_CODE[@]}"; then rc=0; else rc=$?; fi
        [[ -n $pid ]] || break
        code=${JOB_CODE[$pid]}
        unset "JOB_CODE[$pid]"
        if ((rc == 0)); then
            echo "   $(tail -n 1 "$DIR/$code/$log")"
        else
            failed=1
            echo "demo.sh: $func $code failed (exit $rc); $DIR/$code/$log:" >&2
            sed 's/^/   /' "$DIR/$code/$log" >&2
        fi
    done
    return "$failed"
}

# Creates one node's data directory, admin account and sample data; each step once.
setup_node() { # CODE
    local code=$1 port url nd=$DIR/$1 role=district pw t0 loaded=""
    t0=$(now_ms)
    port=${PORT[$code]}
    url=${URL[$code]}
    is_state "$code" && role=state
    if [[ -f $nd/.sample-started && ! -f $nd/.sample-loaded ]]; then
        # 'dinet sample' is not atomic: a half-loaded node (never served nor registered
        # yet) is made again rather than loaded twice.
        echo "the sample data of node $code were loaded in part only; creating the node again"
        rm -rf "$nd/dinet.conf" "$nd"/dinet.db* "$nd/keys" "$nd/.admin-created" "$nd/.sample-started"
    fi
    if [[ ! -f $nd/dinet.conf ]]; then
        "$BIN" init --data "$nd" --role "$role" --district "$code" --base-url "$url" \
            --listen "$HOST:$port" --allow-private 127.0.0.0/8
        if is_state "$code"; then
            # Reconcile with the districts every SYNC_INTERVAL s instead of 300 s.
            if grep -q '^sync_interval[[:space:]]*=' "$nd/dinet.conf"; then
                sed -i "s/^sync_interval[[:space:]]*=.*/sync_interval = $SYNC_INTERVAL/" "$nd/dinet.conf"
            else
                echo "sync_interval = $SYNC_INTERVAL" >>"$nd/dinet.conf"
            fi
        fi
    fi
    if [[ ! -f $nd/.admin-created ]]; then
        pw=$(cred_password "$code")
        [[ -n $pw ]] || die "no password for node $code in $DIR/credentials.txt"
        # An account left by an interrupted run gets the recorded password.
        printf '%s\n' "$pw" | "$BIN" user add --data "$nd" --role admin admin ||
            printf '%s\n' "$pw" | "$BIN" user passwd --data "$nd" admin
        touch "$nd/.admin-created"
    fi
    if is_state "$code" && [[ ! -s $nd/.sync-token ]]; then
        # An API token (role editor) with which this script asks the state node to sync
        # at once after registering districts ("sync now", POST /api/v1/districts/*/sync).
        # (Token names stay taken after a revocation: a lost token file gets a new name.)
        "$BIN" token create --data "$nd" --role editor "demo-sync-$(date +%s)" >"$nd/.sync-token.new"
        mv "$nd/.sync-token.new" "$nd/.sync-token"
    fi
    if ! is_state "$code" && [[ ! -f $nd/.sample-loaded ]]; then
        touch "$nd/.sample-started"
        loaded=$("$BIN" sample --data "$nd")
        echo "$loaded"
        touch "$nd/.sample-loaded"
        loaded=" (${loaded#loaded })"
    fi
    echo "node $code set up in $(since "$t0")$loaded"
}

# Sets up the nodes that need it, a few at a time (the steps are CPU-bound: RSA key
# generation, password hashing).
setup_nodes() {
    local todo=() code t0
    for code in "${NODES[@]}"; do
        needs_setup "$code" && todo+=("$code")
    done
    ((${#todo[@]})) || return 0
    echo "== setting up ${#todo[@]} node(s) in $DIR ($JOBS_MAX at a time)"
    t0=$(now_ms)
    # Passwords first, in this process: credentials.txt has one writer.
    for code in "${todo[@]}"; do
        [[ -n $(cred_password "$code") ]] ||
            printf '%s admin %s %s/admin/\n' "$code" "$(gen_password)" "${URL[$code]}" \
                >>"$DIR/credentials.txt"
    done
    run_jobs setup_node setup.log "${todo[@]}" ||
        die "setup failed; fix the cause and run start again (finished steps are kept)"
    echo "   done in $(since "$t0")"
}

# Starts 'dinet serve' for one node in its own session (Ctrl-C on this script does not
# reach it). Prints its pid.
launch_node() { # CODE
    local code=$1 nd=$DIR/$1 port
    port=${PORT[$code]}
    nohup setsid "$BIN" serve --data "$nd" --listen "$HOST:$port" >>"$nd/serve.log" 2>&1 </dev/null &
    echo "$!" >"$nd/serve.pid"
}

# Waits until the node answers /healthz, or fails when its process ends (a port taken
# meanwhile, a damaged database: see its log) or the deadline (epoch ms) passes.
wait_healthy() { # CODE DEADLINE_MS
    local code=$1 deadline=$2 nd=$DIR/$1 url pid
    url=${URL[$code]}
    pid=$(<"$nd/serve.pid")
    while :; do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "demo.sh: node $code stopped while starting; end of $nd/serve.log:" >&2
            tail -n 20 "$nd/serve.log" | sed 's/^/   /' >&2 || true
            return 1
        fi
        if curl -fsS -o /dev/null --max-time 1 "$url/healthz" 2>/dev/null; then
            return 0
        fi
        if (($(now_ms) >= deadline)); then
            echo "demo.sh: node $code did not answer $url/healthz within ${HEALTH_TIMEOUT} s" >&2
            return 1
        fi
        sleep 0.1
    done
}

# Before anything is created: the port of each node that is not running must be free.
check_ports() {
    local code
    for code in "${NODES[@]}"; do
        running_pid "$DIR/$code" >/dev/null && continue
        if port_busy "${PORT[$code]}"; then
            die "port ${PORT[$code]} (node $code) is in use by another program; stop it, or choose other ports with --base-port (for an existing network: 'demo.sh reset' first)"
        fi
    done
}

start_nodes() {
    local code nd pid started=()
    for code in "${NODES[@]}"; do
        nd=$DIR/$code
        if pid=$(running_pid "$nd"); then
            continue
        fi
        launch_node "$code"
        started+=("$code")
    done
    local n_running=$((${#NODES[@]} - ${#started[@]}))
    ((n_running == 0)) || echo "== $n_running node(s) already running"
    ((${#started[@]})) || return 0
    echo "== starting ${#started[@]} node(s)"
    local deadline failed=0 t0
    t0=$(now_ms)
    deadline=$((t0 + HEALTH_TIMEOUT * 1000))
    for code in "${started[@]}"; do
        wait_healthy "$code" "$deadline" || failed=1
    done
    ((failed == 0)) || die "not every node started; see above, then 'demo.sh status'"
    echo "   all ${#started[@]} answer /healthz after $(since "$t0")"
}

# Registers one district on the state node (dinet district add, while both run). The
# marker DIR/15/.registered/CODE keeps the key fingerprints pinned at registration.
register_district() { # CODE
    local code=$1 sd=$DIR/$STATE out
    if out=$("$BIN" district add --data "$sd" --code "$code" "${URL[$code]}/actor" 2>&1); then
        printf '%s\n' "$out" | tee "$sd/.registered/$code"
        echo "$code registered, keys pinned: $(sed -n 's/^\(RSA\|Ed25519\) SHA256:\([0-9a-f]\{16\}\).*/\1 \2…/p' <<<"$out" | paste -sd ' ' -)"
        # The district office joins the coordinators' groups of every field of action.
        "$BIN" channel join --data "$DIR/$code" --all "${URL[$STATE]}" >/dev/null 2>&1 ||
            echo "$code could not join the channel groups (later: dinet channel join --all)"
    elif "$BIN" district list --data "$sd" | grep -q "^$code "; then
        # Registered by an interrupted run before its marker was written.
        printf '%s\n' "$out" | tee "$sd/.registered/$code"
        echo "$code was registered already"
    else
        printf '%s\n' "$out"
        return 1
    fi
}

register_districts() {
    local sd=$DIR/$STATE code todo=() t0
    mkdir -p "$sd/.registered"
    for code in "${DISTRICTS[@]}"; do
        [[ -f $sd/.registered/$code ]] || todo+=("$code")
    done
    ((${#todo[@]})) || return 0
    echo "== registering ${#todo[@]} district(s) on the state node"
    t0=$(now_ms)
    run_jobs register_district register.log "${todo[@]}" || die "registering districts failed"
    echo "   done in $(since "$t0")"
    # Sync now rather than at the state's next round (up to SYNC_INTERVAL s away).
    if [[ -s $sd/.sync-token ]]; then
        # The header comes on stdin, so that the token is not in curl's command line.
        curl -fsS -o /dev/null --max-time 5 -X POST -H @- \
            "${URL[$STATE]}/api/v1/districts/${DISTRICTS[0]}/sync" \
            <<<"Authorization: Bearer $(<"$sd/.sync-token")" ||
            echo "   (could not ask the state node to sync now; it syncs within ${SYNC_INTERVAL} s)"
    fi
}

# Waits until the state's GET /api/v1/stats counts measures from every district and the
# state holds as many records of each district as the district itself (its summary).
wait_converged() {
    local surl t0 stats listing have want=${#DISTRICTS[@]} deadline code behind own="" urls=()
    surl=${URL[$STATE]}
    for code in "${DISTRICTS[@]}"; do
        urls+=("${URL[$code]}/api/v1/summary")
    done
    t0=$(now_ms)
    deadline=$((t0 + CONVERGE_TIMEOUT * 1000))
    echo "== waiting for the state node to hold the data of all $want districts (sync every ${SYNC_INTERVAL} s)"
    while :; do
        have=0 behind=$want
        if stats=$(curl -fsS --max-time 5 "$surl/api/v1/stats" 2>/dev/null); then
            have=$(jq -r '[.districts // {} | to_entries[]
                | select((.key | IN($ARGS.positional[])) and (.value.measures // 0) > 0)] | length' \
                --args "${DISTRICTS[@]}" <<<"$stats" 2>/dev/null || echo 0)
        fi
        if ((have >= want)); then
            # The districts' own counts, {"15001": 35, ...}: one curl for all summaries.
            [[ -n $own ]] ||
                own=$(curl -fsS --max-time 10 "${urls[@]}" 2>/dev/null |
                    jq -cs 'map({(.district): .live}) | add // {}' 2>/dev/null || true)
            if [[ -n $own ]] && listing=$(curl -fsS --max-time 5 "$surl/api/v1/districts" 2>/dev/null); then
                behind=$(jq -r --argjson own "$own" '[.items[] | select(.records != $own[.code])] | length' \
                    <<<"$listing" 2>/dev/null || echo "$want")
            fi
        fi
        if ((have >= want && behind == 0)); then
            echo "   converged after $(since "$t0"): statewide $(jq -r '.state.measures // 0' <<<"$stats") measures from $have districts"
            return 0
        fi
        if (($(now_ms) >= deadline)); then
            echo "demo.sh: after ${CONVERGE_TIMEOUT} s the state node holds measures from $have of $want districts" \
                "($behind not complete);" >&2
            echo "         the nodes keep running and syncing; see '$0 status --dir $DIR'" >&2
            return 1
        fi
        sleep 1
    done
}

print_nodes() {
    local code nd url name handle pw
    echo
    echo "The nodes (admin logins also in $DIR/credentials.txt, mode 0600):"
    for code in "${NODES[@]}"; do
        nd=$DIR/$code
        url=$(conf_get "$nd" base_url)
        name=$(conf_get "$nd" name)
        handle=$(conf_get "$nd" handle)
        handle=@$handle@${url#*://} # as 'dinet info' shows it
        pw=$(cred_password "$code")
        echo
        echo "$code  $name   fediverse: $handle"
        echo "       public page  $url/"
        if is_state "$code"; then
            echo "       API          $url/api/v1/stats   $url/api/v1/districts"
        else
            echo "       API          $url/api/v1/measures   $url/api/v1/organisations"
        fi
        echo "       admin        $url/admin/   login: admin / $pw"
    done
}

# ---- actions --------------------------------------------------------------------

# On Ctrl-C or SIGTERM the running setup or registration steps end first, so that a
# new start does not run into them. (The nodes started so far keep running.)
on_signal() {
    trap - INT TERM
    if ((${#JOB_CODE[@]})); then
        echo "demo.sh: interrupted; waiting for ${#JOB_CODE[@]} running step(s) to end" >&2
        wait "${!JOB_CODE[@]}" 2>/dev/null || true
    fi
    echo "demo.sh: interrupted; run start again to continue, 'demo.sh stop' to stop the started nodes" >&2
    exit 130
}

do_start() {
    local t_all t_net
    trap on_signal INT TERM
    t_all=$(now_ms)
    # An existing network keeps its ports.
    if [[ -f $DIR/network.conf ]]; then
        local stored
        stored=$(<"$DIR/network.conf")
        stored=${stored#base_port=}
        [[ $stored =~ ^[0-9]{1,5}$ ]] || die "$DIR/network.conf is damaged (expected base_port=N)"
        if [[ $stored != "$BASE_PORT" ]]; then
            ((PORT_GIVEN)) &&
                die "the network in $DIR uses base port $stored; use --base-port $stored or 'demo.sh reset --dir $DIR'"
            BASE_PORT=$stored
        fi
    fi
    install_packages
    build_dinet
    command -v jq >/dev/null || die "jq is needed (apt-get install jq)"
    t_net=$(now_ms)
    set_ports
    local code have
    for code in $(existing_nodes); do
        have=$(conf_get "$DIR/$code" base_url)
        [[ $have == "${URL[$code]:-}" ]] ||
            die "node $code in $DIR/$code was created for $have, not ${URL[$code]:-part of this network}; run 'demo.sh reset --dir $DIR' first"
    done
    check_ports
    mkdir -p "$DIR"
    chmod 700 "$DIR"
    umask 077
    touch "$DIR/credentials.txt"
    chmod 600 "$DIR/credentials.txt"
    [[ -f $DIR/network.conf ]] || echo "base_port=$BASE_PORT" >"$DIR/network.conf"

    setup_nodes
    start_nodes
    register_districts
    local converged=0
    wait_converged && converged=1
    print_nodes
    echo
    echo "The demo network of ${#NODES[@]} nodes runs in $DIR, ports $BASE_PORT-$((BASE_PORT + LAST_PORT_OFFSET)) (ready in $(since "$t_net"), $(since "$t_all") with the build)."
    echo "Status: '$0 status --dir $DIR'; stop: '$0 stop --dir $DIR'; delete: '$0 reset --dir $DIR'."
    ((converged)) || exit 1
}

do_status() {
    [[ -d $DIR ]] || {
        echo "no demo network in $DIR"
        return 0
    }
    local code nd pid url health any=0 up=0 state_up=0
    for code in $(existing_nodes); do
        any=$((any + 1))
        nd=$DIR/$code
        url=$(conf_get "$nd" base_url)
        if pid=$(running_pid "$nd"); then
            health=$(curl -fsS --max-time 2 "$url/healthz" 2>/dev/null || echo "no answer")
            printf '%-6s running  pid %-8s %s  healthz: %s\n' "$code" "$pid" "$url" "$health"
            up=$((up + 1))
            is_state "$code" && state_up=1
        else
            printf '%-6s stopped               %s\n' "$code" "$url"
        fi
    done
    ((any)) || {
        echo "no nodes in $DIR"
        return 0
    }
    echo "$up of $any nodes running"
    [[ -f $DIR/$STATE/dinet.conf ]] || return 0
    echo
    if ((!state_up)); then
        echo "state node: stopped (its districts' sync state shows while it runs)"
        return 0
    fi
    url=$(conf_get "$DIR/$STATE" base_url)
    local districts stats
    districts=$(curl -fsS --max-time 5 "$url/api/v1/districts" 2>/dev/null) || {
        echo "state node: GET $url/api/v1/districts failed"
        return 0
    }
    stats=$(curl -fsS --max-time 5 "$url/api/v1/stats" 2>/dev/null || echo '{}')
    echo "districts registered on the state node ($url/api/v1/districts):"
    # Padded in jq, which counts characters (awk's printf counts bytes: "Börde").
    jq -r --argjson stats "$stats" '
        def l($w): tostring | . + " " * ([$w - length, 0] | max);
        def r($w): tostring | " " * ([$w - length, 0] | max) + .;
        ["code", "name", "records", "measures", "last_contact", "last_error"] as $h
        | "  \($h[0] | l(6)) \($h[1] | l(24)) \($h[2] | r(7)) \($h[3] | r(8))  \($h[4] | l(20))  \($h[5])",
          (.items[] | "  \(.code | l(6)) \(.name | l(24)) \(.records // 0 | r(7)) \($stats.districts[.code].measures // 0 | r(8))  \(.last_contact // "never" | l(20))  \(.last_error // "-")")' \
        <<<"$districts"
    jq -r --argjson stats "$stats" \
        '"\(.items | length) districts, \([.items[].records // 0] | add // 0) records; statewide measures: \($stats.state.measures // 0)"' \
        <<<"$districts"
}

do_stop() {
    [[ -d $DIR ]] || return 0
    local code nd pid i stopping=() codes=()
    for code in $(existing_nodes); do
        nd=$DIR/$code
        if pid=$(running_pid "$nd"); then
            kill -TERM "$pid" 2>/dev/null || true
            stopping+=("$pid")
            codes+=("$code")
        fi
        rm -f "$nd/serve.pid"
    done
    ((${#stopping[@]})) || {
        echo "no node of $DIR is running"
        return 0
    }
    # All got SIGTERM at once; give them 10 s together.
    for ((i = 0; i < 100; i++)); do
        local alive=0
        for pid in "${stopping[@]}"; do
            kill -0 "$pid" 2>/dev/null && alive=1
        done
        ((alive)) || break
        sleep 0.1
    done
    for i in "${!stopping[@]}"; do
        pid=${stopping[i]}
        if kill -0 "$pid" 2>/dev/null; then
            echo "node ${codes[i]} (pid $pid) did not stop within 10 s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    echo "stopped ${#stopping[@]} node(s): ${codes[*]}"
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
