"""An in-memory engine with Docker's semantics for what booth uses, so the executor and
the observer can be tested without an engine, and a plan applied thousands of times in
a property test.

It implements only the seam (``engine/seam.py``): :class:`MemoryBackend` is the lookups
and the primitives, and :class:`MemoryEngine` is the very :class:`Engine` the real
engines are, composed over it, so everything above the seam (observation, file copies,
exec output, the bind-source probe ...) runs the same code here as there. It cannot
drift unnoticed: ``tests/support/engine_contract.py`` is one suite of cases run on this
engine and on the real ones (Docker, and Podman in CI).

What it models: names unique per kind (409), name/ID/ID-prefix references, labels and
the ``label``/``name`` list filters, network modes (a named network must exist at
create; ``container:<ref>`` is resolved to the ID at create when the target exists and
its start needs the target running), the states (created, running, paused, restarting,
exited, dead), AutoRemove when a container stops, a running container's removal
refused without force, a network's removal refused while a running container uses it,
a volume's while any container mounts it (and a named volume made at create when it is
missing), host ports allocated at start ("port is already allocated"), images present
or missing (``pull`` from a given set of "remote" images, ``build`` tags one), files put
into and read from containers, and an engine restart (running containers stop).
What it does not: processes (an exec in a running container answers ``exec_result``,
by default "ready", so a started sidecar passes ``wait_ready``; an exec or attach
connection carries that output, or nothing, and ignores its input), restart policies
(booth sets none), IPv6 twins of wildcard bindings, build contexts.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from reconciler.core.model import Kind
from reconciler.engine import observe
from reconciler.engine.address import EngineAddress
from reconciler.engine.engine import Engine
from reconciler.engine.memory.inside import ExecResult, Insides, ready
from reconciler.engine.memory.objects import (
    VALID_NAME,
    Container,
    Image,
    Network,
    Volume,
    allocate,
    check_filters,
    find,
    image_document,
    inspected_container,
    listed_container,
    matches,
    network_document,
    not_running,
    volume_document,
)
from reconciler.engine.seam import BuildRequest, Primitives
from reconciler.errors import EngineConflict, EngineError, EngineNotFound

_SPECIAL_MODES = frozenset({"default", "bridge", "host", "none"})
MEMORY = EngineAddress("memory://", "default")


class MemoryBackend(Insides):
    """One engine's objects, in memory: its lookups and primitives, and the test
    controls. ``images``: present locally; ``remote``: what ``pull`` can fetch."""

    def __init__(
        self,
        images: Sequence[str] = (),
        remote: Sequence[str] = (),
        *,
        exec_result: ExecResult = ready,
    ) -> None:
        super().__init__(exec_result)
        self.containers_by_id: dict[str, Container] = {}
        self.networks_by_id: dict[str, Network] = {}
        self.volumes_by_name: dict[str, Volume] = {}
        self.images: dict[str, Image] = {}
        self.remote = set(remote)
        self.calls: list[tuple[str, str]] = []  # (operation, reference), writes only
        self.before_write: Callable[[str, str], None] | None = None
        self.closed = False
        self._ids = itertools.count(1)
        self._names = itertools.count(1)
        for name in images:
            self.images[name] = Image(self._image_id(f"image {name}"))

    def _new_id(self, seed: str) -> str:
        return hashlib.sha256(f"{next(self._ids)} {seed}".encode()).hexdigest()

    def _image_id(self, seed: str) -> str:
        return f"sha256:{self._new_id(seed)}"

    def _record(self, operation: str, ref: str) -> None:
        """Just before a write: tests read ``calls``; ``before_write`` may raise to stop
        the caller there, as a SIGKILL would."""
        if self.before_write is not None:
            self.before_write(operation, ref)
        self.calls.append((operation, ref))

    # -- the engine itself -----------------------------------------------------------------

    def version(self) -> Mapping[str, Any]:
        return {"Version": "memory", "ApiVersion": "1.41", "Components": [{"Name": "Engine"}]}

    def info(self) -> Mapping[str, Any]:
        return {"ServerVersion": "memory", "SecurityOptions": []}

    def close(self) -> None:
        """Nothing to end (no connection); ``closed`` tells a test it was called."""
        self.closed = True

    # -- observe.Lookups --------------------------------------------------------------------

    def containers(self, filters: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        wanted = check_filters(filters, ("label", "name"))
        return [
            listed_container(c, self._image_name(c))
            for c in self.containers_by_id.values()
            if matches(wanted, c.labels, [c.name, f"/{c.name}"])
        ]

    def networks(self, filters: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        wanted = check_filters(filters, ("label", "name"))
        return [
            network_document(n, self._endpoints(n))
            for n in self.networks_by_id.values()
            if matches(wanted, n.labels, [n.name])
        ]

    def volumes(self, filters: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        wanted = check_filters(filters, ("label", "name"))
        return [
            volume_document(v)
            for v in self.volumes_by_name.values()
            if matches(wanted, v.labels, [v.name])
        ]

    def inspect(self, kind: Kind, name: str) -> Mapping[str, Any] | None:
        try:
            if kind == Kind.CONTAINER:
                return inspected_container(self._container(name))
            if kind == Kind.NETWORK:
                found = self._network(name)
                return network_document(found, self._endpoints(found))
            if kind == Kind.VOLUME:
                return volume_document(self._volume(name))
            return image_document(name, self._image(name))
        except EngineNotFound:
            return None

    # -- lookups by reference -------------------------------------------------------------

    def _container(self, ref: str) -> Container:
        found: Container = find(self.containers_by_id, ref, "container")
        return found

    def _network(self, ref: str) -> Network:
        found: Network = find(self.networks_by_id, ref, "network")
        return found

    def _volume(self, name: str) -> Volume:
        if name not in self.volumes_by_name:
            raise EngineNotFound(f"get {name}: no such volume")
        return self.volumes_by_name[name]

    def _image(self, name: str) -> Image:
        if name not in self.images:
            raise EngineNotFound(f"No such image: {name}")
        return self.images[name]

    def _image_name(self, c: Container) -> str:
        return str(c.config.get("Image", ""))

    def _endpoints(self, network: Network) -> list[Container]:
        """The containers with an endpoint on ``network``: those that run on it."""
        return [
            c
            for c in self.containers_by_id.values()
            if c.live and c.network_mode in (network.name, network.id)
        ]

    # -- images ---------------------------------------------------------------------------

    def pull(self, repository: str, tag: str | None) -> Iterator[Mapping[str, Any]]:
        image = f"{repository}:{tag}" if tag else repository
        self._record("pull", image)
        if image not in self.remote:
            yield {"error": f"pull access denied for {repository}, repository does not exist"}
            return
        yield {"id": "layer", "status": "Pull complete"}
        self.images[image] = Image(self._image_id(f"pulled {image}"))

    def build(self, request: BuildRequest, on_line: Callable[[str], None]) -> str:
        self._record("build", request.tag)
        built = Image(self._image_id(f"built {request.tag}"), dict(request.labels))
        self.images[request.tag] = built
        on_line(f"Successfully tagged {request.tag}")
        return built.id

    # -- networks and volumes -------------------------------------------------------------

    def create_network(self, name: str, driver: str, labels: Mapping[str, str]) -> None:
        if any(n.name == name for n in self.networks_by_id.values()):
            raise EngineConflict(f"network with name {name} already exists")
        self._record("create_network", name)
        network = Network(self._new_id(f"network {name}"), name, driver, dict(labels))
        self.networks_by_id[network.id] = network

    def remove_network(self, network_id: str) -> None:
        found = self._network(network_id)
        if self._endpoints(found):
            raise EngineError(
                f"error while removing network: network {found.name} id {found.id} "
                "has active endpoints"
            )
        self._record("remove_network", found.name)
        del self.networks_by_id[found.id]

    def create_volume(self, name: str, driver: str, labels: Mapping[str, str]) -> Mapping[str, Any]:
        if name not in self.volumes_by_name:  # an existing volume is returned unchanged
            self._record("create_volume", name)
            self.volumes_by_name[name] = Volume(name, driver, dict(labels))
        return volume_document(self.volumes_by_name[name])

    def remove_volume(self, name: str) -> None:
        self._volume(name)
        users = [c.id for c in self.containers_by_id.values() if name in c.volumes()]
        if users:
            raise EngineConflict(f"remove {name}: volume is in use - [{', '.join(users)}]")
        self._record("remove_volume", name)
        del self.volumes_by_name[name]

    # -- containers -----------------------------------------------------------------------

    def create_container(self, name: str | None, config: Mapping[str, Any]) -> str:
        name = name or f"memory_{next(self._names)}"  # Docker names it too
        if not VALID_NAME.match(name):
            raise EngineError(f"Invalid container name ({name})")
        if any(c.name == name for c in self.containers_by_id.values()):
            raise EngineConflict(f'Conflict. The container name "/{name}" is already in use')
        image = self._image(str(config.get("Image", "")))
        body = copy.deepcopy(dict(config))
        container = Container(self._new_id(f"container {name}"), name, body, image.id)
        mode = container.network_mode
        if mode.startswith("container:"):
            # Docker resolves the target to its ID at create (Podman: and requires it);
            # a missing target, like a missing network, fails the start.
            target = self._joinable(mode.removeprefix("container:"))
            container.host["NetworkMode"] = f"container:{target.id}" if target else mode
        for volume in container.volumes():
            self.volumes_by_name.setdefault(volume, Volume(volume, "local", {}))
        self._record("create_container", name)
        self.containers_by_id[container.id] = container
        return container.id

    def _joinable(self, ref: str) -> Container | None:
        try:
            return self._container(ref)
        except EngineNotFound:
            return None

    def start(self, container: str) -> None:
        found = self._container(container)
        self._record("start", found.name)
        if found.live:
            return  # Docker: 304, nothing to do
        owner = found
        mode = found.network_mode
        if mode.startswith("container:"):
            owner = self._container(mode.removeprefix("container:"))
            if owner.status != "running":
                raise EngineConflict(f"cannot join network of a non running container: {owner.id}")
        elif mode not in _SPECIAL_MODES:
            self._network(mode)
        held = [b for c in self.containers_by_id.values() if c.live for b in c.bound]
        found.bound = allocate(found, held)
        found.status, found.starts = "running", found.starts + 1
        found.started_at = f"2026-01-01T00:00:00.{next(self._ids):06d}Z"  # a clock (µs)
        found.namespace = (owner.id, owner.starts)

    def restart(self, container: str, timeout: int) -> None:
        self.stop(container, timeout, auto_remove=False)
        self.start(container)

    def stop(self, container: str, timeout: int, *, auto_remove: bool = True) -> None:
        found = self._container(container)
        self._record("stop", found.name)
        if found.live:
            self._exited(found, 137 if timeout == 0 else 143, auto_remove=auto_remove)

    def _exited(self, c: Container, code: int, *, auto_remove: bool = True) -> None:
        c.status, c.exit_code, c.bound = "exited", code, []
        if auto_remove and c.host.get("AutoRemove"):
            del self.containers_by_id[c.id]

    def kill(self, container: str, signal: str) -> None:
        found = self._container(container)
        if found.status != "running":
            raise not_running(found)
        self._record("kill", found.name)
        self._exited(found, 137)

    def remove_container(self, container: str, *, force: bool = True) -> None:
        found = self._container(container)
        if found.live and not force:
            raise EngineConflict(
                f"You cannot remove a running container {found.id}. Stop the container "
                "before attempting removal or force remove"
            )
        self._record("remove_container", found.name)
        del self.containers_by_id[found.id]

    # -- what tests do to an engine (not part of the Engine protocol) ---------------------

    def pause(self, container: str) -> None:
        found = self._container(container)
        if found.status != "running":
            raise not_running(found)
        found.status = "paused"

    def unpause(self, container: str) -> None:
        found = self._container(container)
        if found.status != "paused":
            raise EngineConflict(f"Container {found.id} is not paused")
        found.status = "running"

    def set_status(self, container: str, status: str, exit_code: int = 0) -> None:
        """Put a container in a state no call here leads to (``restarting``, ``dead``)."""
        found = self._container(container)
        found.status, found.exit_code = status, exit_code
        if not found.live:
            found.bound = []

    def exit(self, container: str, code: int = 0) -> None:
        """The container's main process ends by itself (AutoRemove applies)."""
        self._exited(self._container(container), code)

    def restart_engine(self) -> None:
        """The engine stops and starts again (no live-restore): every running container
        is stopped; those with AutoRemove are removed."""
        for c in list(self.containers_by_id.values()):
            if c.live:
                self._exited(c, 255)


class MemoryEngine(Engine):
    """The :class:`Engine` over a :class:`MemoryBackend` (``memory``: its objects and
    test controls; ``lookups`` and ``primitives`` are that backend too). ``address``:
    where it says it is (memory://, a remote engine's address, by default)."""

    def __init__(
        self,
        images: Sequence[str] = (),
        remote: Sequence[str] = (),
        *,
        exec_result: ExecResult = ready,
        backend: MemoryBackend | None = None,
        address: EngineAddress = MEMORY,
    ) -> None:
        memory = backend or MemoryBackend(images, remote, exec_result=exec_result)
        super().__init__(address, memory, lambda: memory)
        self.memory = memory


def _conforms() -> tuple[Primitives, observe.Lookups]:
    """mypy checks here that the backend is both the primitives and the lookups."""
    backend = MemoryBackend()
    return backend, backend
