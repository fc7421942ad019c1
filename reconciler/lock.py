"""One apply/destroy per Docker endpoint + instance at a time: an OS file lock.

The lock file holds the owner's pid so a second run can say who holds it. The kernel
drops the lock when its process dies, so a killed run never leaves a stale lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from reconciler.errors import LockedError

DEFAULT_WAIT_SECONDS = 10.0


def lock_dir() -> Path:
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    return Path(base) / "booth-locks"


def lock_path(endpoint: str, instance: str) -> Path:
    digest = hashlib.sha256(f"{endpoint}\0{instance}".encode()).hexdigest()[:16]
    return lock_dir() / f"{instance}-{digest}.lock"


@contextmanager
def instance_lock(
    endpoint: str, instance: str, wait_seconds: float | None = None
) -> Iterator[None]:
    """Hold the instance lock; wait up to ``wait_seconds`` (env ``BOOTH_LOCK_TIMEOUT``)."""
    if wait_seconds is None:
        wait_seconds = float(os.environ.get("BOOTH_LOCK_TIMEOUT", DEFAULT_WAIT_SECONDS))
    path = lock_path(endpoint, instance)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
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
