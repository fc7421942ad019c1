#!/usr/bin/env bash
# Stop the dockerd that .ci/docker-up.sh started (and only that one); no-op otherwise.
set -euo pipefail

STATE_DIR=${BOOTH_CI_STATE:-/run/booth-ci}
OUR_PIDFILE=$STATE_DIR/dockerd.pid
TIMEOUT=${BOOTH_CI_DOCKERD_STOP_TIMEOUT:-30}

log() { echo "docker-down: $*" >&2; }

# True when process $1 exists and is not a zombie: this sandbox's PID 1 reaps orphans
# late, so an exited dockerd can linger as a zombie that `kill -0` still reports alive.
alive() {
    local state
    state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [[ -n $state && $state != Z && $state != X ]]
}

pid=$(cat "$OUR_PIDFILE" 2>/dev/null || true)
# Check the pid still names a dockerd, in case it was reused after a reboot/kill.
if [[ -z $pid || $(cat "/proc/$pid/comm" 2>/dev/null || true) != dockerd ]] || ! alive "$pid"; then
    log "no dockerd started by docker-up.sh is running"
    rm -f "$OUR_PIDFILE"
    exit 0
fi

# SIGTERM makes dockerd stop containers and remove its pid file cleanly.
kill -TERM "$pid"
deadline=$((SECONDS + TIMEOUT))
while alive "$pid"; do
    if ((SECONDS >= deadline)); then
        log "dockerd $pid still running after ${TIMEOUT}s, sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        break
    fi
    sleep 0.2
done
rm -f "$OUR_PIDFILE"
log "dockerd $pid stopped"
