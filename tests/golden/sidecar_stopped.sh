#!/bin/sh
# booth's plan for instance demo-app as docker commands, one per step (3 steps):
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

# step 1: start-container sidecar demo-app-10000-dind (stopped)
booth_tls_present demo-app-10000-dind /etc/booth/tls/server || booth_tls_sidecar demo-app-10000-dind demo-app
docker start demo-app-10000-dind
# step 2: wait-ready sidecar demo-app-10000-dind (inner Docker daemon starting)
until docker exec demo-app-10000-dind docker -H unix:///var/run/docker.sock version >/dev/null 2>&1; do docker inspect --format '{{.State.Running}}' demo-app-10000-dind | grep -qx true || { echo 'booth: the sidecar demo-app-10000-dind stopped before its daemon answered' >&2; exit 1; }; sleep 0.2; done
# step 3: restart-container booth demo-app (namespace owner restarted)
docker restart -t 10 demo-app
