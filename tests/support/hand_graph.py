"""A booth's five resources built by hand, and what an engine would report for them.

For the reconcile and plan rules: each test states one situation of one resource without
going through a config (``booth_builders`` does that). The graph has every role and the
model's own edges; specs are small but distinct, so changing one field changes its hash.
"""

from __future__ import annotations

import attrs

from reconciler.core.model import (
    ActualState,
    DesiredGraph,
    Kind,
    Observed,
    Resource,
    Role,
    edges_between,
    make_resource,
)

INSTANCE = "demo-10000"
NAMES = {
    Role.IMAGE: "booth-local:demo",
    Role.NETWORK: "demo-10000-net",
    Role.VOLUME: "demo-10000-dind-data",
    Role.SIDECAR: "demo-10000-dind",
    Role.BOOTH: "demo-10000",
}
SPECS = {
    Role.IMAGE: {"tag": "booth-local:demo", "dockerfile": "d1", "context": "c1", "buildArgs": {}},
    Role.NETWORK: {"Driver": "bridge"},
    Role.VOLUME: {"Driver": "local"},
    Role.SIDECAR: {"Image": "docker:dind", "Env": ["A=1"], "HostConfig": {"Privileged": True}},
    Role.BOOTH: {"Image": "booth-local:demo", "Cmd": ["sleep"], "HostConfig": {"Binds": []}},
}


def resource(role: Role, **spec: object) -> Resource:
    return make_resource(role, NAMES[role], {**SPECS[role], **spec}, {"role": role.value})


def graph(*resources: Resource) -> DesiredGraph:
    chosen = resources or tuple(resource(role) for role in NAMES)
    return DesiredGraph(INSTANCE, True, chosen, edges_between({r.role for r in chosen}))


DESIRED = graph()


def get(role: Role) -> Resource:
    found = DESIRED.get(role)
    assert found is not None
    return found


IMAGE, NETWORK, VOLUME, SIDECAR, BOOTH = (get(role) for role in NAMES)


def seen(
    of: Resource, *, state: str | None = "running", owned: bool = True, **changes: object
) -> Observed:
    """What the engine reports for ``of`` as booth created it (changed by ``changes``)."""
    observed = Observed(
        kind=of.kind,
        name=of.name,
        id=f"id-{of.name}",
        owned=owned,
        role=of.role if owned else None,
        spec_hash=of.spec_hash if owned else None,
        field_hashes=of.field_hashes if owned else (),
        state=state if of.kind == Kind.CONTAINER else None,
    )
    return attrs.evolve(observed, **changes)


def actual(**by_role: Observed | None) -> ActualState:
    """Everything as desired and running, except the roles given (``None``: absent)."""
    objects = []
    for r in DESIRED:
        observed = by_role.get(r.role.value, seen(r))
        if observed is not None:
            objects.append(observed)
    return ActualState(tuple(objects))
