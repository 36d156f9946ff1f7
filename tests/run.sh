#!/usr/bin/env bash
# tests/run.sh: the project's one test command (CI runs it through .ci/run).
#
#   tests/run.sh [--quick] [--no-install]
#
# 1. Installs the Debian packages the project needs (as root with apt-get; otherwise
#    prints the exact command and stops).
# 2. Builds two trees: build/ (RelWithDebInfo) and build-asan/ (ASan + UBSan).
# 3. Runs ctest in both, then every executable tests/*/run-*.sh suite (interop, web, ...)
#    with DINET_BIN pointing at build/dinet.
# 4. Prints a summary per suite and, last, the line "N passed, M failed" that CI reads.
#    Exits non-zero if anything failed or could not be built.
#
#   --quick       normal build only (no build-asan/)
#   --no-install  do not install Debian packages or npm packages that are already there
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

QUICK=0
INSTALL=1
JOBS=${JOBS:-2}

usage() {
    sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

while (($#)); do
    case $1 in
    --quick) QUICK=1 ;;
    --no-install) INSTALL=0 ;;
    -h | --help)
        usage
        exit 0
        ;;
    *)
        echo "tests/run.sh: unknown option '$1'" >&2
        usage >&2
        exit 2
        ;;
    esac
    shift
done

DEB_PACKAGES=(build-essential cmake pkg-config libmicrohttpd-dev libsqlite3-dev libjansson-dev
    libsodium-dev libcurl4-openssl-dev libssl-dev sqlite3 wrk curl jq nodejs npm chromium)

# A package counts as present when dpkg has it installed. Node.js from other sources
# (e.g. NodeSource's nodejs, which bundles npm and conflicts with Debian's npm) counts
# when its command is on PATH.
pkg_present() {
    case $1 in
    nodejs) command -v node >/dev/null 2>&1 && return 0 ;;
    npm) command -v npm >/dev/null 2>&1 && return 0 ;;
    esac
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
        echo "tests/run.sh: missing Debian packages: ${missing[*]}" >&2
        echo "run as root:" >&2
        echo "  $cmd" >&2
        exit 1
    fi
    echo "== installing Debian packages: ${missing[*]}"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}

# Installs the npm dependencies of the JavaScript suites (interop peers, browser tests).
# Suites call this before they run; a suite without package.json needs nothing.
npm_install_suites() {
    local dir
    for dir in tests/interop tests/web; do
        [[ -f $dir/package.json ]] || continue
        if ((!INSTALL)) && [[ -d $dir/node_modules ]]; then
            continue
        fi
        echo "== npm dependencies in $dir"
        if [[ -f $dir/package-lock.json ]]; then
            (cd "$dir" && npm ci --no-audit --no-fund)
        else
            (cd "$dir" && npm install --no-audit --no-fund)
        fi
    done
}

# ---- results ------------------------------------------------------------

SUITE_NAMES=()
SUITE_PASSED=()
SUITE_FAILED=()
SUITE_NOTES=()
TOTAL_PASSED=0
TOTAL_FAILED=0

record() { # NAME PASSED FAILED NOTE
    SUITE_NAMES+=("$1")
    SUITE_PASSED+=("$2")
    SUITE_FAILED+=("$3")
    SUITE_NOTES+=("$4")
    TOTAL_PASSED=$((TOTAL_PASSED + $2))
    TOTAL_FAILED=$((TOTAL_FAILED + $3))
}

LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/dinet-tests.XXXXXX")
trap 'rm -rf "$LOGDIR"' EXIT

# Configures and builds one tree; on failure records it as one failed test.
build_tree() { # DIR NAME [cmake options...]
    local dir=$1 name=$2 rc=0
    shift 2
    local start=$SECONDS
    echo
    echo "== build $dir ($name)"
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >"$LOGDIR/$name.configure" 2>&1 || rc=$?
    if ((rc != 0)); then
        cat "$LOGDIR/$name.configure"
        record "$name: build" 0 1 "cmake configure failed"
        return 1
    fi
    cmake --build "$dir" -j"$JOBS" 2>&1 | tee "$LOGDIR/$name.build" || rc=$?
    if ((rc != 0)); then
        echo "-- build of $dir failed; first errors:"
        grep -E 'error|Error' "$LOGDIR/$name.build" | head -n 10 || true
        record "$name: build" 0 1 "build failed after $((SECONDS - start)) s"
        return 1
    fi
    echo "built $dir in $((SECONDS - start)) s"
}

# Runs ctest in a build tree and records its counts.
run_ctest() { # DIR NAME
    local dir=$1 name=$2 rc=0 start=$SECONDS
    echo
    echo "== ctest $dir ($name)"
    ctest --test-dir "$dir" --output-on-failure -j"$JOBS" 2>&1 | tee "$LOGDIR/$name.ctest" || rc=$?
    local line total failed
    line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$LOGDIR/$name.ctest" | tail -n 1 || true)
    if [[ -n $line ]]; then
        failed=$(sed -E 's/^[0-9]+% tests passed, ([0-9]+) tests? failed.*/\1/' <<<"$line")
        total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")
        if ((rc != 0 && failed == 0)); then
            failed=1 # ctest failed for a reason it did not count
        fi
        record "$name: ctest" $((total - failed)) "$failed" "$((SECONDS - start)) s"
    elif grep -q 'No tests were found' "$LOGDIR/$name.ctest"; then
        record "$name: ctest" 0 0 "no tests found"
    else
        record "$name: ctest" 0 1 "ctest exited $rc without a summary"
    fi
}

# Runs one extra suite script. A script that ends with "N passed, M failed" is counted
# by that line; otherwise it counts as one test judged by its exit code.
run_script() { # SCRIPT BUILD_DIR
    local script=$1 dir=$2 rc=0 start=$SECONDS
    local name=${script#tests/}
    name=${name%.sh}
    echo
    echo "== $script"
    DINET_BIN="$ROOT/$dir/dinet" DINET_BUILD_DIR="$ROOT/$dir" DINET_SOURCE_DIR="$ROOT" \
        DINET_VECTORS="$ROOT/tests/vectors" \
        timeout 900 "$script" </dev/null 2>&1 | tee "$LOGDIR/script.log" || rc=$?
    local line passed failed
    line=$(grep -E '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed' "$LOGDIR/script.log" | tail -n 1 || true)
    if [[ -n $line ]]; then
        passed=$(sed -E 's/^([A-Za-z-]+: )?([0-9]+) passed.*/\2/' <<<"$line")
        failed=$(sed -E 's/^([A-Za-z-]+: )?[0-9]+ passed, ([0-9]+) failed.*/\2/' <<<"$line")
        if ((rc != 0 && failed == 0)); then
            failed=1
        fi
        record "$name" "$passed" "$failed" "exit $rc, $((SECONDS - start)) s"
    elif ((rc == 0)); then
        record "$name" 1 0 "$((SECONDS - start)) s"
    else
        record "$name" 0 1 "exit $rc, $((SECONDS - start)) s"
    fi
}

# ---- main -------------------------------------------------------------------

T0=$SECONDS
if ((INSTALL)); then
    install_packages
fi

BUILDS=("build:normal")
if ((!QUICK)); then
    BUILDS+=("build-asan:asan")
fi

NORMAL_OK=0
for entry in "${BUILDS[@]}"; do
    dir=${entry%%:*}
    name=${entry#*:}
    opts=()
    if [[ $name == asan ]]; then
        opts=(-DDINET_SANITIZE=ON)
    else
        opts=(-DDINET_SANITIZE=OFF)
    fi
    if build_tree "$dir" "$name" "${opts[@]}"; then
        [[ $name == normal ]] && NORMAL_OK=1
        run_ctest "$dir" "$name"
    fi
done

shopt -s nullglob
SCRIPTS=()
for s in tests/*/run-*.sh; do
    [[ -x $s ]] && SCRIPTS+=("$s")
done
if ((${#SCRIPTS[@]})); then
    if ((NORMAL_OK)); then
        npm_install_suites
        for s in "${SCRIPTS[@]}"; do
            run_script "$s" build
        done
    else
        for s in "${SCRIPTS[@]}"; do
            record "${s#tests/}" 0 1 "not run: build/ failed"
        done
    fi
fi

echo
echo "== summary ($((SECONDS - T0)) s)"
for i in "${!SUITE_NAMES[@]}"; do
    printf '  %-28s %4d passed %4d failed   %s\n' "${SUITE_NAMES[$i]}" "${SUITE_PASSED[$i]}" \
        "${SUITE_FAILED[$i]}" "${SUITE_NOTES[$i]}"
done
if ((TOTAL_PASSED + TOTAL_FAILED == 0)); then
    echo "tests/run.sh: no test ran" >&2
    TOTAL_FAILED=1
fi
echo "$TOTAL_PASSED passed, $TOTAL_FAILED failed"
((TOTAL_FAILED == 0))
