"""booth's flow on the in-memory engine: observe → reconcile → plan → execute.

The same steps ``workspace._converge`` takes (without the lock and the preflight of the
engine itself), on :class:`reconciler.engine_memory.MemoryEngine`, so unit and property
tests run the real observer and the real executor instead of a model of them.
"""

from __future__ import annotations

from typing import Any

from reconciler.config import BoothConfig
from reconciler.desired import build_desired
from reconciler.engine_memory import MemoryEngine
from reconciler.execute import Executor, StepResult
from reconciler.model import ActualState, legacy_instance
from reconciler.plan import Plan, make_plan
from reconciler.reconcile import destroy_changes, reconcile


def engine_for(*configs: BoothConfig, remote: tuple[str, ...] = ()) -> MemoryEngine:
    """An engine that has the images ``configs`` run."""
    images = sorted({image for c in configs for image in (c.image, c.dind_image)})
    return MemoryEngine(images=images, remote=remote)


def observed(engine: MemoryEngine, config: BoothConfig) -> ActualState:
    return engine.observe(config.name, config.port)


def plan(engine: MemoryEngine, config: BoothConfig) -> Plan:
    """The plan ``booth plan`` shows for ``config`` now."""
    return make_plan(config.instance, reconcile(build_desired(config), observed(engine, config)))


def executor(engine: MemoryEngine, config: BoothConfig, **settings: Any) -> Executor:
    legacy = legacy_instance(config.name, config.port)
    return Executor(engine, config.instance, ready_timeout=1.0, legacy=legacy, **settings)


def apply(engine: MemoryEngine, config: BoothConfig, **settings: Any) -> list[StepResult]:
    """``booth apply``: the steps it ran."""
    actual = observed(engine, config)
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
    found = [*engine.containers(label), *engine.networks(label), *engine.volumes(label)]
    return {str((d.get("Names") or [d.get("Name")])[0]).lstrip("/") for d in found}
