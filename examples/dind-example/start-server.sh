#!/bin/sh
# Start the example's web server *inside the booth*, on the booth's inner Docker daemon.
#
# Run it in the booth (a terminal in the desktop, or from the host):
#   docker exec dind-example sh /home/coder/code/start-server.sh
#   docker exec -i dind-example sh < start-server.sh      (works too: falls back to
#                                                               /home/coder/code/www)
# It builds a tiny image FROM $SERVER_BASE_IMAGE (default busybox:latest) that serves
# www/index.html with busybox httpd on port 8080, and runs it as the container
# dind-example-server with -p 8080:8080. The inner daemon binds 8080 in the namespace the
# booth shares with the DinD sidecar, and the sidecar publishes 8080 to the host, so the
# page is then at http://127.0.0.1:8080/ on the host (check it with ./check-server.sh).
#
# Environment:
#   SERVER_BASE_IMAGE  image with busybox httpd to build on (default busybox:latest)
#   SERVER_WWW         directory with index.html (default: www/ next to this script, or
#                      /home/coder/code/www when the script is piped in on stdin)
#   SERVER_WAIT        seconds to wait for the server to answer (default 20)
#   DOCKER_HOST        must be set (the booth sets tcp://localhost:2376); this script
#                      refuses to run against the host's own daemon.
set -eu

NAME=dind-example-server
IMAGE=dind-example-server:latest
PORT=8080
BASE=${SERVER_BASE_IMAGE:-busybox:latest}
WAIT=${SERVER_WAIT:-20}

say() { echo "start-server: $*"; }
die() { echo "start-server: error: $*" >&2; exit 1; }

if [ -z "${DOCKER_HOST:-}" ]; then
    die "DOCKER_HOST is not set, so this is not the booth: run me inside it, e.g.
  docker exec dind-example sh /home/coder/code/start-server.sh"
fi
command -v docker >/dev/null 2>&1 ||
    die "the docker CLI is not installed in this booth image (see README.md: What it needs)"
if ! docker version >/dev/null 2>&1; then
    die "the inner Docker daemon at $DOCKER_HOST does not answer (is the DinD sidecar running? try 'booth status')"
fi

# Where is www/? Next to the script when run as a file, else the booth's code directory.
www=${SERVER_WWW:-}
if [ -z "$www" ]; then
    case $0 in
        */*) www=$(cd "$(dirname "$0")" && pwd)/www ;;
        *)   www=/home/coder/code/www ;;
    esac
    [ -f "$www/index.html" ] || www=/home/coder/code/www
fi
[ -f "$www/index.html" ] || die "no index.html in $www (set SERVER_WWW)"

# The base image: present in the inner daemon, or pullable, or explain how to load it.
if ! docker image inspect "$BASE" >/dev/null 2>&1; then
    say "$BASE is not in the inner daemon; pulling it"
    if command -v timeout >/dev/null 2>&1; then pull="timeout 300 docker pull"; else pull="docker pull"; fi
    if ! $pull "$BASE"; then
        die "cannot pull $BASE. Without a registry, load an image with busybox httpd from the host:
  docker save booth-test/busybox:latest | docker exec -i <booth> docker load
and run me again with SERVER_BASE_IMAGE=booth-test/busybox:latest
(<booth> is the booth container, e.g. dind-example; see 'booth status')."
    fi
fi

# A small build context of its own: the Dockerfile and the page, nothing else.
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT INT TERM
cp -R "$www" "$ctx/www"
cat > "$ctx/Dockerfile" <<'EOF'
ARG BASE=busybox:latest
FROM ${BASE}
COPY www/ /www/
EXPOSE 8080
CMD ["httpd", "-f", "-v", "-p", "8080", "-h", "/www"]
EOF
say "building $IMAGE FROM $BASE (inner daemon $DOCKER_HOST)"
docker build -q --build-arg "BASE=$BASE" --label io.codingbooth.example=dind-example \
    -t "$IMAGE" "$ctx" >/dev/null

# Idempotent: replace a previous server container.
docker rm -f "$NAME" >/dev/null 2>&1 || :
docker run -d --name "$NAME" --label io.codingbooth.example=dind-example \
    -p "$PORT:$PORT" "$IMAGE" >/dev/null
say "started $NAME (-p $PORT:$PORT on the inner daemon)"

# Wait until it answers from here (the booth shares the sidecar's network namespace).
url=http://127.0.0.1:$PORT/
fetch() {
    if command -v curl >/dev/null 2>&1; then
        curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null
    elif command -v timeout >/dev/null 2>&1; then
        # Not wget -T: busybox 1.35's wget segfaults with it.
        timeout 2 wget -q -O /dev/null "$url" 2>/dev/null
    else
        wget -q -O /dev/null "$url" 2>/dev/null
    fi
}
started=$(date +%s)
until fetch; do
    if [ $(($(date +%s) - started)) -ge "$WAIT" ]; then
        docker logs --tail 20 "$NAME" >&2 || :
        die "$NAME did not answer on $url within ${WAIT}s"
    fi
    sleep 1
done
say "$NAME answers on $url inside the booth; from the host: ./check-server.sh --expect=up"
