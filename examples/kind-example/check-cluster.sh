#!/bin/sh
# Check the KinD cluster from inside the booth and compare with what you expect.
#
#   ./check-cluster.sh [--expect=up|down] [--wait SECONDS] [--name CLUSTER]
#
# "up" means the API server answers (kubectl context kind-<CLUSTER>, on 127.0.0.1 of the
# namespace the booth shares with the DinD sidecar) and every node is Ready; anything else
# is "down". Prints the nodes it saw.
#
#   --expect=up|down  the state you expect (default up)
#   --wait SECONDS    retry until the state matches or SECONDS pass (default 0: look once)
#   --name CLUSTER    cluster name (default $KIND_CLUSTER_NAME or booth-kind)
#
# Exit status: 0 the observed state matches --expect, 1 it does not, 2 usage error.
set -eu

expect=up
wait_s=0
cluster=${KIND_CLUSTER_NAME:-booth-kind}

bad() { echo "check-cluster: $*" >&2; echo "usage: check-cluster.sh [--expect=up|down] [--wait S] [--name CLUSTER]" >&2; exit 2; }

while [ $# -gt 0 ]; do
    case $1 in
        --expect=*) expect=${1#*=} ;;
        --expect)   [ $# -ge 2 ] || bad "--expect needs a value"; expect=$2; shift ;;
        --wait=*)   wait_s=${1#*=} ;;
        --wait)     [ $# -ge 2 ] || bad "--wait needs a value"; wait_s=$2; shift ;;
        --name=*)   cluster=${1#*=} ;;
        --name)     [ $# -ge 2 ] || bad "--name needs a value"; cluster=$2; shift ;;
        -h|--help)  sed -n '2,15p' "$0" 2>/dev/null || :; exit 0 ;;
        *)          bad "unknown argument: $1" ;;
    esac
    shift
done
case $expect in up|down) ;; *) bad "--expect must be up or down, not '$expect'" ;; esac
case $wait_s in ''|*[!0-9]*) bad "--wait must be a whole number of seconds" ;; esac
command -v kubectl >/dev/null 2>&1 || bad "kubectl is not installed here (run me inside the booth)"

context=kind-$cluster

# observe: sets $state (up|down), $detail and $nodes.
observe() {
    state=down
    nodes=
    if ! nodes=$(kubectl --context "$context" --request-timeout=5s get nodes --no-headers 2>&1); then
        detail="API server not answering: $(printf '%s\n' "$nodes" | grep . | tail -n 1)"
        nodes=
        return
    fi
    total=$(printf '%s\n' "$nodes" | grep -c . || :)
    not_ready=$(printf '%s\n' "$nodes" | awk 'NF && $2 !~ /^Ready(,|$)/' | grep -c . || :)
    if [ "$total" -eq 0 ]; then
        detail="no nodes"
    elif [ "$not_ready" -gt 0 ]; then
        detail="$not_ready of $total nodes not Ready"
    else
        detail="$total of $total nodes Ready"
        state=up
    fi
}

started=$(date +%s)
while :; do
    observe
    if [ "$state" = "$expect" ] || [ $(($(date +%s) - started)) -ge "$wait_s" ]; then break; fi
    sleep 1
done

[ -z "$nodes" ] || printf '%s\n' "$nodes"
if [ "$state" = "$expect" ]; then
    echo "check-cluster: cluster $cluster is $state ($detail); expected $expect: OK"
    exit 0
fi
echo "check-cluster: cluster $cluster is $state ($detail); expected $expect: MISMATCH"
exit 1
