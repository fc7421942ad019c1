"""A build context's hash, walked in a child process while this one talks to the engine.

Why a process: the walk (one ``lstat`` per file, in Python) is CPU work, and so is what
a converged ``plan`` does meanwhile (importing the Docker SDK, decoding its answers). In a
thread both would take turns on the GIL; a forked child walks on another core, and
``plan`` on a code dir of 10,000 files costs about what it costs without a build.

The child is forked from this process, so it walks exactly what the parent would, with
the same modules loaded and no interpreter start-up. Forking is only safe while no other
thread runs (a lock another thread holds would stay locked in the child), so with a
thread running, without ``os.fork``, or if the child dies without an answer, the walk
runs here instead, with the same result and the same errors. The child answers through
a pipe and ends with ``posix._exit``: it never flushes the parent's buffers, runs its exit
handlers or reaches the code after the fork.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from types import TracebackType

from reconciler.errors import ConfigError
from reconciler.image.context import ContextWalk
from reconciler.ui.logs import get_logger

log = get_logger()

_DIGEST = b"digest\0"
_ERROR = b"error\0"


def _answer(walk: ContextWalk) -> bytes:
    """What the child sends: the digest, or the one-line error the walk raised."""
    try:
        return _DIGEST + walk.digest().encode()
    except ConfigError as err:
        return _ERROR + str(err).encode("utf-8", "surrogateescape")


class ContextHashing:
    """One context's hash, being computed since construction; :meth:`digest` waits for
    it. Use as a context manager, so a child is reaped also when the caller fails first."""

    def __init__(self, walk: ContextWalk, *, background: bool = True) -> None:
        """``background=False``: the walk runs when :meth:`digest` is called, here."""
        self.walk = walk
        self._pid: int | None = None
        self._pipe: int | None = None
        self.forked = False
        if background and hasattr(os, "fork") and threading.active_count() == 1:
            self._fork()

    def _fork(self) -> None:
        read, write = os.pipe()
        try:
            pid = os.fork()
        except OSError as err:  # no process to spare: walk here later
            log.debug("context_hashing.no_fork", error=str(err))
            os.close(read)
            os.close(write)
            return
        if pid == 0:  # pragma: no cover - the child process; coverage does not follow it
            status = 1
            try:
                os.close(read)
                answer = memoryview(_answer(self.walk))
                while answer:
                    answer = answer[os.write(write, answer) :]
                status = 0
            finally:
                # The system call itself, not ``os._exit``: a tool may have wrapped that
                # to save its state first (coverage does), which in a forked child would
                # write into the parent's files.
                import posix

                posix._exit(status)
        os.close(write)
        self._pid, self._pipe, self.forked = pid, read, True

    def digest(self) -> str:
        """The context's hash; a walk's error (an unreadable file) raises here."""
        answer = self._collect()
        if answer.startswith(_DIGEST):
            return answer[len(_DIGEST) :].decode()
        if answer.startswith(_ERROR):
            raise ConfigError(answer[len(_ERROR) :].decode("utf-8", "surrogateescape"))
        if self.forked:
            log.debug("context_hashing.child_failed")
        return self.walk.digest()

    def _collect(self) -> bytes:
        """All the child wrote (empty without a child), once it has ended."""
        if self._pipe is None:
            return b""
        chunks = []
        try:
            while chunk := os.read(self._pipe, 65536):
                chunks.append(chunk)
        finally:
            self._end(kill=False)  # at end of file the child is exiting
        return b"".join(chunks)

    def close(self) -> None:
        """End and reap a child whose answer is no longer wanted."""
        self._end(kill=True)

    def _end(self, *, kill: bool) -> None:
        pipe, self._pipe = self._pipe, None
        pid, self._pid = self._pid, None
        if pipe is not None:
            os.close(pipe)
        if pid is None:
            return
        with contextlib.suppress(ChildProcessError):
            if kill and os.waitpid(pid, os.WNOHANG) == (0, 0):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)

    def __enter__(self) -> ContextHashing:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()
