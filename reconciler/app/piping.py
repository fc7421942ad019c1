"""A booth's main process wired to this process's stdin, stdout and stderr without a
terminal, as ``docker run -i`` does (CodingBooth passes ``-i`` to every booth).

The booth is created with an open stdin that closes once its attached client closes it
(``OpenStdin`` and ``StdinOnce``) and attached to before it starts. Local input is copied
to it until it ends, and then the write half of the connection is shut, which is how the
engine learns to close the booth's stdin: ``echo hi | booth -- cat`` prints ``hi`` and
ends. Without a TTY the engine sends the booth's output as frames, each marked stdout or
stderr (an 8-byte header: the stream, three zero bytes, the payload's length), which go
to our stdout and stderr as ``docker run`` splits them. ``booth exec -i`` uses the same.
(``docker_calls.log_frames`` reads the same frames from a blocking reader, a log; here
they arrive in chunks between reads of our stdin.)
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import ssl
import struct
from collections.abc import Iterator

import attrs

from reconciler.app.terminal import forward, has_buffered, receive
from reconciler.engine.seam import Stream

HEADER = struct.Struct(">BxxxL")
STDERR = 2  # a frame's stream number; 1 is stdout (0, stdin, is never sent back)


@attrs.define
class Frames:
    """Reassembles the engine's frames from chunks as they arrive (a frame may span many
    chunks, a chunk hold many frames)."""

    pending: bytearray = attrs.field(factory=bytearray)

    def feed(self, data: bytes) -> Iterator[tuple[int, bytes]]:
        """The (stream, payload) of every frame ``data`` completes."""
        self.pending += data
        while len(self.pending) >= HEADER.size:
            stream, size = HEADER.unpack_from(self.pending)
            end = HEADER.size + size
            if len(self.pending) < end:
                return
            payload = bytes(self.pending[HEADER.size : end])
            del self.pending[:end]
            yield stream, payload


def piped(stream: Stream, *, stdin_fd: int = 0) -> Iterator[tuple[bytes | None, bytes | None]]:
    """Copy local input to the booth (or an exec) and yield its framed output as
    (stdout, stderr) chunks, until its end of the connection closes (its process has
    exited). ``terminal.write_streams`` writes them where ``docker run -i`` does."""
    frames = Frames()
    sources = [stream.fileno(), stdin_fd]
    try:
        os.fstat(stdin_fd)
    except OSError:  # no stdin at all (`booth -- cmd <&-`): the booth's is closed at once
        sources.remove(stdin_fd)
        close_input(stream)
    try:
        while True:
            timeout = 0.0 if has_buffered(stream) else None  # TLS holds what select misses
            readable = select.select(sources, [], [], timeout)[0]
            if stream.fileno() in readable or timeout == 0.0:
                data = receive(stream)
                if not data:
                    return
                for number, payload in frames.feed(data):
                    if payload:
                        yield (None, payload) if number == STDERR else (payload, None)
            if stdin_fd in readable and not forward(stdin_fd, stream):
                sources.remove(stdin_fd)
                close_input(stream)
    finally:
        with contextlib.suppress(OSError):
            stream.close()


def close_input(stream: Stream) -> None:
    """Shut the write half: the engine then closes the booth's stdin (``StdinOnce``). A
    socket and an SSH channel both take ``shutdown(SHUT_WR)``.

    A TLS socket's own ``shutdown`` drops its TLS session, and every later read would
    return raw records (the exec's output as ciphertext): its TCP write half is shut
    under the session instead (``socket.socket.shutdown``, the base class's public
    method), which the engine reads as the end of its stdin (Go's TLS reader answers a
    clean EOF between records with ``io.EOF``), while its output keeps arriving."""
    if isinstance(stream, ssl.SSLSocket):
        with contextlib.suppress(OSError):
            socket.socket.shutdown(stream, socket.SHUT_WR)
        return
    shutdown = getattr(stream, "shutdown", None)
    if shutdown is not None:
        with contextlib.suppress(OSError, EOFError):
            shutdown(socket.SHUT_WR)
