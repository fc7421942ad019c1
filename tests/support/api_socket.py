"""A few Engine API answers on a real socket here, for the unit tests of the SDK's insides.

Not an engine: it answers the handful of requests ``test_private_apis.py`` and
``test_log_frames.py`` make through the real Docker SDK, requests and urllib3, so those
libraries run their own code paths (the unix adapter, TLS, a hijacked connection) over a
real socket, and it records what it was asked. Anything else is a 404 in Docker's shape.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import socket
import socketserver
import ssl
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

API = "1.41"
VERSION = {"ApiVersion": API, "Version": "20.10.24", "Os": "linux", "Arch": "amd64"}
# A log, as frames: (stream, payload, seconds of silence before it).
LOG: list[tuple[int, bytes, float]] = [(1, b"out\n", 0.0), (2, b"err\n", 0.0)]


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, *_args: Any) -> None:
        """Quiet: the tests read ``server.requests``."""

    def do_GET(self) -> None:
        self.server.requests.append((self.command, self.path, dict(self.headers)))
        path = self.path.split("?")[0]
        if path == "/version":
            self._json(200, VERSION)
        elif path.startswith(f"/v{API}/containers/box") and path.endswith("/json"):
            self._json(200, {"Id": "box", "Config": {"Tty": False}})
        elif path == f"/v{API}/containers/box/logs":
            self._log()
        else:
            name = path.split("/")[3] if path.count("/") > 3 else path
            self._json(404, {"message": f"No such container: {name}"})

    def do_POST(self) -> None:
        self.server.requests.append((self.command, self.path, dict(self.headers)))
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        if self.path.startswith((f"/v{API}/exec/run/start", f"/v{API}/containers/box/attach")):
            self._hijacked()
        else:
            self._json(404, {"message": "page not found"})

    def _json(self, status: int, document: Any) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _log(self) -> None:
        """The frames of ``server.log``, each after its silence, then the end (a close)."""
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.docker.multiplexed-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.flush()
        for stream, payload, silence in self.server.log:
            time.sleep(silence)
            self.wfile.write(bytes([stream, 0, 0, 0]) + len(payload).to_bytes(4, "big") + payload)
            self.wfile.flush()
        self.close_connection = True

    def _hijacked(self) -> None:
        """Docker's upgrade to a raw stream: echo what arrives, then ``bye`` at its end."""
        self.send_response(101, "UPGRADED")
        self.send_header("Content-Type", "application/vnd.docker.raw-stream")
        self.send_header("Connection", "Upgrade")
        self.send_header("Upgrade", "tcp")
        self.end_headers()
        self.wfile.flush()
        while data := self.connection.recv(65536):
            self.connection.sendall(data)
        self.connection.sendall(b"bye")
        self.close_connection = True


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    requests: list[tuple[str, str, dict[str, str]]]
    log: list[tuple[int, bytes, float]]

    def server_bind(self) -> None:
        if self.address_family == socket.AF_UNIX:
            socketserver.TCPServer.server_bind(self)  # no host name to look up
            self.server_name, self.server_port = "localhost", 0
        else:
            super().server_bind()


class _UnixServer(_Server):
    address_family = socket.AF_UNIX


@contextlib.contextmanager
def serving(server: _Server) -> Iterator[_Server]:
    server.requests, server.log = [], list(LOG)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextlib.contextmanager
def unix_api() -> Iterator[tuple[str, _Server]]:
    """The answers on a unix socket: (``unix://`` URL, the server)."""
    with tempfile.TemporaryDirectory(prefix="booth-api-") as directory:
        path = str(Path(directory) / "api.sock")  # short: a socket path has 107 bytes
        with serving(_UnixServer(path, _Handler)) as server:
            yield f"unix://{path}", server


@contextlib.contextmanager
def tls_api(cert: Path, key: Path) -> Iterator[tuple[str, _Server]]:
    """The answers over TLS on 127.0.0.1 with ``cert``: (``https://`` URL, the server)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = _Server(("127.0.0.1", 0), _Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    with serving(server) as served:
        yield f"https://127.0.0.1:{server.server_address[1]}", served
