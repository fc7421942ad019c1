"""The local terminal wired to the booth's main process, as ``docker run -it`` does it.

``booth run`` uses this when its stdin is a terminal: the booth is created with a TTY and
an open stdin, attached to *before* it starts (so its first prompt is not lost), then the
local terminal is put in raw mode and bytes are copied both ways until the booth's main
process ends. Raw mode means every key, Ctrl-C and Ctrl-D included, goes to the booth's
TTY, exactly as with ``docker run -it``: Ctrl-C interrupts the booth's foreground program,
and the session ends when the booth's main process does.

Everything below the Docker calls works on plain file descriptors and a socket-like
stream, so the copying loop is testable without an engine. Without a terminal, a
container's output arrives as (stdout, stderr) chunks (:func:`write_streams`).
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
import termios
import tty
from collections.abc import Callable, Iterable, Iterator

from reconciler.apply.interrupts import hangup_as_interrupt, window_changes
from reconciler.engine.seam import Stream
from reconciler.errors import EngineError
from reconciler.ui.logs import get_logger

BUFFER_SIZE = 64 * 1024

log = get_logger()


def write_streams(chunks: Iterable[tuple[bytes | None, bytes | None]]) -> None:
    """A container's (stdout, stderr) chunks to this process's stdout and stderr, as
    ``docker logs`` and ``docker exec`` without a TTY split them, each flushed at once."""
    for out, err in chunks:
        for data, sink in ((out, sys.stdout), (err, sys.stderr)):
            if data:
                sink.buffer.write(data)
                sink.flush()


def run_attached(
    stream: Stream,
    resize_to: Callable[[int, int], None],
    *,
    stdin_fd: int = 0,
    stdout_fd: int = 1,
) -> None:
    """Copy between the local terminal and a running TTY (a booth's main process, or an
    exec in it) until the remote end closes.

    The terminal is raw for the duration and restored however the loop ends. Its size is
    sent with ``resize_to(rows, columns)`` at once and again on every SIGWINCH. A hang-up
    (the terminal went away) ends the session like Ctrl-C outside raw mode would.
    """
    resize = _resizer(resize_to, (stdout_fd, stdin_fd))
    try:
        with raw_mode(stdin_fd), hangup_as_interrupt(), window_changes() as changes:
            resize()
            pump(stream, stdin_fd, stdout_fd, wakeup_fd=changes, on_wakeup=resize)
    finally:
        with contextlib.suppress(OSError):
            stream.close()


@contextlib.contextmanager
def raw_mode(fd: int) -> Iterator[None]:
    """Raw mode on ``fd`` if it is a terminal, restored on the way out.

    Applied with TCSANOW, not tty's default TCSAFLUSH, so keys typed while the booth was
    starting are kept and reach it, as with ``docker run -it``.
    """
    if not os.isatty(fd):
        yield
        return
    saved = termios.tcgetattr(fd)
    tty.setraw(fd, termios.TCSANOW)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def pump(
    stream: Stream,
    stdin_fd: int,
    stdout_fd: int,
    *,
    wakeup_fd: int | None = None,
    on_wakeup: Callable[[], None] | None = None,
) -> None:
    """Copy stream → stdout and stdin → stream until the booth closes its end.

    The booth's end closing is the only way out (besides an exception): that is when its
    main process has exited. Local end of input (a hang-up) only stops the stdin side; in
    raw mode Ctrl-D is a byte like any other and the booth's TTY decides what it means.
    """
    sources = [stream.fileno(), stdin_fd, *([wakeup_fd] if wakeup_fd is not None else [])]
    while True:
        timeout = 0.0 if has_buffered(stream) else None
        readable = set(select.select(sources, [], [], timeout)[0])
        if wakeup_fd is not None and wakeup_fd in readable:
            _drain(wakeup_fd)
            if on_wakeup is not None:
                on_wakeup()
        if stream.fileno() in readable or timeout == 0.0:
            data = receive(stream)
            if not data:
                return
            write_all(stdout_fd, data)
        if stdin_fd in readable and not forward(stdin_fd, stream):
            sources.remove(stdin_fd)


def receive(stream: Stream) -> bytes:
    """Up to one buffer from the booth; b"" once its end is closed (or reset)."""
    try:
        return stream.recv(BUFFER_SIZE)
    except (ConnectionResetError, BrokenPipeError):
        return b""


def forward(stdin_fd: int, stream: Stream) -> bool:
    """One read of local input sent to the booth; False once there is no more to send.

    A failed send means the booth's end is going away; the loop then ends on its EOF.
    """
    try:
        data = os.read(stdin_fd, BUFFER_SIZE)
    except OSError:  # EIO: the terminal was hung up
        return False
    if not data:
        return False
    try:
        stream.sendall(data)
    except OSError:
        return False
    return True


def write_all(fd: int, data: bytes) -> None:
    """``os.write`` until every byte is out, waiting if the descriptor is non-blocking
    (a terminal shared with a program that set O_NONBLOCK on it)."""
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view) :]
        except BlockingIOError:
            select.select([], [fd], [])


def has_buffered(stream: Stream) -> bool:
    """TLS keeps decrypted bytes select() cannot see; read those before waiting."""
    pending = getattr(stream, "pending", None)
    return callable(pending) and bool(pending())


def _drain(fd: int) -> None:
    """Empty the self-pipe: several SIGWINCHs in a row need only one resize."""
    os.read(fd, 512)


def _resizer(resize_to: Callable[[int, int], None], fds: tuple[int, ...]) -> Callable[[], None]:
    """A callable that sends the local terminal's size to the remote TTY."""

    def resize() -> None:
        size = terminal_size(fds)
        if size is None:
            return
        rows, columns = size
        try:
            resize_to(rows, columns)
        except EngineError as err:  # the remote end has just exited: nothing to size
            log.debug("terminal.resize_failed", detail=str(err))

    return resize


def terminal_size(fds: tuple[int, ...]) -> tuple[int, int] | None:
    """(rows, columns) of the first descriptor that is a sized terminal, else None."""
    for fd in fds:
        with contextlib.suppress(OSError):
            columns, rows = os.get_terminal_size(fd)
            if rows and columns:
                return rows, columns
    return None
