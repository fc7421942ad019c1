"""A TLS engine: one connection pool per run, no TLS handshake per request.

The local engine behind a TLS terminator made here (client certificates required, as
``dockerd --tlsverify``), which counts the TLS connections booth opens: a run opens one
and keeps it for its requests, plus one per stream that must stay open by itself (a
log followed while a stop runs, an exec's output).
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from engine_support import BoothDir

from reconciler.apply.certificates import issue
from reconciler.core.inner_daemon import CLIENT_TLS_DIR, SERVER_TLS_DIR

pytestmark = [pytest.mark.docker]

# Requests a run makes (the reads, creates, starts, archives, the wait's exec ...) far
# outnumber these: a handshake per request would show as dozens.
MOST_CONNECTIONS = {"apply": 4, "plan": 1, "destroy": 3}


class TlsTerminator:
    """TLS on a 127.0.0.1 port in front of the local engine's unix socket."""

    def __init__(self, directory: Path, engine_socket: str) -> None:
        files = issue("tls-connections-test")
        for path, content in files.items():
            local = directory / path.lstrip("/")
            local.parent.mkdir(parents=True, exist_ok=True)
            local.write_bytes(content)
        server = directory / SERVER_TLS_DIR.lstrip("/")
        self.client_dir = directory / CLIENT_TLS_DIR.lstrip("/")
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(server / "cert.pem", server / "key.pem")
        self.context.load_verify_locations(server / "ca.pem")
        self.context.verify_mode = ssl.CERT_REQUIRED
        # As dockerd's TLS (Go's crypto/tls) reads a client's TCP half-close between
        # records: the end of its input, not an error answered with an alert.
        self.context.options |= ssl.OP_IGNORE_UNEXPECTED_EOF
        self.engine_socket = engine_socket
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.handshakes = 0
        self.serving = threading.Thread(target=self._serve, daemon=True)
        self.serving.start()

    def env(self) -> dict[str, str]:
        return {
            "DOCKER_HOST": f"tcp://127.0.0.1:{self.port}",
            "DOCKER_TLS_VERIFY": "1",
            "DOCKER_CERT_PATH": str(self.client_dir),
        }

    def _serve(self) -> None:
        while True:
            try:
                plain, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(plain,), daemon=True).start()

    def _relay(self, plain: socket.socket) -> None:
        try:
            client = self.context.wrap_socket(plain, server_side=True)
        except (OSError, ssl.SSLError):
            plain.close()
            return
        self.handshakes += 1
        engine = socket.socket(socket.AF_UNIX)
        engine.connect(self.engine_socket)
        back = threading.Thread(target=_pump, args=(engine, client), daemon=True)
        back.start()
        _pump(client, engine)
        back.join()
        for end in (client, engine):
            end.close()

    def close(self) -> None:
        """Stop accepting: a shutdown wakes the blocked accept (a close alone does not),
        so no thread outlives the test (forking tests later in the run check that)."""
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        self.serving.join(5)


def _pump(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


@pytest.fixture
def terminator(tmp_path: Path, local_env: dict[str, str]) -> Iterator[TlsTerminator]:
    host = local_env.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if not host.startswith("unix://"):
        pytest.fail(f"the local engine must be a unix socket for this test, not {host}")
    proxy = TlsTerminator(tmp_path / "tls", host.removeprefix("unix://"))
    yield proxy
    proxy.close()


def test_a_run_over_tls_reuses_its_connections(
    make_booth: Callable[..., BoothDir], terminator: TlsTerminator
) -> None:
    b = make_booth()
    env = {**os.environ, **terminator.env()}
    opened = {}
    for command in ("apply", "plan", "destroy"):
        before = terminator.handshakes
        result = b.cli(command, env=env)
        assert result.rc == 0, result.explain()
        opened[command] = terminator.handshakes - before
    assert all(opened[c] <= most for c, most in MOST_CONNECTIONS.items()), opened
    assert opened["plan"] >= 1  # the engine was really asked through the terminator


def test_logs_and_exec_over_tls_split_their_streams_and_keep_the_engines_ca(
    make_booth: Callable[..., BoothDir], terminator: TlsTerminator, tmp_path: Path
) -> None:
    """Over TLS, with REQUESTS_CA_BUNDLE naming another CA (requests would let it replace
    the engine's, psf/requests#3829; ``sdk_private.APIClient``): a booth's log and an
    exec's output arrive each stream to its own (``docker_calls.demuxed_logs``, public
    requests calls)."""
    other_ca = tmp_path / "other-ca.pem"
    other_ca.write_bytes(issue("another-ca")[f"{SERVER_TLS_DIR}/ca.pem"])
    script = "echo hello-from-booth; echo oops-from-booth >&2; sleep infinity"
    b = make_booth(dind=False, cmds=["sh", "-c", script])
    env = {**os.environ, **terminator.env(), "REQUESTS_CA_BUNDLE": str(other_ca)}

    def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
        result = b.cli(*args, env=env, stdin=stdin)
        return result.rc, result.stdout, result.stderr

    assert run("apply")[0] == 0
    code, out, err = run("logs")
    assert (code, out) == (0, "hello-from-booth\n"), err
    assert "oops-from-booth\n" in err and "hello" not in err
    assert run("exec", "--", "sh", "-c", "echo out; echo err >&2; exit 4") == (4, "out\n", "err\n")
    # Input ends, output still arrives decrypted (the TLS session outlives the half-close).
    piped = run("exec", "-i", "--", "sh", "-c", "cat; echo done >&2", stdin="piped\n")
    assert piped == (0, "piped\n", "done\n"), piped[2]
    assert run("destroy")[0] == 0
