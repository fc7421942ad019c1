#!/bin/sh
# booth's plan for instance demo-app as docker commands, one per step (5 steps):
# running this script makes the changes booth would make.
set -e

# step 1: stop-container booth demo-app (not desired: destroy)
docker stop -t 10 demo-app
# step 2: remove-container booth demo-app (not desired: destroy)
docker rm --force --volumes demo-app
# step 3: stop-container sidecar demo-app-10000-dind (not desired: destroy)
docker stop -t 10 demo-app-10000-dind
# step 4: remove-container sidecar demo-app-10000-dind (not desired: destroy)
docker rm --force --volumes demo-app-10000-dind
# step 5: remove-network network demo-app-10000-net (not desired: destroy)
docker network rm demo-app-10000-net
