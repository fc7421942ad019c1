"""The local socket's HTTP client (``engine/unix/api.py``): since the engine above the seam asks
every read through it (a container's state during an undo included), a request cut
short must not leave its answer for the next request to read."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.engine.unix import api as unix_api
from reconciler.engine.unix.api import UnixApi


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """An engine that answers every GET with ``{"path": <its path>}``, on one connection
    after another."""
    path = str(tmp_path / "engine.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen()

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection, connection.makefile("rb") as requests:
                while line := requests.readline():
                    target = line.split()[1].decode()
                    while requests.readline() not in (b"\r\n", b""):
                        pass
                    body = json.dumps({"path": target}).encode()
                    head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n"
                    connection.sendall(head.encode() + body)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield path
    listener.close()


def test_an_answer_left_unread_by_an_interrupt_is_not_the_next_requests(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = UnixApi(server, 5)
    assert api.get("/first") == {"path": "/first"}
    read = unix_api._Connection._exactly
    calls = []

    def interrupted(self: unix_api._Connection, size: int) -> bytes:
        calls.append(size)
        if len(calls) == 1:
            raise KeyboardInterrupt  # Ctrl-C after the head, before the body
        return read(self, size)

    monkeypatch.setattr(unix_api._Connection, "_exactly", interrupted)
    with pytest.raises(KeyboardInterrupt):
        api.get("/cut-short")
    assert api.get("/next") == {"path": "/next"}
    api.close()
