"""What one run changed, and how to take it back when a later step fails.

A failed apply must not leave a privileged sidecar running next to a booth the engine
refused, nor half of a new instance behind. The plan already creates every container
before it starts any (``core/plan.py``), so most refusals come before anything runs; for the
rest (a start the engine refuses, a daemon that never answers) the executor records
each object *this run* created and each container it started, and on failure takes them
back in reverse order: containers stopped and removed, its network and volume removed,
a container it only started stopped again. Nothing else is touched: what existed before
the run stays as it was, and what the run's teardown removed is not brought back. A
built image stays (it is the next apply's build cache). An interrupt (Ctrl-C) is not a
failure: the user asked to stop, and the next ``apply`` converges from there.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import attrs

from reconciler.apply.readiness import SHUTDOWN_COMPLETE
from reconciler.core.model import Kind, Role, is_owned
from reconciler.engine.engine import Engine
from reconciler.errors import BoothError, EngineNotFound, RunInterrupted, one_line
from reconciler.ui.logs import get_logger

log = get_logger()


@attrs.frozen
class Entry:
    """One thing this run did that can be taken back."""

    created: bool  # created by this run (else: an existing container it started)
    kind: Kind
    role: Role
    name: str
    target: str  # the ID when known (a container), else the name

    def describe(self) -> str:
        return f"{self.kind} {self.name}"

    def undoing(self) -> str:
        return f"{'removed' if self.created else 'stopped'} {self.describe()}"


@attrs.define
class Journal:
    """The run's changes that a failure takes back, in the order they were made."""

    instance: str
    stop_timeout: int
    entries: list[Entry] = attrs.field(factory=list)

    def created(self, kind: Kind, role: Role, name: str, target: str | None = None) -> None:
        self.entries.append(Entry(True, kind, role, name, target or name))

    def started(self, role: Role, name: str, target: str) -> None:
        self.entries.append(Entry(False, Kind.CONTAINER, role, name, target))

    def undo(self, engine: Engine) -> tuple[list[str], list[str]]:
        """Take every entry back, newest first; ``(done, failed)`` as short phrases."""
        done: list[str] = []
        failed: list[str] = []
        for entry in reversed(self.entries):
            try:
                _UNDO[(entry.created, entry.kind)](self, engine, entry)
            except BoothError as err:
                failed.append(f"{entry.describe()}: {one_line(err, 120)}")
                log.debug("undo.failed", object=entry.describe(), error=str(err))
            else:
                done.append(entry.undoing())
                log.debug("undo.done", object=entry.describe(), created=entry.created)
        self.entries.clear()
        return done, failed

    def _stop(self, engine: Engine, entry: Entry) -> None:
        with _missing_is_done():
            if not engine.container_state(entry.target).get("Running"):
                return
            if entry.role == Role.SIDECAR:
                engine.stop_until_logged(entry.target, self.stop_timeout, SHUTDOWN_COMPLETE)
            else:
                engine.primitives.stop(entry.target, self.stop_timeout)

    def _remove_container(self, engine: Engine, entry: Entry) -> None:
        self._stop(engine, entry)  # gracefully: the inner daemon writes its state first
        with _missing_is_done():
            engine.primitives.remove_container(entry.target)

    def _remove_network(self, engine: Engine, entry: Entry) -> None:
        with _missing_is_done():
            network_id, labels = engine.network(entry.target)
            if is_owned(labels, self.instance):
                engine.primitives.remove_network(network_id)

    def _remove_volume(self, engine: Engine, entry: Entry) -> None:
        with _missing_is_done():
            if is_owned(engine.volume_labels(entry.target), self.instance):
                engine.primitives.remove_volume(entry.target)


_UNDO: dict[tuple[bool, Kind], Callable[[Journal, Engine, Entry], None]] = {
    (True, Kind.CONTAINER): Journal._remove_container,
    (True, Kind.NETWORK): Journal._remove_network,
    (True, Kind.VOLUME): Journal._remove_volume,
    (False, Kind.CONTAINER): Journal._stop,
}


def undone(err: BoothError, journal: Journal, engine: Engine) -> BoothError:
    """``err`` once the run's changes are taken back, its message saying what was."""
    if isinstance(err, RunInterrupted) or not journal.entries:
        return err
    done, failed = journal.undo(engine)
    message = str(err)
    if done:
        message += f"; taken back what this run did ({', '.join(done)})"
    if failed:
        message += f"; could not take back {'; '.join(failed)}: run `booth destroy` to clean up"
    return type(err)(message)


@contextlib.contextmanager
def _missing_is_done() -> Iterator[None]:
    with contextlib.suppress(EngineNotFound):
        yield


__all__ = ["Entry", "Journal", "undone"]
