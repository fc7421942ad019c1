"""A small model of the Docker engine, to execute plans without Docker.

Objects are ``name → ModelObject``; applying a step checks what the real engine (or the
booth's correctness) needs at that moment, e.g. a booth joins the namespace of a running
sidecar, a network cannot be removed while a container is attached to it, two running
containers cannot publish the same host port. Network namespaces are numbered: a booth
that joined a sidecar keeps that number even when the sidecar stops, which is how the
model sees a booth left in a dead namespace. A built image is recorded by the hash of its
build's inputs, and a booth by the build it was created from, which is how the model sees
a booth that still runs an older build after its image was built again.
"""

from __future__ import annotations

import itertools

import attrs

from reconciler.core.model import (
    RUNNING_STATES,
    ActualState,
    DesiredGraph,
    Observed,
    Resource,
    Role,
)
from reconciler.core.plan import Step

BOOTH, IMAGE, SIDECAR, VOLUME = Role.BOOTH, Role.IMAGE, Role.SIDECAR, Role.VOLUME


@attrs.define
class ModelObject:
    kind: str
    role: str | None
    owned: bool
    spec_hash: str | None
    state: str | None = None  # containers only
    ports: tuple[str, ...] = ()
    joins: str | None = None  # booth in DinD mode: the sidecar whose namespace it shares
    network: str | None = None  # sidecar: the network it is attached to
    volume: str | None = None  # sidecar: the data volume it mounts
    netns: int | None = None  # namespace id while running (or held, for a booth)
    runs: str | None = None  # a booth of a built image: the build (inputs hash) it runs

    @property
    def running(self) -> bool:
        return self.state in RUNNING_STATES


class ModelError(AssertionError):
    """A step the engine would refuse, or one that leaves the booth broken."""


class DockerModel:
    def __init__(self, desired: DesiredGraph, objects: dict[str, ModelObject]) -> None:
        self.desired = desired
        self.objects = objects
        self._netns = itertools.count(100)

    # --- building ----------------------------------------------------------------------

    @staticmethod
    def object_for(resource: Resource, dind: bool, *, state: str | None) -> ModelObject:
        """The object booth creates from ``resource`` (not started)."""
        spec = resource.spec
        host_config = spec.get("HostConfig", {})
        joins = None
        network = None
        volume = None
        if resource.role == BOOTH and dind:
            joins = str(host_config["NetworkMode"]).removeprefix("container:")
        if resource.role == SIDECAR:
            network = host_config["NetworkMode"]
            binds = host_config.get("Binds") or []
            volume = binds[0].partition(":")[0] if binds else None
        container = resource.kind == "container"
        return ModelObject(
            kind=resource.kind,
            role=resource.role,
            owned=True,
            spec_hash=resource.spec_hash,
            state=state if container else None,
            ports=tuple(resource.summary.get("ports", ())) if container else (),
            joins=joins,
            network=network,
            volume=volume,
        )

    def actual(self) -> ActualState:
        return ActualState(
            tuple(
                Observed(
                    kind=obj.kind,
                    name=name,
                    id=f"id-{name}",
                    owned=obj.owned,
                    role=obj.role if obj.owned else None,
                    spec_hash=obj.spec_hash if obj.owned else None,
                    state=obj.state,
                    ports=obj.ports,
                )
                for name, obj in sorted(self.objects.items())
            )
        )

    # --- executing ---------------------------------------------------------------------

    def apply(self, step: Step) -> None:
        handler = getattr(self, "_" + step.op.replace("-", "_"), None)
        if handler is None:
            raise ModelError(f"unknown op {step.op}")
        if step.op.startswith(("create-", "wait-", "build-")):
            handler(step)
            return
        obj = self._get(step.name)
        if not obj.owned:
            raise ModelError(f"step {step} touches foreign object {step.name}")
        handler(step, obj)

    def _get(self, name: str) -> ModelObject:
        obj = self.objects.get(name)
        if obj is None:
            raise ModelError(f"no such object {name} (404)")
        return obj

    def _resource(self, step: Step) -> Resource:
        resource = self.desired.get(step.role)
        if resource is None or resource.name != step.name:
            raise ModelError(f"step {step} creates a resource that is not desired")
        return resource

    def _create(self, step: Step, kind: str) -> None:
        resource = self._resource(step)
        if resource.kind != kind:
            raise ModelError(f"{step.op} for a {resource.kind}")
        if step.name in self.objects:
            raise ModelError(f"{step.name} already exists (409)")
        obj = self.object_for(resource, self.desired.dind, state="created")
        if obj.network is not None and obj.network not in self.objects:
            raise ModelError(f"sidecar created before its network {obj.network}")
        if obj.volume is not None and obj.volume not in self.objects:
            raise ModelError(f"sidecar created before its volume {obj.volume}")
        if obj.joins is not None and obj.joins not in self.objects:
            raise ModelError(f"booth created before its sidecar {obj.joins}")
        self.objects[step.name] = obj

    def _build_image(self, step: Step) -> None:
        """Building moves the tag to the new image, whoever's image had it."""
        resource = self._resource(step)
        if resource.kind != "image":
            raise ModelError(f"{step.op} for a {resource.kind}")
        self.objects[step.name] = self.object_for(resource, self.desired.dind, state=None)

    def _create_network(self, step: Step) -> None:
        self._create(step, "network")

    def _create_volume(self, step: Step) -> None:
        self._create(step, "volume")

    def _create_container(self, step: Step) -> None:
        self._create(step, "container")
        image = self.desired.get(IMAGE)
        if step.role == BOOTH and image is not None:
            built = self.objects.get(image.name)
            if built is None:
                raise ModelError(f"booth created before its image {image.name} was built")
            self.objects[step.name].runs = built.spec_hash

    def _enter_running(self, name: str, obj: ModelObject) -> None:
        if obj.joins is not None:
            owner = self.objects.get(obj.joins)
            if owner is None or not owner.running:
                raise ModelError(f"booth {name} started while its sidecar is not running")
            obj.netns = owner.netns
        else:
            obj.netns = next(self._netns)
        taken = {
            p
            for other_name, other in self.objects.items()
            if other_name != name and other.running
            for p in other.ports
        }
        clash = sorted(taken & set(obj.ports))
        if clash:
            raise ModelError(f"{name} publishes host ports in use: {clash}")
        obj.state = "running"

    def _start_container(self, step: Step, obj: ModelObject) -> None:
        if obj.running:
            raise ModelError(f"start of running container {step.name}")
        self._enter_running(step.name, obj)

    def _restart_container(self, step: Step, obj: ModelObject) -> None:
        obj.state = "exited"
        self._enter_running(step.name, obj)

    def _stop_container(self, step: Step, obj: ModelObject) -> None:
        if not obj.running:
            raise ModelError(f"stop of container {step.name} that is not running")
        obj.state = "exited"
        obj.netns = None

    def _wait_ready(self, step: Step) -> None:
        sidecar = self.objects.get(step.name)
        if step.role != SIDECAR or sidecar is None or not sidecar.running:
            raise ModelError(f"wait-ready while sidecar {step.name} is not running")

    def _remove_container(self, step: Step, obj: ModelObject) -> None:
        if obj.running:
            raise ModelError(f"remove of running container {step.name} (stop it first)")
        users = [n for n, o in self.objects.items() if o.joins == step.name]
        if users:
            raise ModelError(f"sidecar {step.name} removed while {users} share its namespace")
        del self.objects[step.name]

    def _remove_network(self, step: Step, obj: ModelObject) -> None:
        users = [n for n, o in self.objects.items() if o.network == step.name]
        if users:
            raise ModelError(f"network {step.name} has active endpoints: {users}")
        del self.objects[step.name]

    def _remove_volume(self, step: Step, obj: ModelObject) -> None:
        users = [n for n, o in self.objects.items() if o.volume == step.name]
        if users:
            raise ModelError(f"volume {step.name} is in use by {users}")
        del self.objects[step.name]

    # --- checking ----------------------------------------------------------------------

    def assert_converged(self) -> None:
        """Every desired resource exists with its spec and runs; nothing else of ours but
        data volumes (kept on purpose) is left; the booth lives in its sidecar's namespace."""
        for resource in self.desired:
            obj = self.objects.get(resource.name)
            assert obj is not None, f"{resource.name} missing after apply"
            if not obj.owned:
                assert resource.kind != "container"
                continue
            if resource.role != VOLUME:  # a data volume is kept even when its spec drifted
                assert obj.spec_hash == resource.spec_hash, resource.name
            if resource.kind == "container":
                assert obj.running, resource.name
        wanted = {r.name for r in self.desired}
        leftovers = {n for n, o in self.objects.items() if o.owned and n not in wanted}
        # Data volumes are kept on purpose, built images as the next build's cache.
        assert all(self.objects[n].role in (VOLUME, IMAGE) for n in leftovers), leftovers
        image, booth_resource = self.desired.get(IMAGE), self.desired.get(BOOTH)
        if image is not None and booth_resource is not None:
            runs = self.objects[booth_resource.name].runs
            assert runs == image.spec_hash, f"the booth runs an older build ({runs})"
        if self.desired.dind:
            sidecar = self.desired.get(SIDECAR)
            booth = self.desired.get(BOOTH)
            assert sidecar is not None and booth is not None
            shared = self.objects[sidecar.name].netns
            assert shared is not None
            assert self.objects[booth.name].netns == shared, "booth left in a dead namespace"
