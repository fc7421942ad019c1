#!/bin/sh
# Delete the KinD cluster (its node containers on the inner daemon and its kubectl
# context). Run it inside the booth:
#   docker exec kind-example-10000 sh /home/coder/code/stop-cluster.sh
# Deleting a cluster that does not exist is not an error. The node image stays in the
# inner daemon (and in the booth's data volume), so the next start-cluster.sh is fast;
# `booth destroy --volumes` removes it with everything else.
#
# Environment: KIND_CLUSTER_NAME (default booth-kind).
set -eu

CLUSTER=${KIND_CLUSTER_NAME:-booth-kind}

die() { echo "stop-cluster: error: $*" >&2; exit 1; }

[ -n "${DOCKER_HOST:-}" ] || die "DOCKER_HOST is not set, so this is not the booth: run me inside it"
command -v kind >/dev/null 2>&1 || die "kind is not installed in this booth (see README.md)"

if kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
    kind delete cluster --name "$CLUSTER"
    echo "stop-cluster: deleted cluster $CLUSTER"
else
    echo "stop-cluster: there is no cluster $CLUSTER (nothing to do)"
fi
