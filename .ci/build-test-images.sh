#!/usr/bin/env bash
# Build, once per machine, the local images the tests use (no registry is reachable here):
#   booth-test/dind:latest     Debian bookworm + docker.io; entrypoint behaves like docker:dind's
#   booth-test/busybox:latest  FROM scratch + static busybox, for inner test workloads
#   booth-test/booth:latest    same rootfs as dind (busybox + docker CLI), runs `sleep infinity`,
#                              no VOLUME; for booth containers talking to a sidecar's daemon
# An image is skipped when its tag exists with the current recipe label; bump RECIPE after
# changing a recipe below (or set BOOTH_CI_REBUILD=1) to rebuild.
set -euo pipefail

RECIPE=2
DIND=booth-test/dind:latest
BUSYBOX=booth-test/busybox:latest
BOOTH=booth-test/booth:latest

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
# Legacy builder: works with Debian's 20.10 engine whichever docker client is first in PATH.
export DOCKER_BUILDKIT=0

log() { echo "build-test-images: $*" >&2; }

# `docker build`, showing its output only on failure (newer clients warn that the legacy
# builder is deprecated on every run).
quiet_build() {
    local out
    out=$(docker build -q "$@" 2>&1) || { echo "$out" >&2; exit 1; }
}

# Engine up and debootstrap/busybox-static installed (fast no-op when already done).
"$HERE/docker-up.sh"

up_to_date() {
    [[ ${BOOTH_CI_REBUILD:-0} != 1 ]] &&
        [[ $(docker image inspect -f '{{index .Config.Labels "booth-test.recipe"}}' "$1" 2>/dev/null) == "$RECIPE" ]]
}

TMP=
cleanup() { if [[ -n $TMP ]]; then rm -rf "$TMP"; fi; }
trap cleanup EXIT

# The Debian mirror apt itself uses here (handles both sources.list and deb822 .sources):
# bookworm's, else any Debian suite's (a mirror serves every suite). Only the machine's own
# apt sources are read, or BOOTH_DEBIAN_MIRROR; no host is written into this repository.
debian_mirror() {
    local uri=${BOOTH_DEBIAN_MIRROR:-}
    # shellcheck disable=SC2016  # $(REPO_URI) is apt's placeholder, not a shell expansion
    [[ -n $uri ]] || uri=$(apt-get indextargets --format '$(REPO_URI)' 'Created-By: Packages' 'Origin: Debian' 'Label: Debian' 'Codename: bookworm' 2>/dev/null | head -n1)
    # shellcheck disable=SC2016
    [[ -n $uri ]] || uri=$(apt-get indextargets --format '$(REPO_URI)' 'Created-By: Packages' 'Origin: Debian' 2>/dev/null | head -n1)
    if [[ -z $uri ]]; then
        log "no Debian mirror in apt's sources (run apt-get update first), and BOOTH_DEBIAN_MIRROR is not set"
        exit 1
    fi
    echo "$uri"
}

build_dind_and_booth() {
    local root mirror t0=$SECONDS
    TMP=$(mktemp -d /var/tmp/booth-dind.XXXXXX)   # not /tmp: debootstrap needs exec + device nodes
    root=$TMP/root
    mirror=$(debian_mirror)
    log "debootstrap bookworm from $mirror"
    debootstrap --variant=minbase \
        --include=docker.io,iptables,ca-certificates,procps,iproute2,busybox \
        bookworm "$root" "$mirror" >"$TMP/debootstrap.log" 2>&1 ||
        { tail -n 30 "$TMP/debootstrap.log" >&2; exit 1; }

    # Shrink: package caches, indexes, docs, man pages, logs.
    rm -rf "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/* "$root"/var/log/* \
        "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
        "$root"/usr/share/locale/* "$root"/tmp/* "$root"/var/tmp/*

    # Debian's busybox ships no applet links; tests poll /_ping with `wget` from inside.
    ln -sf /bin/busybox "$root/usr/local/bin/wget"

    # Same contract as docker:dind's entrypoint: no args or leading flags -> dockerd with
    # those flags; anything else is exec'ed as given.
    cat > "$root/usr/local/bin/dockerd-entrypoint.sh" <<'SH'
#!/bin/sh
set -e
if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ]; then
    set -- dockerd --host=unix:///var/run/docker.sock --host=tcp://0.0.0.0:2375 --tls=false "$@"
fi
if [ "$1" = dockerd ]; then
    # A restarted container keeps the pid files of its killed daemons; they block startup.
    find /run /var/run -iname 'docker*.pid' -delete 2>/dev/null || :
fi
exec "$@"
SH
    chmod 755 "$root/usr/local/bin/dockerd-entrypoint.sh"

    # Both images are imported from the same rootfs: identical tar streams give one shared
    # layer on disk. The booth image is not built FROM the dind image because it would then
    # inherit VOLUME /var/lib/docker (no way to unset it) and every booth container would
    # leave an anonymous volume behind.
    log "importing $DIND and $BOOTH"
    # VOLUME: the inner daemon's overlay2 does not work on top of the image's overlay fs.
    import_rootfs "$root" "$DIND" \
        -c 'ENTRYPOINT ["/usr/local/bin/dockerd-entrypoint.sh"]' \
        -c 'CMD []' \
        -c 'VOLUME /var/lib/docker' \
        -c 'EXPOSE 2375'
    import_rootfs "$root" "$BOOTH" \
        -c 'CMD ["sleep", "infinity"]'
    rm -rf "$TMP"; TMP=
    log "$DIND and $BOOTH built in $((SECONDS - t0))s ($(docker image inspect -f '{{.Size}}' "$DIND" | awk '{printf "%d MB", $1/1e6}'), shared)"
}

# import_rootfs DIR TAG [docker import -c ...]: deterministic tar (sorted) so layers dedupe.
import_rootfs() {
    local root=$1 tag=$2; shift 2
    tar -C "$root" --sort=name --numeric-owner -c . | docker import "$@" \
        -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        -c 'ENV DOCKER_TLS_CERTDIR=' \
        -c "LABEL booth-test.recipe=$RECIPE" \
        - "$tag" >/dev/null
}

build_busybox() {
    local t0=$SECONDS
    TMP=$(mktemp -d)
    # Must be the static build (busybox-static): the image has no libc.
    cp /bin/busybox "$TMP/busybox"
    ! ldd "$TMP/busybox" >/dev/null 2>&1 || { log "/bin/busybox is not static; install busybox-static"; exit 1; }
    cat > "$TMP/Dockerfile" <<DF
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
LABEL booth-test.recipe=$RECIPE
CMD ["/bin/sh"]
DF
    quiet_build -t "$BUSYBOX" "$TMP"
    rm -rf "$TMP"; TMP=
    log "$BUSYBOX built in $((SECONDS - t0))s"
}

# dind and booth come from one debootstrap run: rebuild both if either is missing or stale.
if up_to_date "$DIND" && up_to_date "$BOOTH"; then
    log "$DIND and $BOOTH up to date"
else
    build_dind_and_booth
fi
if up_to_date "$BUSYBOX"; then log "$BUSYBOX up to date"; else build_busybox; fi
