"""One apply/destroy per engine address + instance at a time: an OS file lock.

The lock file holds the owner's pid so a second run can say who holds it. The kernel
drops the lock when its process dies, so a killed run never leaves a stale lock.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from reconciler.errors import ConfigError, LockedError, shown

DEFAULT_WAIT_SECONDS = 10.0
MAX_WAIT_SECONDS = 86400.0


def lock_dir() -> Path:
    """``$XDG_RUNTIME_DIR/booth-locks`` (the user's own), else ``booth-locks-<uid>`` in
    the temporary directory: one per user, as tmux and ssh-agent keep theirs, since a
    shared ``/tmp/booth-locks`` made by another user cannot be written to (and a lock
    file there could be a symlink planted by them)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return Path(runtime) / "booth-locks"
    return Path(tempfile.gettempdir()) / f"booth-locks-{os.getuid()}"


def wait_seconds_from_env() -> float:
    """``BOOTH_LOCK_TIMEOUT``: seconds, a number from 0 to a day."""
    text = os.environ.get("BOOTH_LOCK_TIMEOUT")
    if text is None or not text.strip():
        return DEFAULT_WAIT_SECONDS
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= MAX_WAIT_SECONDS:  # also NaN
        raise ConfigError(
            f"BOOTH_LOCK_TIMEOUT={shown(repr(text))}: expected seconds to wait for the "
            f"instance lock, a number from 0 to {MAX_WAIT_SECONDS:g}"
        )
    return seconds


def lock_path(address: str, instance: str) -> Path:
    digest = hashlib.sha256(f"{address}\0{instance}".encode()).hexdigest()[:16]
    return lock_dir() / f"{instance}-{digest}.lock"


@contextmanager
def instance_lock(address: str, instance: str, wait_seconds: float | None = None) -> Iterator[None]:
    """Hold the instance lock; wait up to ``wait_seconds`` (env ``BOOTH_LOCK_TIMEOUT``)."""
    if wait_seconds is None:
        wait_seconds = wait_seconds_from_env()
    path = lock_path(address, instance)
    fd = _open(path)
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
                    raise LockedError(
                        f"instance {instance} is locked by pid {holder} (another booth "
                        f"apply/destroy is running); lock file {path}"
                    ) from None
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)


def _open(path: Path) -> int:
    """The lock file, opened for writing; one line naming it and why when it cannot be:
    a directory in its place, a lock directory that is a file or belongs to another
    user, no permission to create it."""
    directory = path.parent
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = directory.lstat()
        if not stat.S_ISDIR(info.st_mode):
            raise NotADirectoryError(errno.ENOTDIR, "not a directory")
        if info.st_uid != os.getuid():
            raise _foreign(directory, info.st_uid)
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as err:
        reason = "a symlink" if err.errno == errno.ELOOP else err.strerror or type(err).__name__
        where = shown(str(err.filename or directory))
        raise ConfigError(
            f"cannot use the instance lock file {shown(str(path))} ({where}: {reason}); "
            "set XDG_RUNTIME_DIR to a directory of your own"
        ) from None


def _foreign(directory: Path, owner: int) -> OSError:
    err = PermissionError(errno.EACCES, f"belongs to uid {owner}, not to you")
    err.filename = str(directory)
    return err
