#!/usr/bin/env bash
# Provision the packages the tests need, and start a real Docker engine on this machine if
# none is answering.
#
# Idempotent. The packages (Debian's engine, and the tools the tests and the test-image
# build use) are checked on every run and the missing ones installed, whether or not an
# engine already answers. Only when none answers does it work around the sandbox's missing
# CAP_SYS_RESOURCE and start dockerd in the background (no systemd here).
# The pid of a dockerd started here is written to $BOOTH_CI_STATE/dockerd.pid so that
# .ci/docker-down.sh stops only what this script started. When BOOTH_CI_STARTED_FILE names
# a file, the word "started" is written to it when (and only when) this invocation started
# dockerd: .ci/run uses that to know the engine is its own, which a pid file left by an
# earlier run cannot tell.
set -euo pipefail

STATE_DIR=${BOOTH_CI_STATE:-/run/booth-ci}
OUR_PIDFILE=$STATE_DIR/dockerd.pid
DOCKER_PIDFILE=/var/run/docker.pid
CONTAINERD_PIDFILE=/var/run/docker/containerd/containerd.pid
LOG=/var/log/booth-ci-dockerd.log
WRAPPER=/usr/local/lib/booth-ci/runc-nosysresource
RUNTIME_NAME=booth-runc
TIMEOUT=${BOOTH_CI_DOCKERD_TIMEOUT:-60}
# docker.io pulls in tini (docker-init, used by `docker run --init`) as a dependency;
# debootstrap and busybox-static are for .ci/build-test-images.sh; docker-compose is the
# baseline of benchmarks/bench.py; shellcheck checks the example scripts in the tests;
# docker-registry (distribution 2.8) is the local registry the `pull = true` tests push to.
PACKAGES=(docker.io containerd runc iptables tini debootstrap busybox-static docker-compose shellcheck docker-registry)

# Debian puts its tools in sbin; make sure we (and dockerd) find them.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH

log() { echo "docker-up: $*" >&2; }
# shellcheck source=.ci/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

engine_ok() { docker info >/dev/null 2>&1; }

# True when process $1 exists and is not a zombie: this sandbox's PID 1 reaps orphans
# late, so a killed dockerd can linger as a zombie that `kill -0` still reports alive.
alive() {
    local state
    state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [[ -n $state && $state != Z && $state != X ]]
}

# True when $1 is the pid of a live dockerd (the name check guards against pid reuse).
is_dockerd() { [[ -n ${1:-} && $(cat "/proc/$1/comm" 2>/dev/null) == dockerd ]] && alive "$1"; }

# --- 1. packages, always (the tests need them whoever runs the engine) -------------------
install_missing "${PACKAGES[@]}"

if engine_ok; then
    log "engine already answering"
    exit 0
fi

DOCKERD=$(command -v dockerd)   # Debian: /usr/sbin/dockerd
[[ -x /usr/sbin/runc ]] || { log "/usr/sbin/runc missing after install"; exit 1; }

# --- 2. runc wrapper, only where CAP_SYS_RESOURCE (bit 24) is not in our bounding set -------
# Without it, runc fails to grant that cap to --privileged containers / their execs
# ("unable to apply caps: operation not permitted"); dropping it from the spec lets them run.
runtime_args=()
capbnd=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
if (( (0x$capbnd >> 24 & 1) == 0 )); then
    install_runc_wrapper "$WRAPPER"
    runtime_args=(--add-runtime "$RUNTIME_NAME=$WRAPPER" --default-runtime "$RUNTIME_NAME")
    log "CAP_SYS_RESOURCE missing from bounding set: default runtime is $WRAPPER"
fi

# --- 3. start dockerd ------------------------------------------------------------------
mkdir -p "$STATE_DIR"
started_here=0
pid=$(cat "$DOCKER_PIDFILE" 2>/dev/null || true)
if is_dockerd "$pid"; then
    # A dockerd is running but not answering yet (still starting?): wait for it, don't race it.
    log "dockerd $pid already running, waiting for it"
else
    # A dockerd killed uncleanly leaves its pid file; the next one refuses to start.
    if [[ -e $DOCKER_PIDFILE ]]; then
        log "removing stale $DOCKER_PIDFILE (pid '${pid}' is gone)"
        rm -f "$DOCKER_PIDFILE"
    fi
    # Likewise for the containerd that dockerd manages: if its pid file names any process
    # that `kill -0` accepts (a zombie, or an unrelated process reusing the pid), dockerd
    # assumes containerd is up and fails after 15 s ("timeout waiting for containerd").
    cpid=$(cat "$CONTAINERD_PIDFILE" 2>/dev/null || true)
    if [[ -e $CONTAINERD_PIDFILE ]] &&
        ! { [[ -n $cpid && $(cat "/proc/$cpid/comm" 2>/dev/null) == containerd ]] && alive "$cpid"; }; then
        log "removing stale $CONTAINERD_PIDFILE (pid '${cpid}' is not a live containerd)"
        rm -f "$CONTAINERD_PIDFILE"
    fi
    echo "=== $(date -Is) docker-up: starting $DOCKERD ${runtime_args[*]}" >> "$LOG"
    # setsid: detach from the caller's session so dockerd outlives the calling shell.
    setsid nohup "$DOCKERD" "${runtime_args[@]}" </dev/null >>"$LOG" 2>&1 &
    pid=$!
    started_here=1
fi

deadline=$((SECONDS + TIMEOUT))
until engine_ok; do
    if ((SECONDS >= deadline)) || { ((started_here)) && ! alive "$pid"; }; then
        log "dockerd exited or was not ready within ${TIMEOUT}s; last lines of $LOG:"
        tail -n 30 "$LOG" >&2
        if ((started_here)) && alive "$pid"; then kill "$pid" || true; fi
        exit 1
    fi
    sleep 0.2
done

if ((started_here)); then
    # dockerd's own pid file is authoritative (setsid/nohup exec, so it should equal $pid).
    pid=$(cat "$DOCKER_PIDFILE" 2>/dev/null || echo "$pid")
    echo "$pid" > "$OUR_PIDFILE"
    if [[ -n ${BOOTH_CI_STARTED_FILE:-} ]]; then echo started > "$BOOTH_CI_STARTED_FILE"; fi
    log "dockerd $pid ready in ${SECONDS}s (log: $LOG)"
fi
