"""GET requests to an engine's Engine API over its local unix socket, standard library only.

A converged ``booth plan`` asks a local engine a handful of questions and changes nothing;
importing the Docker SDK to ask them (with requests, urllib3, charset_normalizer, idna,
certifi ...) cost more than the questions themselves. Over a unix socket there is no TLS,
no proxy and no SSH to handle: a GET and its JSON answer are all it takes. Everything else
(writes, streams, other transports) stays with the SDK.

The HTTP/1.1 exchange is written here (a request line, the response's head, a body by
``Content-Length`` or chunked) rather than taken from ``http.client``, which imports the
``email`` package and ``ssl`` (7 ms, a twentieth of a converged plan) for features a GET
on a local socket never uses.

The client talks as the SDK does, so the documents booth parses are the same: request
paths carry the API version the engine's ``/version`` named (docker-py's ``"auto"``), and
an engine's error becomes the engine's own message. Transport failures are worded as
requests words them, so a socket nobody serves reads as it did through the SDK.
"""

from __future__ import annotations

import json
import socket
import urllib.parse
from collections.abc import Mapping
from typing import IO, Any

from reconciler.errors import EngineError, EngineNotFound

MAX_LINE = 65536


class _Connection:
    """One persistent HTTP/1.1 connection to a unix socket, opened when first needed."""

    def __init__(self, path: str, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._reader: IO[bytes] | None = None

    @property
    def is_open(self) -> bool:
        return self._sock is not None

    def set_timeout(self, seconds: float) -> None:
        self.timeout = seconds
        if self._sock is not None:
            self._sock.settimeout(seconds)

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
        if self._sock is not None:
            self._sock.close()
        self._sock = self._reader = None

    def get(self, target: str) -> tuple[int, bytes]:
        if self._sock is None:
            self._open()
        assert self._sock is not None
        request = f"GET {target} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: booth\r\n\r\n"
        self._sock.sendall(request.encode())
        status, headers = self._head()
        body = self._body(headers)
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, body

    def _open(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.path)
        except OSError:
            sock.close()
            raise
        self._sock, self._reader = sock, sock.makefile("rb")

    def _line(self) -> bytes:
        assert self._reader is not None
        line = self._reader.readline(MAX_LINE)
        if not line.endswith(b"\n"):
            raise ConnectionResetError("the engine closed the connection")
        return line

    def _head(self) -> tuple[int, dict[str, str]]:
        """The status code and the headers (names in lower case)."""
        status = int(self._line().split(None, 2)[1])
        headers = {}
        while (line := self._line()) not in (b"\r\n", b"\n"):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        return status, headers

    def _body(self, headers: Mapping[str, str]) -> bytes:
        if headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self._line().split(b";")[0], 16):
                chunks.append(self._exactly(size))
                self._line()  # the chunk's CRLF
            while self._line() not in (b"\r\n", b"\n"):  # trailers
                pass
            return b"".join(chunks)
        return self._exactly(int(headers.get("content-length", "0")))

    def _exactly(self, size: int) -> bytes:
        assert self._reader is not None
        data = self._reader.read(size)
        if len(data) != size:
            raise ConnectionResetError("the engine closed the connection")
        return data


class UnixApi:
    """One persistent connection to the engine's socket, JSON documents back.

    ``api_version`` is None until the caller has learnt it from ``/version``; paths are
    versioned with it from then on.
    """

    def __init__(self, path: str, timeout: float) -> None:
        self._connection = _Connection(path, timeout)
        self.api_version: str | None = None

    def set_timeout(self, seconds: float) -> None:
        """The timeout of every later request (the first, ``/version``, has a short one)."""
        self._connection.set_timeout(seconds)

    def close(self) -> None:
        self._connection.close()

    def get(
        self, path: str, params: Mapping[str, Any] | None = None, *, versioned: bool = True
    ) -> Any:
        """The JSON document at ``path`` (404: :class:`EngineNotFound`; any other failure:
        :class:`EngineError`, with the engine's message when it gave one)."""
        prefix = f"/v{self.api_version}" if versioned and self.api_version else ""
        query = urllib.parse.urlencode({k: v for k, v in (params or {}).items() if v is not None})
        target = prefix + path + (f"?{query}" if query else "")
        status, body = self.send(target)
        if status >= 400:
            message = _engine_message(body) or f"{status} error for {target}"
            raise (EngineNotFound if status == 404 else EngineError)(message)
        try:
            return json.loads(body)
        except ValueError as err:
            raise EngineError(f"invalid JSON from {target}: {err}") from None

    def send(self, target: str) -> tuple[int, bytes]:
        """One GET request: its status and body (the request counters of the tests wrap it)."""
        connection = self._connection
        try:
            try:
                reused = connection.is_open
                return connection.get(target)
            except ConnectionError:
                # An engine may close a connection it kept idle (Podman's service does
                # after a few seconds): once, on a new connection.
                connection.close()
                if not reused:
                    raise
                return connection.get(target)
        except TimeoutError:
            connection.close()
            raise EngineError(f"Read timed out. (read timeout={connection.timeout})") from None
        except (OSError, ValueError, IndexError) as err:
            connection.close()
            raise EngineError(f"('Connection aborted.', {err!r})") from None
        except BaseException:
            # A request cut short (Ctrl-C, SIGTERM) leaves its answer unread: the next
            # request (an undo's, say) must not read it as its own.
            connection.close()
            raise


def path_of(url: str) -> str:
    """The socket's path in a ``unix://`` URL (``unix:///run/docker.sock``)."""
    return url.partition("://")[2] or "/"


def _engine_message(body: bytes) -> str:
    """The engine's ``message`` (as the SDK's ``explanation``), else the body's text."""
    try:
        document = json.loads(body)
    except ValueError:
        return body.decode(errors="replace").strip()
    message = document.get("message") if isinstance(document, dict) else None
    return str(message) if message else body.decode(errors="replace").strip()
