#!/bin/sh
# Create (or restart) a KinD cluster on the booth's inner Docker daemon and wait until
# every node is Ready. Run it *inside the booth*:
#   docker exec -it kind-example-10000 sh /home/coder/code/start-cluster.sh
#   (or ./start-cluster.sh in a terminal of the booth)
#
# The cluster's API server listens on 127.0.0.1:$KIND_API_PORT of the sidecar's network
# namespace, which the booth shares: kubectl in the booth reaches it, nothing outside the
# booth does (the port is not published). The node maps $APP_HOST_PORT (published by the
# sidecar, see .booth/config.toml) to NodePort $APP_NODE_PORT, so a NodePort service on
# $APP_NODE_PORT is at http://127.0.0.1:$APP_HOST_PORT/ on the host.
#
# Needs `kind` and `kubectl` in the booth and the kindest/node image in a registry the
# inner daemon can reach, or already loaded into it (see README.md).
#
# Environment:
#   KIND_CLUSTER_NAME  cluster name (default booth-kind; kubectl context kind-<name>)
#   KIND_NODE_IMAGE    node image, e.g. kindest/node:v1.30.0 (default: kind's own default)
#   KIND_API_PORT      API server port on 127.0.0.1 (default 6443)
#   APP_HOST_PORT      port the node publishes in the booth's namespace (default 8080)
#   APP_NODE_PORT      NodePort it forwards to (default 30080)
#   KIND_WAIT          seconds to wait for the nodes to be Ready (default 300)
#   KIND_POLL_INTERVAL seconds between two looks at the nodes (default 2)
set -eu

CLUSTER=${KIND_CLUSTER_NAME:-booth-kind}
NODE_IMAGE=${KIND_NODE_IMAGE:-}
API_PORT=${KIND_API_PORT:-6443}
APP_HOST_PORT=${APP_HOST_PORT:-8080}
APP_NODE_PORT=${APP_NODE_PORT:-30080}
WAIT=${KIND_WAIT:-300}
POLL=${KIND_POLL_INTERVAL:-2}
CONTEXT=kind-$CLUSTER

say() { echo "start-cluster: $*"; }
die() { echo "start-cluster: error: $*" >&2; exit 1; }

# -- preflight: inside the booth, with kind and kubectl ---------------------------------
if [ -z "${DOCKER_HOST:-}" ]; then
    die "DOCKER_HOST is not set, so this is not the booth: run me inside it, e.g.
  docker exec -it kind-example-10000 sh /home/coder/code/start-cluster.sh"
fi
missing=
for tool in kind kubectl docker; do
    command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
[ -z "$missing" ] || die "not installed in this booth:$missing (see README.md: the booth image needs kind and kubectl)"
docker version >/dev/null 2>&1 ||
    die "the inner Docker daemon at $DOCKER_HOST does not answer (is the DinD sidecar running? try 'booth status')"

# -- create, or restart the nodes of an existing cluster ---------------------------------
if kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
    say "cluster $CLUSTER exists; starting any stopped node"
    for node in $(kind get nodes --name "$CLUSTER"); do
        docker start "$node" >/dev/null
    done
else
    config=$(mktemp)
    trap 'rm -f "$config"' EXIT INT TERM
    # listenAddress 0.0.0.0 is the sidecar's namespace, not the host: the sidecar's
    # published port arrives on its bridge interface, so 127.0.0.1 would not be reached.
    cat > "$config" <<EOF
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
name: $CLUSTER
networking:
  apiServerAddress: "127.0.0.1"
  apiServerPort: $API_PORT
nodes:
  - role: control-plane
    extraPortMappings:
      - containerPort: $APP_NODE_PORT
        hostPort: $APP_HOST_PORT
        listenAddress: "0.0.0.0"
        protocol: TCP
EOF
    set -- create cluster --name "$CLUSTER" --config "$config" --wait "${WAIT}s"
    if [ -n "$NODE_IMAGE" ]; then set -- "$@" --image "$NODE_IMAGE"; fi
    say "kind $* (API server on 127.0.0.1:$API_PORT)"
    if ! kind "$@"; then
        die "kind could not create the cluster. If the node image could not be pulled (no
registry reachable), load it into the inner daemon from a machine that has it:
  docker save kindest/node:<tag> | docker exec -i <booth> docker load
and run me again with KIND_NODE_IMAGE=kindest/node:<tag>."
    fi
fi

# -- wait until kubectl sees every node Ready ---------------------------------------------
started=$(date +%s)
while :; do
    if nodes=$(kubectl --context "$CONTEXT" --request-timeout=5s get nodes --no-headers 2>/dev/null) &&
        [ -n "$nodes" ] &&
        [ -z "$(printf '%s\n' "$nodes" | awk '$2 !~ /^Ready(,|$)/')" ]; then
        break
    fi
    if [ $(($(date +%s) - started)) -ge "$WAIT" ]; then
        kubectl --context "$CONTEXT" get nodes >&2 || :
        die "the nodes of $CLUSTER are not Ready after ${WAIT}s"
    fi
    sleep "$POLL"
done
printf '%s\n' "$nodes"
say "cluster $CLUSTER is Ready (kubectl context $CONTEXT, API https://127.0.0.1:$API_PORT)"
say "a NodePort service on $APP_NODE_PORT is at http://127.0.0.1:$APP_HOST_PORT/ on the host"
