#!/bin/sh
# booth's plan for instance demo-app as docker commands, one per step (7 steps):
# running this script makes the changes booth would make.
set -e

# The tls endpoint (daemon-endpoint = "tls"): for each new sidecar booth makes a CA, a
# server and a client certificate (P-256, 825 days), copies them into the created
# container before it starts (with the Engine API's archive upload) and forgets the CA
# key; each booth gets a copy of its sidecar's client files. These functions do the same
# with openssl and docker cp.
booth_tls=$(mktemp -d)
trap 'rm -rf "$booth_tls"' EXIT
booth_tls_sidecar() {  # CONTAINER INSTANCE
  c=$1 i=$2 d="$booth_tls/$1"
  mkdir -p "$d/etc-booth/tls/server" "$d/etc-booth/tls/client"
  cat >"$d/openssl.cnf" <<'EOF'
[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical,CA:TRUE,pathlen:0
[server]
basicConstraints = critical,CA:FALSE
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
[client]
basicConstraints = critical,CA:FALSE
extendedKeyUsage = clientAuth
EOF
  set -- -config "$d/openssl.cnf" -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes
  openssl req -x509 "$@" -extensions ca -days 825 -subj "/CN=booth CA $i" \
    -keyout "$d/ca-key.pem" -out "$d/ca.pem" 2>/dev/null
  for side in server client; do
    if [ "$side" = client ]; then cn="booth $i"; else cn=localhost; fi
    openssl req -new "$@" -subj "/CN=$cn" -keyout "$d/etc-booth/tls/$side/key.pem" \
      -out "$d/$side.csr" 2>/dev/null
    openssl x509 -req -in "$d/$side.csr" -CA "$d/ca.pem" -CAkey "$d/ca-key.pem" \
      -CAcreateserial -CAserial "$d/ca.srl" -days 825 -extfile "$d/openssl.cnf" \
      -extensions "$side" -out "$d/etc-booth/tls/$side/cert.pem" 2>/dev/null
    cp "$d/ca.pem" "$d/etc-booth/tls/$side/ca.pem"
  done
  rm -f "$d/ca-key.pem"
  chmod 755 "$d/etc-booth" "$d/etc-booth/tls" "$d/etc-booth/tls/server" "$d/etc-booth/tls/client"
  chmod 644 "$d"/etc-booth/tls/*/*.pem
  docker cp "$d/etc-booth/." "$c:/etc/booth"
}
booth_tls_present() {  # CONTAINER DIRECTORY
  for f in ca cert key; do docker cp "$1:$2/$f.pem" - >/dev/null 2>&1 || return 1; done
}
booth_tls_booth() {  # SIDECAR BOOTH
  d="$booth_tls/$2" && mkdir -p "$d/etc-booth/docker-tls"
  docker cp "$1:/etc/booth/tls/client/." "$d/etc-booth/docker-tls"
  chmod 755 "$d/etc-booth" "$d/etc-booth/docker-tls" && chmod 644 "$d"/etc-booth/docker-tls/*.pem
  docker cp "$d/etc-booth/." "$2:/etc/booth"
}

# step 1: create-network network demo-app-10000-net (not found)
docker network create --driver bridge --label io.codingbooth.managed=true --label io.codingbooth.instance=demo-app --label io.codingbooth.role=network --label io.codingbooth.spec-hash=8aeeb9135bc5af631ef48f490bc2f518690a4d36e605a2f9406a9cccb1091c40 --label 'io.codingbooth.spec-fields={"Driver":"5b3f874c3d2c"}' --label io.codingbooth.port=10000 demo-app-10000-net
# step 2: create-volume volume demo-app-dind-data (not found)
docker volume create --driver local --label io.codingbooth.managed=true --label io.codingbooth.instance=demo-app --label io.codingbooth.role=volume --label io.codingbooth.spec-hash=9020e38fe4793cdd66877e27813b0c9631ef8e8f83af283696a414cebb05e6af --label 'io.codingbooth.spec-fields={"Driver":"ea17e25c6c7a"}' --label io.codingbooth.port=10000 demo-app-dind-data
# step 3: create-container sidecar demo-app-10000-dind (not found)
docker create --name demo-app-10000-dind --privileged --network demo-app-10000-net -v demo-app-dind-data:/var/lib/docker --tmpfs /run -p 127.0.0.1:10000:10000 -p 127.0.0.1:8080:8080 -p 127.0.0.1:3000:3000 -e DOCKER_TLS_CERTDIR= --label io.codingbooth.managed=true --label io.codingbooth.instance=demo-app --label io.codingbooth.role=sidecar --label io.codingbooth.spec-hash=7e0ddf80f07e14719fa28bad8f9fa62d3b7175df5e8f8bce2c3708cf63c499aa --label 'io.codingbooth.spec-fields={"Cmd":"264cd72b4cde","Env":"9c4260b6e9de","ExposedPorts":"84996ab537f2","HostConfig.Binds":"bad9ffe9a71c","HostConfig.NetworkMode":"40315566c0b8","HostConfig.PortBindings":"387c42f29771","HostConfig.Privileged":"b5bea41b6c62","HostConfig.Tmpfs":"caa59fc4deb6","Image":"78b7c991546f"}' --label io.codingbooth.port=10000 docker:dind dockerd --host=unix:///var/run/docker.sock --host=tcp://127.0.0.1:2376 --tlsverify --tlscacert=/etc/booth/tls/server/ca.pem --tlscert=/etc/booth/tls/server/cert.pem --tlskey=/etc/booth/tls/server/key.pem
booth_tls_sidecar demo-app-10000-dind demo-app
# step 4: create-container booth demo-app (not found)
docker create --name demo-app --workdir /home/coder/code --network container:demo-app-10000-dind --init --mount type=bind,source=/srv/demo-app,target=/home/coder/code -e CB_CODE_PATH=/srv/demo-app -e CB_CODE_PORT=10000 -e CB_CONFIG_FILE=/srv/demo-app/.booth/config.toml -e CB_CONTAINER_NAME=demo-app -e CB_DIND=true -e CB_DOCKERFILE= -e CB_ENV_FILE= -e CB_HOST_GID=1000 -e CB_HOST_PORT=10000 -e CB_HOST_UID=1000 -e CB_IMAGE_NAME=nawaman/codingbooth:desktop-xfce-0.13.0 -e CB_PORT=NEXT -e CB_PROJECT_NAME=demo-app -e CB_SETUPS=/opt/codingbooth/setups -e CB_TIMEZONE=UTC -e CB_VARIANT_TAG=desktop-xfce -e CB_VERSION_TAG=0.13.0 -e DOCKER_CERT_PATH=/etc/booth/docker-tls -e DOCKER_HOST=tcp://localhost:2376 -e DOCKER_TLS_VERIFY=1 -e HOST_GID=1000 -e HOST_UID=1000 -e TZ=UTC --label io.codingbooth.managed=true --label io.codingbooth.instance=demo-app --label io.codingbooth.role=booth --label io.codingbooth.spec-hash=da7f669a1d7563548236922099c83e6593d8905e620ff10504a814db92b8eadd --label 'io.codingbooth.spec-fields={"Env":"8dc81790b91d","HostConfig.Binds":"8bfa03104b52","HostConfig.Init":"b5bea41b6c62","HostConfig.NetworkMode":"83e6913214fc","HostConfig.Privileged":"fcbcf165908d","Image":"c9a868572499","WorkingDir":"aa989bf5b741"}' --label io.codingbooth.code-dir=/srv/demo-app --label io.codingbooth.port=10000 nawaman/codingbooth:desktop-xfce-0.13.0
booth_tls_booth demo-app-10000-dind demo-app
# step 5: start-container sidecar demo-app-10000-dind (not found)
docker start demo-app-10000-dind
# step 6: wait-ready sidecar demo-app-10000-dind (inner Docker daemon starting)
until docker exec demo-app-10000-dind docker -H unix:///var/run/docker.sock version >/dev/null 2>&1; do docker inspect --format '{{.State.Running}}' demo-app-10000-dind | grep -qx true || { echo 'booth: the sidecar demo-app-10000-dind stopped before its daemon answered' >&2; exit 1; }; sleep 0.2; done
# step 7: start-container booth demo-app (not found)
docker start demo-app
