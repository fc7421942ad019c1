#!/bin/sh
# Check whether the example's web server answers, and compare with what you expect.
#
#   ./check-server.sh --expect=up|down [--url URL] [--contains TEXT] [--wait SECONDS]
#
# Works on the host and inside the booth (uses curl when present, else wget; busybox wget
# is enough). "up" means an HTTP 2xx answer (whose body contains TEXT, with --contains);
# anything else - refused, reset, timed out, an HTTP error - is "down". Proxy variables are
# ignored: this is about local ports.
#
#   --expect=up|down  the state you expect (required)
#   --url URL         default http://127.0.0.1:8080/ (the booth publishes on 127.0.0.1)
#   --contains TEXT   "up" also requires TEXT in the body (tells our page from another
#                     server that happens to hold the port)
#   --wait SECONDS    retry until the state matches or SECONDS pass (default 0: look once)
#   --timeout SECONDS per request (default 3)
#
# Exit status: 0 the observed state matches --expect, 1 it does not, 2 usage error.
# Environment: CHECK_SERVER_CLIENT=curl|wget forces the HTTP client.
set -eu

expect=
url=http://127.0.0.1:8080/
contains=
wait_s=0
timeout_s=3

usage() { sed -n '2,19p' "$0" 2>/dev/null || echo "usage: check-server.sh --expect=up|down [--url URL]"; }
bad() { echo "check-server: $*" >&2; echo "usage: check-server.sh --expect=up|down [--url URL] [--contains TEXT] [--wait S]" >&2; exit 2; }

while [ $# -gt 0 ]; do
    case $1 in
        --expect=*)   expect=${1#*=} ;;
        --expect)     [ $# -ge 2 ] || bad "--expect needs a value"; expect=$2; shift ;;
        --url=*)      url=${1#*=} ;;
        --url)        [ $# -ge 2 ] || bad "--url needs a value"; url=$2; shift ;;
        --contains=*) contains=${1#*=} ;;
        --contains)   [ $# -ge 2 ] || bad "--contains needs a value"; contains=$2; shift ;;
        --wait=*)     wait_s=${1#*=} ;;
        --wait)       [ $# -ge 2 ] || bad "--wait needs a value"; wait_s=$2; shift ;;
        --timeout=*)  timeout_s=${1#*=} ;;
        --timeout)    [ $# -ge 2 ] || bad "--timeout needs a value"; timeout_s=$2; shift ;;
        -h|--help)    usage; exit 0 ;;
        *)            bad "unknown argument: $1" ;;
    esac
    shift
done
case $expect in
    up|down) ;;
    '') bad "--expect=up or --expect=down is required" ;;
    *) bad "--expect must be up or down, not '$expect'" ;;
esac
case $wait_s in ''|*[!0-9]*) bad "--wait must be a whole number of seconds" ;; esac
case $timeout_s in ''|*[!0-9]*|0) bad "--timeout must be a positive whole number of seconds" ;; esac

client=${CHECK_SERVER_CLIENT:-}
if [ -z "$client" ]; then
    if command -v curl >/dev/null 2>&1; then client=curl
    elif command -v wget >/dev/null 2>&1; then client=wget
    else bad "neither curl nor wget is installed"
    fi
fi
case $client in curl|wget) ;; *) bad "CHECK_SERVER_CLIENT must be curl or wget" ;; esac

# GNU wget: -nv still reports errors, -t 1 does not retry. Busybox wget: -q, and no -T
# (busybox 1.35's wget segfaults with -T on a refused connection), `timeout` instead.
wget_fetch() {
    if wget --version 2>/dev/null | grep -q 'GNU Wget'; then
        wget -nv -t 1 -T "$timeout_s" -O "$tmp/body" "$url"
    elif command -v timeout >/dev/null 2>&1; then
        timeout "$timeout_s" wget -q -O "$tmp/body" "$url"
    else
        wget -q -O "$tmp/body" "$url"
    fi
}

unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

# (A FROM-scratch busybox container has no /tmp: fall back to the current directory.)
tmp=$(mktemp -d 2>/dev/null) || tmp=$(mktemp -d "$PWD/.check-server.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# observe: sets $state (up|down) and $detail.
observe() {
    state=down
    rc=0
    if [ "$client" = curl ]; then
        code=$(curl -sS -o "$tmp/body" -w '%{http_code}' --max-time "$timeout_s" "$url" 2>"$tmp/err") || rc=$?
        if [ "$rc" -ne 0 ]; then
            detail=$(grep . "$tmp/err" | tail -n 1) || :
            [ -n "$detail" ] || detail="curl exit $rc"
            return
        fi
        case $code in
            2??) ;;
            *) detail="HTTP $code"; return ;;
        esac
        detail="HTTP $code"
    else
        wget_fetch 2>"$tmp/err" || rc=$?
        if [ "$rc" -ne 0 ]; then
            detail=$(grep . "$tmp/err" | tail -n 1) || :
            [ -n "$detail" ] || detail="wget exit $rc"
            # timeout(1) exits 124 (coreutils) or 143 (busybox: killed by SIGTERM)
            case $rc in 124|143) detail="no answer within ${timeout_s}s" ;; esac
            return
        fi
        detail="HTTP 2xx"
    fi
    heading=$(sed -n 's/.*<h1>\(.*\)<\/h1>.*/\1/p' "$tmp/body" | head -n 1)
    [ -z "$heading" ] || detail="$detail, \"$heading\""
    if [ -n "$contains" ] && ! grep -qF -- "$contains" "$tmp/body"; then
        detail="$detail, but the body does not contain \"$contains\""
        return
    fi
    state=up
}

started=$(date +%s)
while :; do
    observe
    if [ "$state" = "$expect" ] || [ $(($(date +%s) - started)) -ge "$wait_s" ]; then break; fi
    sleep 1
done

if [ "$state" = "$expect" ]; then
    echo "check-server: $url is $state ($detail); expected $expect: OK"
    exit 0
fi
echo "check-server: $url is $state ($detail); expected $expect: MISMATCH"
exit 1
