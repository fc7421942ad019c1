#!/bin/sh
# Stop and remove the example's web server container, on the booth's inner daemon.
#
#   docker exec dind-example sh /home/coder/code/stop-server.sh
#   docker exec -i dind-example sh < stop-server.sh
#
# With --image it also removes the image start-server.sh built. Removing a server that is
# not there is not an error.
set -eu

NAME=dind-example-server
IMAGE=dind-example-server:latest

say() { echo "stop-server: $*"; }
die() { echo "stop-server: error: $*" >&2; exit 1; }

remove_image=0
for arg in "$@"; do
    case $arg in
        --image) remove_image=1 ;;
        -h|--help) sed -n '2,8p' "$0" 2>/dev/null || :; exit 0 ;;
        *) die "unknown argument: $arg (usage: stop-server.sh [--image])" ;;
    esac
done

if [ -z "${DOCKER_HOST:-}" ]; then
    die "DOCKER_HOST is not set, so this is not the booth: run me inside it, e.g.
  docker exec dind-example sh /home/coder/code/stop-server.sh"
fi

command -v docker >/dev/null 2>&1 ||
    die "the docker CLI is not installed in this booth image (see README.md: What it needs)"
if docker container inspect "$NAME" >/dev/null 2>&1; then
    docker rm -f "$NAME" >/dev/null
    say "removed $NAME"
else
    say "$NAME is not running (nothing to do)"
fi
if [ "$remove_image" = 1 ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
    docker rmi "$IMAGE" >/dev/null
    say "removed image $IMAGE"
fi
