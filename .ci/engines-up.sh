#!/usr/bin/env bash
# Provision the extra engines the integration tests can run against, next to the local
# dockerd (.ci/docker-up.sh must have run, and .ci/build-test-images.sh):
#   podman  rootful Podman's Docker-compatible API on its own socket
#   ssh     sshd on 127.0.0.1:2222 in front of the local dockerd (ssh://root@127.0.0.1:2222)
#   tls     a dockerd inside a container, published on 127.0.0.1, TLS with client
#           certificates (made here with openssl); it lacks this host's files, so the test
#           of a code directory missing on the engine's host runs against it
# Writes $STATE/engines.env: BOOTH_TEST_ENGINES (the names) and, per engine, the
# environment the tests use for it (BOOTH_TEST_ENGINE_<NAME>_*). Everything it starts is
# recorded under $STATE and stopped by .ci/engines-down.sh; nothing outside $STATE and
# /usr/local/lib/booth-ci is written (no ~/.ssh, no /etc/containers).
set -euo pipefail

STATE=${BOOTH_CI_STATE:-/run/booth-ci}/engines
LIB=/usr/local/lib/booth-ci
SSH_PORT=${BOOTH_CI_SSH_PORT:-2222}
TLS_PORT=${BOOTH_CI_TLS_PORT:-23760}
TLS_CONTAINER=booth-ci-tls-engine
IMAGES=(booth-test/dind:latest booth-test/booth:latest booth-test/busybox:latest)
PACKAGES=(podman catatonit uidmap openssh-server openssh-client openssl)
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH

log() { echo "engines-up: $*" >&2; }
# shellcheck source=.ci/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# wait_for SECONDS WHAT COMMAND...: poll until COMMAND succeeds.
wait_for() {
    local deadline=$((SECONDS + $1)) what=$2
    shift 2
    until "$@" >/dev/null 2>&1; do
        if ((SECONDS >= deadline)); then log "$what not ready within the time allowed"; return 1; fi
        sleep 0.2
    done
}

install_missing "${PACKAGES[@]}"
mkdir -p "$STATE" "$LIB"
: > "$STATE/engines.env"
names=()

# --- podman ---------------------------------------------------------------------------
# Same sandbox quirk as dockerd (no CAP_SYS_RESOURCE in the bounding set), and Podman also
# asks for rlimits above this machine's hard limits: a runtime wrapper drops both from the
# OCI spec. It is registered in our own containers.conf (CONTAINERS_CONF), not in /etc.
start_podman() {
    local sock=$STATE/podman.sock conf=$STATE/containers.conf
    install_runc_wrapper "$LIB/runc-podman" --drop-rlimits
    printf '[engine]\nruntime = "booth-runc"\n[engine.runtimes]\nbooth-runc = ["%s"]\n' \
        "$LIB/runc-podman" > "$conf"
    export CONTAINERS_CONF=$conf
    if ! docker -H "unix://$sock" version >/dev/null 2>&1; then
        rm -f "$sock"
        setsid nohup podman system service --time=0 "unix://$sock" \
            </dev/null >>"$STATE/podman.log" 2>&1 &
        echo $! > "$STATE/podman.pid"
        wait_for 30 "podman service" docker -H "unix://$sock" version
    fi
    # Images move from Docker with save/load (no registry here); skip the ones already there.
    local image
    for image in "${IMAGES[@]}"; do
        if [[ $(podman image inspect -f '{{.Id}}' "$image" 2>/dev/null) != \
            "$(docker image inspect -f '{{.Id}}' "$image" | sed 's/^sha256://')" ]]; then
            log "podman: loading $image"
            docker save "$image" | podman load -q >/dev/null
        fi
    done
    names+=(podman)
    {
        echo "BOOTH_TEST_ENGINE_PODMAN_DOCKER_HOST=unix://$sock"
    } >> "$STATE/engines.env"
    log "podman $(podman --version | awk '{print $3}') at unix://$sock"
}

# --- ssh -----------------------------------------------------------------------------
# sshd on loopback with its own host key and authorized_keys; the client side gets an ssh
# config (key, known host) through a wrapper named ssh first on PATH, as a user's
# ~/.ssh/config would give it.
start_ssh() {
    local dir=$STATE/ssh
    mkdir -p "$dir/bin" /run/sshd
    chmod 700 "$dir"
    [[ -e $dir/host_key ]] || ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key"
    [[ -e $dir/id_ed25519 ]] || ssh-keygen -q -t ed25519 -N '' -f "$dir/id_ed25519"
    cp "$dir/id_ed25519.pub" "$dir/authorized_keys"
    echo "[127.0.0.1]:$SSH_PORT $(cat "$dir/host_key.pub")" > "$dir/known_hosts"
    cat > "$dir/config" <<CFG
Host 127.0.0.1
    IdentityFile $dir/id_ed25519
    IdentitiesOnly yes
    UserKnownHostsFile $dir/known_hosts
    StrictHostKeyChecking yes
    BatchMode yes
CFG
    printf '#!/bin/sh\nexec /usr/bin/ssh -F %s "$@"\n' "$dir/config" > "$dir/bin/ssh"
    chmod 755 "$dir/bin/ssh"
    if ! alive_pidfile "$dir/sshd.pid"; then
        /usr/sbin/sshd -f /dev/null -p "$SSH_PORT" -o ListenAddress=127.0.0.1 \
            -o HostKey="$dir/host_key" -o AuthorizedKeysFile="$dir/authorized_keys" \
            -o PidFile="$dir/sshd.pid" -o PermitRootLogin=prohibit-password \
            -o PasswordAuthentication=no -E "$dir/sshd.log"
    fi
    wait_for 15 "sshd" env PATH="$dir/bin:$PATH" DOCKER_HOST="ssh://root@127.0.0.1:$SSH_PORT" docker version
    names+=(ssh)
    {
        echo "BOOTH_TEST_ENGINE_SSH_DOCKER_HOST=ssh://root@127.0.0.1:$SSH_PORT"
        echo "BOOTH_TEST_ENGINE_SSH_PATH=$dir/bin"
    } >> "$STATE/engines.env"
    log "sshd on 127.0.0.1:$SSH_PORT in front of the local dockerd"
}

alive_pidfile() {
    local pid
    pid=$(cat "$1" 2>/dev/null) && [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null
}

# --- tls ------------------------------------------------------------------------------
make_certs() {
    local dir=$1
    mkdir -p "$dir"
    [[ -e $dir/cert.pem ]] && return 0
    (
        cd "$dir"
        openssl ecparam -name prime256v1 -genkey -noout -out ca-key.pem
        openssl req -x509 -new -key ca-key.pem -days 30 -subj /CN=booth-ci-ca -out ca.pem
        openssl ecparam -name prime256v1 -genkey -noout -out server-key.pem
        openssl req -new -key server-key.pem -subj /CN=localhost -out server.csr
        printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > server.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
            -days 30 -extfile server.ext -out server-cert.pem
        openssl ecparam -name prime256v1 -genkey -noout -out key.pem
        openssl req -new -key key.pem -subj /CN=booth-ci-client -out client.csr
        printf 'extendedKeyUsage=clientAuth\n' > client.ext
        openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
            -days 30 -extfile client.ext -out cert.pem
        rm -f ./*.csr ./*.ext ca.srl
        chmod 600 ./*key.pem
    ) 2>/dev/null
}

start_tls() {
    local certs=$STATE/tls host=tcp://127.0.0.1:$TLS_PORT
    make_certs "$certs"
    # The inner dockerd has the same missing capability; its image has no python, so its
    # runc wrapper edits the spec with sed (the capability is a plain string in JSON).
    cat > "$certs/runc-wrapper" <<'SH'
#!/bin/sh
for a in "$@"; do
    case "$prev" in --bundle|-b) f="$a/config.json" ;; --process|-p) f="$a" ;; *) f= ;; esac
    if [ -n "$f" ] && [ -f "$f" ]; then
        sed -i -e 's/"CAP_SYS_RESOURCE",//g' -e 's/,"CAP_SYS_RESOURCE"//g' -e 's/"CAP_SYS_RESOURCE"//g' "$f"
    fi
    prev=$a
done
exec /usr/sbin/runc "$@"
SH
    chmod 755 "$certs/runc-wrapper"
    if ! docker inspect -f '{{.State.Running}}' "$TLS_CONTAINER" 2>/dev/null | grep -q true; then
        docker rm -fv "$TLS_CONTAINER" >/dev/null 2>&1 || true
        docker run -d --name "$TLS_CONTAINER" --privileged --label booth-ci=engines \
            -p "127.0.0.1:$TLS_PORT:2376" -v "$certs:/certs:ro" booth-test/dind:latest \
            dockerd --host=tcp://0.0.0.0:2376 --tlsverify --tlscacert=/certs/ca.pem \
            --tlscert=/certs/server-cert.pem --tlskey=/certs/server-key.pem \
            --add-runtime booth-runc=/certs/runc-wrapper --default-runtime booth-runc >/dev/null
    fi
    local tls=(--tlsverify --tlscacert "$certs/ca.pem" --tlscert "$certs/cert.pem" --tlskey "$certs/key.pem" -H "$host")
    wait_for 60 "TLS dockerd" docker "${tls[@]}" version
    local image
    for image in "${IMAGES[@]}"; do
        if ! docker "${tls[@]}" image inspect "$image" >/dev/null 2>&1; then
            log "tls: loading $image"
            docker save "$image" | docker "${tls[@]}" load -q >/dev/null
        fi
    done
    names+=(tls)
    {
        echo "BOOTH_TEST_ENGINE_TLS_DOCKER_HOST=$host"
        echo "BOOTH_TEST_ENGINE_TLS_DOCKER_TLS_VERIFY=1"
        echo "BOOTH_TEST_ENGINE_TLS_DOCKER_CERT_PATH=$certs"
        # The engine's host is this container: the tests create code directories in it.
        echo "BOOTH_TEST_ENGINE_TLS_HOST_CONTAINER=$TLS_CONTAINER"
    } >> "$STATE/engines.env"
    log "TLS dockerd at $host (container $TLS_CONTAINER)"
}

for engine in ${BOOTH_CI_ENGINES:-podman ssh tls}; do "start_$engine"; done
echo "BOOTH_TEST_ENGINES='${names[*]}'" >> "$STATE/engines.env"
log "ready: ${names[*]} ($STATE/engines.env)"
