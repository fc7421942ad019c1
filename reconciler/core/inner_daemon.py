"""How the booth reaches the inner Docker daemon: one of three listeners, as spec fields.

dockerd sleeps one second before it serves anything whenever it binds a TCP address
without client-verified TLS (moby ``cmd/dockerd``, ``loadListeners``), and that second
sits on the critical path of every ``apply`` and ``booth run``. Two listeners avoid it:

* ``tls`` (the default): mutual TLS on ``127.0.0.1:2376`` with certificates booth makes
  for each sidecar (``apply/certificates.py``). No penalty, and only the booth holds a client
  certificate: other processes in the shared namespace (a browser's scripts, an inner
  container on the host network) no longer reach a root API on localhost.
* ``unix``: a unix socket in a volume the sidecar declares and the booth mounts
  (``VolumesFrom``, read-only). No penalty and no network at all, but the socket belongs to
  root (group ``root``), so a booth whose user is not root cannot use it.
* ``tcp``: the seed's ``tcp://localhost:2375``, plain and unauthenticated, for tools that
  hard-code it. It pays the second.

Only names and paths live here, so the specs (and their hashes) stay a pure function of
the config; the per-instance certificates never enter a spec.
"""

from __future__ import annotations

from enum import StrEnum

from reconciler.core.ports import DAEMON_PORT

TLS_PORT = 2376
# In the sidecar: the server's files (dockerd reads them) and the client's, from which
# every booth created next to this sidecar gets its copy. The CA key is never stored.
SIDECAR_TLS_DIR = "/etc/booth/tls"
SERVER_TLS_DIR = f"{SIDECAR_TLS_DIR}/server"
CLIENT_TLS_DIR = f"{SIDECAR_TLS_DIR}/client"
# In the booth: DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem, as the docker CLI wants them).
BOOTH_CERT_PATH = "/etc/booth/docker-tls"
# The shared socket's directory: a volume of the sidecar, mounted read-only in the booth
# (a read-only mount does not stop connecting to a socket).
SOCKET_DIR = "/booth-docker"
# Readiness asks the daemon's own unix socket inside the sidecar: it needs no client
# certificate and answers as soon as the daemon serves.
LOCAL_SOCKET = "/var/run/docker.sock"
# The ``tcp`` listener's ping, asked inside the sidecar's namespace: by booth's readiness
# wait, by the wait of ``--format docker`` and by the Kubernetes startup probe.
PING_URL = f"http://127.0.0.1:{DAEMON_PORT}/_ping"


def http_ping(url: str = PING_URL) -> str:
    """A shell command that fetches ``url``: with wget, or with busybox's where a DinD
    image has no wget of its own."""
    return f"wget -q -O- {url} || busybox wget -q -O- {url}"


class InnerListener(StrEnum):
    """Where the inner dockerd listens for the booth, and so what the booth's docker client
    is given: the ``daemon-endpoint`` config key's values. (Not the engine booth talks
    to: that one is ``engine_address``'s.)"""

    TLS = "tls"
    UNIX = "unix"
    TCP = "tcp"


DEFAULT_INNER_LISTENER = InnerListener.TLS


def sidecar_command(listener: InnerListener) -> list[str]:
    """The inner dockerd's arguments. ``tcp`` is exactly the seed's command."""
    local = f"--host=unix://{LOCAL_SOCKET}"
    if listener == InnerListener.TCP:
        return ["dockerd", local, f"--host=tcp://127.0.0.1:{DAEMON_PORT}", "--tls=false"]
    if listener == InnerListener.UNIX:
        return ["dockerd", local, f"--host=unix://{SOCKET_DIR}/docker.sock"]
    return [
        "dockerd",
        local,
        f"--host=tcp://127.0.0.1:{TLS_PORT}",
        "--tlsverify",
        f"--tlscacert={SERVER_TLS_DIR}/ca.pem",
        f"--tlscert={SERVER_TLS_DIR}/cert.pem",
        f"--tlskey={SERVER_TLS_DIR}/key.pem",
    ]


def socket_ping(socket: str = LOCAL_SOCKET) -> list[str]:
    """Ask the daemon on its own unix socket with the docker CLI DinD images carry: no
    client certificate needed, whichever listener the booth uses, and once the socket
    exists the request waits until the daemon serves."""
    return ["docker", "-H", f"unix://{socket}", "version"]


def ping_command(listener: InnerListener) -> list[str]:
    """One ping of the inner daemon, as an exec in the sidecar runs it."""
    if listener == InnerListener.TCP:
        return ["sh", "-c", http_ping()]
    return socket_ping()


def booth_env(listener: InnerListener) -> list[str]:
    """What a docker client in the booth reads: DOCKER_HOST and, for TLS, its files."""
    if listener == InnerListener.TCP:
        return [f"DOCKER_HOST=tcp://localhost:{DAEMON_PORT}"]
    if listener == InnerListener.UNIX:
        return [f"DOCKER_HOST=unix://{SOCKET_DIR}/docker.sock"]
    return [
        f"DOCKER_HOST=tcp://localhost:{TLS_PORT}",
        "DOCKER_TLS_VERIFY=1",
        f"DOCKER_CERT_PATH={BOOTH_CERT_PATH}",
    ]
