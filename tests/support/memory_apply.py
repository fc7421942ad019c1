"""booth's flow on the in-memory engine: observe → reconcile → plan → execute.

The same steps ``flow.Flow.converge`` takes (without the lock and the preflight of the
engine itself), on :class:`reconciler.engine.memory.engine.MemoryEngine`, so unit and property
tests run the real observer and the real executor instead of a model of them.
"""

from __future__ import annotations

from typing import Any

import attrs

from reconciler.app.flow import built_image, images_to_pull
from reconciler.apply.execute import Executor, StepResult
from reconciler.apply.images import pull_images
from reconciler.apply.progress import NullProgress
from reconciler.config.booth_config import BoothConfig
from reconciler.config.desired import build_desired
from reconciler.core.model import ActualState, legacy_instance
from reconciler.core.plan import Plan, make_plan
from reconciler.core.reconcile import destroy_changes, reconcile
from reconciler.engine.memory.engine import MemoryEngine

# The container booth's bind-source probe creates and removes at once on a remote engine
# (``Engine.missing_bind_source``; memory:// is not a local socket): the engine names it.
PROBE = "memory_1"
PROBE_CALLS = [("create_container", PROBE), ("remove_container", PROBE)]


def engine_for(*configs: BoothConfig, remote: tuple[str, ...] = ()) -> MemoryEngine:
    """An engine that has the images ``configs`` run (but those booth builds)."""
    built = {c.build.tag for c in configs if c.build is not None}
    images = sorted({image for c in configs for image in (c.image, c.dind_image)} - built)
    return MemoryEngine(images=images, remote=remote)


def observed(engine: MemoryEngine, config: BoothConfig, *, pull: bool = False) -> ActualState:
    """What ``workspace.actual`` observes (with ``pull``: after pulling the images again)."""
    desired = build_desired(config)
    pulled = pull_images(engine, images_to_pull(desired), NullProgress()) if pull else ()
    actual = engine.observe(config.name, config.port, built_image(desired))
    return attrs.evolve(actual, pulled=pulled) if pulled else actual


def plan(engine: MemoryEngine, config: BoothConfig) -> Plan:
    """The plan ``booth plan`` shows for ``config`` now (``booth plan`` pulls nothing)."""
    return make_plan(config.instance, reconcile(build_desired(config), observed(engine, config)))


def executor(engine: MemoryEngine, config: BoothConfig, **settings: Any) -> Executor:
    legacy = legacy_instance(config.name, config.port)
    return Executor(engine, config.instance, ready_timeout=1.0, legacy=legacy, **settings)


def apply(engine: MemoryEngine, config: BoothConfig, **settings: Any) -> list[StepResult]:
    """``booth apply`` (``pull=True``: with ``pull = true``): the steps it ran."""
    actual = observed(engine, config, pull=bool(settings.get("pull")))
    steps = make_plan(config.instance, reconcile(build_desired(config), actual))
    return executor(engine, config, **settings).run(steps, actual)


def destroy(
    engine: MemoryEngine, config: BoothConfig, *, remove_volumes: bool = True, **settings: Any
) -> list[StepResult]:
    """``booth destroy`` (``--keep-volume``: ``remove_volumes=False``)."""
    actual = observed(engine, config)
    steps = make_plan(config.instance, destroy_changes(actual, remove_volumes=remove_volumes))
    return executor(engine, config, **settings).run(steps, actual)


def owned_names(engine: MemoryEngine, instance: str) -> set[str]:
    """Every object on the engine that booth labelled as ``instance``'s."""
    label = {"label": [f"io.codingbooth.instance={instance}", "io.codingbooth.managed=true"]}
    found = [
        *engine.lookups.containers(label),
        *engine.lookups.networks(label),
        *engine.lookups.volumes(label),
    ]
    return {str((d.get("Names") or [d.get("Name")])[0]).lstrip("/") for d in found}


def foreign_holding(engine: MemoryEngine, image: str, port: int) -> str:
    """A running container booth did not make (``squatter``) publishing ``port``."""
    binding = {f"{port}/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(port)}]}
    engine.create_container(
        "squatter",
        {
            "Image": image,
            "ExposedPorts": {f"{port}/tcp": {}},
            "HostConfig": {"PortBindings": binding},
        },
    )
    engine.primitives.start("squatter")
    return "squatter"
