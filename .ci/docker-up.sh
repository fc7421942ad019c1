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
    mkdir -p "$(dirname "$WRAPPER")"
    # Only create/run/exec hand runc a spec to rewrite; every other call (start, state,
    # kill, delete, --version: most of them) goes straight to runc. Starting Python for
    # those cost ~20 ms per call, several calls per container start, which the benchmarks
    # would count against booth and the CLI alike but no real machine has.
    cat > "$WRAPPER.tmp" <<SH
#!/bin/sh
# runc wrapper installed by booth-reconciler .ci/docker-up.sh (see $WRAPPER.py).
for arg in "\$@"; do
    case \$arg in
        create | run | exec) exec /usr/bin/python3 -I -S $WRAPPER.py "\$@" ;;
    esac
done
exec /usr/sbin/runc "\$@"
SH
    cat > "$WRAPPER.py.tmp" <<'PY'
# runc wrapper installed by booth-reconciler .ci/docker-up.sh: this host's capability
# bounding set lacks CAP_SYS_RESOURCE, so strip it from the OCI spec files runc is given
# (bundle config.json for create/run, --process file for exec), then exec the real runc.
import json, os, sys

REAL_RUNC = "/usr/sbin/runc"
CAP = "CAP_SYS_RESOURCE"
args = sys.argv[1:]

def opt_values(names):
    """Values of options like --bundle DIR, -b DIR, --bundle=DIR."""
    out = []
    for i, a in enumerate(args):
        if a in names and i + 1 < len(args):
            out.append(args[i + 1])
        for n in names:
            if n.startswith("--") and a.startswith(n + "="):
                out.append(a[len(n) + 1:])
    return out

def strip(caps):
    if isinstance(caps, dict):
        for k, v in caps.items():
            if isinstance(v, list):
                caps[k] = [c for c in v if c != CAP]

def rewrite(path, get_caps):
    try:
        with open(path) as f:
            spec = json.load(f)
    except (OSError, ValueError):
        return  # not ours to judge; let runc report it
    strip(get_caps(spec))
    tmp = path + ".booth-tmp"
    with open(tmp, "w") as f:
        json.dump(spec, f)
    os.chmod(tmp, os.stat(path).st_mode & 0o7777)
    os.replace(tmp, path)

cmds = [a for a in args if a in ("create", "run", "exec")]
cmd = cmds[0] if cmds else None
if cmd in ("create", "run"):
    for d in opt_values(("--bundle", "-b")):
        rewrite(os.path.join(d, "config.json"), lambda s: (s.get("process") or {}).get("capabilities"))
elif cmd == "exec":
    for p in opt_values(("--process", "-p")):
        rewrite(p, lambda s: s.get("capabilities"))

os.execv(REAL_RUNC, [REAL_RUNC] + args)
PY
    chmod 755 "$WRAPPER.tmp"
    mv "$WRAPPER.py.tmp" "$WRAPPER.py"
    mv "$WRAPPER.tmp" "$WRAPPER"
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
