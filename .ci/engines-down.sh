#!/usr/bin/env bash
# Stop what .ci/engines-up.sh started (and only that): the podman service and sshd by the
# pids it recorded, the TLS engine's container by name. Idempotent.
set -euo pipefail

STATE=${BOOTH_CI_STATE:-/run/booth-ci}/engines
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH

log() { echo "engines-down: $*" >&2; }

# stop PIDFILE NAME: SIGTERM the process if it still is NAME (guards against pid reuse).
stop() {
    local pid
    pid=$(cat "$1" 2>/dev/null) || return 0
    if [[ -n $pid && $(cat "/proc/$pid/comm" 2>/dev/null) == "$2"* ]]; then
        kill -TERM "$pid" 2>/dev/null || true
        log "stopped $2 ($pid)"
    fi
    rm -f "$1"
}

if [[ -e $STATE/podman.pid ]]; then
    # Containers the tests left behind on the podman engine would hold its storage busy.
    CONTAINERS_CONF=$STATE/containers.conf podman ps -aq --filter label=io.codingbooth.managed=true |
        xargs -r env CONTAINERS_CONF="$STATE/containers.conf" podman rm -fv >/dev/null 2>&1 || true
fi
stop "$STATE/podman.pid" podman
# Podman's exec monitors (conmon) of removed containers linger up to their --exit-delay
# (300 s); only those that run our runtime wrapper are ours to end.
if pkill -f -- "-r /usr/local/lib/booth-ci/runc-podman" 2>/dev/null; then
    log "ended leftover conmon exec monitors"
fi
stop "$STATE/ssh/sshd.pid" sshd
if docker inspect booth-ci-tls-engine >/dev/null 2>&1; then
    docker rm -fv booth-ci-tls-engine >/dev/null
    log "removed container booth-ci-tls-engine"
fi
rm -f "$STATE/engines.env"
