"""Desired × actual → changes. Pure: no engine calls, deterministic order.

Rules: missing → create; spec hash differs → replace; stopped → start; owned but not
desired → remove. Replacement and restarts cascade along the edges that need it: a booth
lives in its sidecar's network namespace, so a new sidecar means a new booth, and a
(re)started sidecar means a restarted booth.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import Any

import attrs

from reconciler.core.live_namespace import in_dead_namespace
from reconciler.core.model import (
    CONTEXT_UNREAD,
    CREATION_ORDER,
    LABEL_CODE_DIR,
    TEARDOWN_ORDER,
    ActualState,
    DesiredGraph,
    EdgeKind,
    Kind,
    Observed,
    Resource,
    Role,
    changed_fields,
    field_hashes,
)
from reconciler.errors import ForeignObjectError, InstanceTakenError


class Action(StrEnum):
    CREATE = "create"
    REPLACE = "replace"
    START = "start"
    RESTART = "restart"
    REMOVE = "remove"
    NONE = "none"
    EXTERNAL = "external"


class ReasonCode(StrEnum):
    """Why a change or step happens: stable, for machines (plan JSON ``reason_code``).

    The human ``reason`` next to it may gain detail (which fields changed); these never
    change meaning. Documented in docs/design.md.
    """

    NOT_FOUND = "not_found"
    SPEC_CHANGED = "spec_changed"
    NAME_CHANGED = "name_changed"
    DEAD = "dead"
    STOPPED = "stopped"
    UP_TO_DATE = "up_to_date"
    EXTERNAL = "external"
    DATA_KEPT = "data_kept"
    NAMESPACE_OWNER_REPLACED = "namespace_owner_replaced"
    NETWORK_REPLACED = "network_replaced"
    NAMESPACE_OWNER_RESTARTED = "namespace_owner_restarted"
    NOT_DESIRED = "not_desired"
    DESTROY = "destroy"
    DAEMON_STARTING = "daemon_starting"
    DAEMON_CHECK = "daemon_check"
    BUILD_INPUTS_CHANGED = "build_inputs_changed"
    IMAGE_REBUILT = "image_rebuilt"
    IMAGE_UPDATED = "image_updated"
    LEGACY_LABELS = "legacy_labels"


CREATION_RANK = {role: rank for rank, role in enumerate(CREATION_ORDER)}
TEARDOWN_RANK = {role: rank for rank, role in enumerate(TEARDOWN_ORDER)}


@attrs.frozen
class Change:
    """What happens to one resource, and why."""

    role: Role
    name: str
    kind: Kind
    action: Action
    reason: str
    reason_code: ReasonCode
    desired: Resource | None = None
    actual: Observed | None = None

    def desired_summary(self) -> dict[str, Any] | None:
        return None if self.desired is None else dict(self.desired.summary)


def reconcile(desired: DesiredGraph, actual: ActualState) -> tuple[Change, ...]:
    """The changes that take ``actual`` to ``desired``, in creation order."""
    check_code_dir(desired, actual)
    changes: dict[Role, Change] = {}
    for resource in desired:
        changes[resource.role] = _base_change(resource, actual)
    _cascade(desired, changes)
    _rejoin_live_namespace(desired, changes)
    replaced = {(c.actual.kind, c.actual.id) for c in changes.values() if c.actual is not None}
    removals = [
        r
        for r in _not_desired(desired, actual)
        if (r.kind, r.actual.id if r.actual else "") not in replaced
    ]
    ordered = sorted(changes.values(), key=lambda c: CREATION_RANK[c.role])
    return (*ordered, *removals)


def check_code_dir(desired: DesiredGraph, actual: ActualState) -> None:
    """A name is one instance: a booth of that name made for another code directory is
    not taken over (its objects would be replaced, its data volume shared)."""
    booth = desired.get(Role.BOOTH)
    wanted = dict(booth.extra_labels).get(LABEL_CODE_DIR) if booth is not None else None
    if wanted is not None:
        check_owner_dir(desired.instance, wanted, actual)


def check_owner_dir(
    instance: str,
    code_dir: str,
    actual: ActualState,
    *,
    exists: Callable[[str], bool] = lambda _path: True,
) -> None:
    """The error of :func:`check_code_dir`, for a booth of ``instance`` that another code
    directory made. ``exists``: whether that directory is still there (``destroy`` asks:
    a booth whose code directory was moved or deleted may be removed from the new one)."""
    for observed in actual:
        other = observed.code_dir
        if not (observed.owned and observed.role == Role.BOOTH and other not in (None, code_dir)):
            continue
        assert other is not None
        if not exists(other):
            continue
        raise InstanceTakenError(
            f"a booth named {instance!r} already exists for {other}; give this one another "
            f"name (`name` in .booth/config.toml or --name), or remove that one (`booth -C "
            f"{other} destroy`)"
        )


def destroy_changes(actual: ActualState, *, remove_volumes: bool) -> tuple[Change, ...]:
    """Everything this instance owns, removed; the data volume only when asked. A built
    image stays (it is the next apply's build cache, and other instances may run it)."""
    changes = []
    for observed in sorted(_owned(actual), key=_teardown_key):
        role = _role(observed)
        if role == Role.IMAGE or (role == Role.VOLUME and not remove_volumes):
            continue
        changes.append(_removal(observed, ReasonCode.DESTROY, "not desired: destroy"))
    return tuple(changes)


def _base_change(resource: Resource, actual: ActualState) -> Change:
    named = actual.named(resource.kind, resource.name)
    if named is not None and not named.owned:
        return _foreign_change(resource, named)
    # The object of this name, else another of the role (renamed: a port change).
    observed = named if named is not None else actual.owned_by_role(resource.role)
    if observed is None:
        return _change(resource, None, Action.CREATE, ReasonCode.NOT_FOUND, "not found")
    if resource.role == Role.VOLUME and observed.name != resource.name:
        # Data is never dropped implicitly: the other volume stays (``destroy --volumes``
        # removes it) and this one is made next to it.
        return _change(resource, None, Action.CREATE, ReasonCode.NOT_FOUND, "not found")
    return _owned_change(resource, observed, actual)


def _foreign_change(resource: Resource, named: Observed) -> Change:
    """An object of our name that booth did not create."""
    if resource.kind == Kind.IMAGE:
        # Building again only moves the tag: the other image stays, untagged.
        why = "tag exists, not built by booth: built again"
        return _change(resource, None, Action.REPLACE, ReasonCode.BUILD_INPUTS_CHANGED, why)
    if resource.kind == Kind.CONTAINER:
        raise ForeignObjectError(
            f"container {resource.name!r} exists but was not created by booth "
            "(no io.codingbooth labels for this instance); booth will not touch it: "
            "remove or rename it yourself, or choose another `name` or `port`"
        )
    why = f"{resource.kind} exists, not created by booth: used as is"
    return _change(resource, named, Action.EXTERNAL, ReasonCode.EXTERNAL, why)


def _owned_change(resource: Resource, observed: Observed, actual: ActualState) -> Change:
    """What happens to an object this instance owns that plays ``resource``'s role."""

    def make(action: Action, code: ReasonCode, reason: str) -> Change:
        return _change(resource, observed, action, code, reason)

    if observed.name != resource.name:
        why = f"spec changed: name (was {observed.name})"
        return make(Action.REPLACE, ReasonCode.NAME_CHANGED, why)
    if observed.legacy:
        why = "made by an earlier booth (labelled by port): replaced to carry today's labels"
        return make(Action.REPLACE, ReasonCode.LEGACY_LABELS, why)
    if observed.spec_hash != resource.spec_hash:
        changed = _spec_change(resource, observed)
        if changed is not None:
            return make(*changed)
    pulled_why = _pull_replaces(resource, observed, actual)
    if pulled_why:
        return make(Action.REPLACE, ReasonCode.IMAGE_UPDATED, pulled_why)
    if resource.kind == Kind.CONTAINER and observed.state == "dead":
        return make(Action.REPLACE, ReasonCode.DEAD, "dead")
    if resource.kind == Kind.CONTAINER and not observed.running:
        return make(Action.START, ReasonCode.STOPPED, "stopped")
    return make(Action.NONE, ReasonCode.UP_TO_DATE, "up to date")


def _spec_change(resource: Resource, observed: Observed) -> tuple[Action, ReasonCode, str] | None:
    """The change a different spec hash makes (None: none that matters, for an image
    whose only difference is a context it does not read)."""
    if resource.role == Role.IMAGE:
        fields = _build_inputs_changed(observed, resource)
        if fields is None:
            return None
        reasons = dict.fromkeys(_BUILD_INPUTS.get(f, f"{f} changed") for f in fields)
        return Action.REPLACE, ReasonCode.BUILD_INPUTS_CHANGED, ", ".join(reasons) or "spec changed"
    fields = changed_fields(dict(observed.field_hashes), dict(resource.field_hashes))
    what = f"spec changed: {', '.join(fields) or 'spec'}"
    if resource.role == Role.VOLUME:
        # Replacing the data volume would drop the inner daemon's images and containers,
        # and the engine refuses to remove it while the sidecar mounts it (the mount
        # edge does not cascade): keep it, as a volume that is no longer desired is kept.
        return Action.NONE, ReasonCode.DATA_KEPT, f"{what}; kept: holds data"
    return Action.REPLACE, ReasonCode.SPEC_CHANGED, what


_UNREAD = dict(field_hashes({"Context": CONTEXT_UNREAD}))["Context"]


def _build_inputs_changed(observed: Observed, resource: Resource) -> list[str] | None:
    """The inputs that differ between a built image and the build wanted now (None: none
    that matter). The context counts only between two hashes of it: a build that reads
    no file of its context (before or now, with the same Dockerfile) is not rebuilt for
    what its code dir holds."""
    old, new = dict(observed.field_hashes), dict(resource.field_hashes)
    fields = changed_fields(old, new)
    if _UNREAD in (old.get("Context"), new.get("Context")) and "context" in fields:
        fields.remove("context")
        return fields or None
    return fields


def _pull_replaces(resource: Resource, observed: Observed, actual: ActualState) -> str:
    """Why a pull replaces the object ("": it does not). A container created from another
    image than the one its image's name was just pulled as; an image built on another
    base than the one just pulled. Only a pull records IDs: without one, a moved tag
    replaces nothing."""
    if resource.kind == Kind.IMAGE:
        return _base_updated(resource, observed, actual)
    if resource.kind != Kind.CONTAINER or observed.image_id is None:
        return ""
    pulled = actual.pulled_id(str(resource.spec.get("Image")))
    return "image updated by pull" if pulled not in (None, observed.image_id) else ""


def _base_updated(resource: Resource, observed: Observed, actual: ActualState) -> str:
    built_on = dict(observed.base_images)
    pulled = {base: actual.pulled_id(base) for base in resource.base_images}
    updated = [b for b, i in pulled.items() if i is not None and built_on.get(b, i) != i]
    unknown = [b for b, i in pulled.items() if i is not None and b not in built_on]
    if updated:
        return f"base image updated by pull: {', '.join(updated)}"
    if unknown:
        return f"base image pulled: {', '.join(unknown)} (not recorded by the last build)"
    return ""


# The image spec's fields (desired.py ``_image``), as a person says why a build reruns.
_BUILD_INPUTS = {
    "dockerfile": "Dockerfile changed",
    "context": "build context changed",
    "buildArgs": "build args changed",
    "buildArgsHash": "build args changed",
    "dockerfilePath": "Dockerfile moved",
    "contextDir": "build context moved",
    "tag": "tag changed",
}


def _change(
    resource: Resource, observed: Observed | None, action: Action, code: ReasonCode, reason: str
) -> Change:
    return Change(
        resource.role, resource.name, resource.kind, action, reason, code, resource, observed
    )


def _cascade(desired: DesiredGraph, changes: dict[Role, Change]) -> None:
    """Push replacements and restarts along the edges that need them (creation order).

    A dependent that exists is replaced when what it hangs on is created or replaced
    (its namespace or network is gone); a running booth is restarted when its sidecar
    is started, because a booth that joined a namespace keeps the dead one.
    """
    for role in CREATION_ORDER:
        source = changes.get(role)
        if source is None:
            continue
        for edge in desired.edges:
            if edge.src != role or edge.kind == EdgeKind.MOUNT:
                continue
            target = changes[edge.dst]
            if target.actual is None or target.action in (Action.CREATE, Action.REPLACE):
                continue
            if source.action in (Action.CREATE, Action.REPLACE):
                code, why = _CASCADE_REASON[edge.kind]
                changes[edge.dst] = attrs.evolve(
                    target, action=Action.REPLACE, reason=why, reason_code=code
                )
            elif (
                source.action == Action.START
                and edge.kind == EdgeKind.NETNS
                and target.action == Action.NONE
            ):
                changes[edge.dst] = attrs.evolve(
                    target,
                    action=Action.RESTART,
                    reason="namespace owner restarted",
                    reason_code=ReasonCode.NAMESPACE_OWNER_RESTARTED,
                )


def _rejoin_live_namespace(desired: DesiredGraph, changes: dict[Role, Change]) -> None:
    """A running booth that started before its running sidecar sits in a dead namespace
    (``live_namespace``): restart it into the live one."""
    sidecar, booth = changes.get(Role.SIDECAR), changes.get(Role.BOOTH)
    netns = any(e.kind == EdgeKind.NETNS for e in desired.edges)
    if (
        not (netns and sidecar and booth)
        or sidecar.action != Action.NONE
        or booth.action != Action.NONE
    ):
        return
    if in_dead_namespace(booth.actual, sidecar.actual):
        why = "namespace owner restarted (the sidecar started after the booth)"
        code = ReasonCode.NAMESPACE_OWNER_RESTARTED
        changes[Role.BOOTH] = attrs.evolve(
            booth, action=Action.RESTART, reason=why, reason_code=code
        )


_CASCADE_REASON = {
    EdgeKind.NETNS: (ReasonCode.NAMESPACE_OWNER_REPLACED, "namespace owner replaced"),
    EdgeKind.ATTACH: (ReasonCode.NETWORK_REPLACED, "network replaced"),
    EdgeKind.BUILD: (ReasonCode.IMAGE_REBUILT, "image rebuilt"),
}


def _owned(actual: ActualState) -> Iterable[Observed]:
    return (o for o in actual if o.owned)


def _not_desired(desired: DesiredGraph, actual: ActualState) -> list[Change]:
    """Owned objects nothing asks for any more, booth first (reverse creation order).

    A data volume is never removed implicitly: it holds the inner daemon's images and
    containers, and only ``destroy --volumes`` may drop it.
    """
    wanted = {(r.kind, r.name) for r in desired}
    leftovers = [
        o
        for o in _owned(actual)
        if (o.kind, o.name) not in wanted and _role(o) not in (Role.VOLUME, Role.IMAGE)
    ]
    leftovers.sort(key=_teardown_key)
    return [_removal(o, ReasonCode.NOT_DESIRED, "not desired") for o in leftovers]


def _teardown_key(observed: Observed) -> tuple[int, str]:
    return TEARDOWN_RANK[_role(observed)], observed.name


def _role(observed: Observed) -> Role:
    """The role label's, or the one its kind implies when the label is missing or unknown
    (written by hand, or by a newer booth): such an object is removed in the place that
    is safe for its kind (a container first), and a volume or an image is kept exactly
    as a labelled one is, since it may hold the inner daemon's data or a build cache."""
    return observed.role or _ROLE_OF_KIND[observed.kind]


_ROLE_OF_KIND = {
    Kind.CONTAINER: Role.BOOTH,
    Kind.NETWORK: Role.NETWORK,
    Kind.VOLUME: Role.VOLUME,
    Kind.IMAGE: Role.IMAGE,
}


def _removal(observed: Observed, code: ReasonCode, reason: str) -> Change:
    role = _role(observed)
    return Change(role, observed.name, observed.kind, Action.REMOVE, reason, code, None, observed)
