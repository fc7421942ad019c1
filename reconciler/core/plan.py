"""Changes → a plan: a DAG of steps, each one engine call with its cause. Pure.

Each change becomes a short chain of operations (stop → remove; create → start →
wait-ready). Dependencies come from the graph's edges (``model.EDGES``):

* teardown runs against the edges: what hangs on a resource goes before it (booth
  before sidecar, sidecar before its network and volume);
* build-up runs along them: a sidecar is created after its network and volume; a booth
  is created after the sidecar whose namespace it joins and starts only once that
  sidecar's inner daemon answers (its ``wait-ready``);
* every build-up starts after all of the teardown, which frees names and host ports;
* a resource's own build-up follows its own teardown (a replacement).

The steps are then listed in a topological order that prefers teardown, then every
create the DAG allows, then starts, then waits. Creating is what the engine can still
refuse for a value ``plan`` could not check (a bind source gone since, a name taken
meanwhile); starting the privileged sidecar is what must not have happened when it does.
The engine lets a container join ``container:<id>`` while that one is only created, so a
fresh booth is created before its sidecar starts (design.md §7.1). The executor runs
them in that order; ``depends_on`` (step indexes) lets a reader, or a future parallel
executor, see why.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from enum import StrEnum

import attrs

from reconciler.core.model import EDGES, EdgeKind, Kind, Observed, Resource, Role
from reconciler.core.reconcile import CREATION_RANK, TEARDOWN_RANK, Action, Change, ReasonCode


class Op(StrEnum):
    BUILD_IMAGE = "build-image"
    CREATE_NETWORK = "create-network"
    CREATE_VOLUME = "create-volume"
    CREATE_CONTAINER = "create-container"
    START_CONTAINER = "start-container"
    RESTART_CONTAINER = "restart-container"
    WAIT_READY = "wait-ready"
    STOP_CONTAINER = "stop-container"
    REMOVE_CONTAINER = "remove-container"
    REMOVE_NETWORK = "remove-network"
    REMOVE_VOLUME = "remove-volume"


_CREATE_OP = {
    Kind.IMAGE: Op.BUILD_IMAGE,
    Kind.NETWORK: Op.CREATE_NETWORK,
    Kind.VOLUME: Op.CREATE_VOLUME,
}
_REMOVE_OP = {
    Kind.NETWORK: Op.REMOVE_NETWORK,
    Kind.VOLUME: Op.REMOVE_VOLUME,
    Kind.CONTAINER: Op.REMOVE_CONTAINER,
}
_TEARDOWN_OPS = frozenset({Op.STOP_CONTAINER, *_REMOVE_OP.values()})
# Among the build-up steps that are ready: every create first (what the engine may still
# refuse), then starts, then waits (a wait changes nothing and blocks until it ends).
_BUILDUP_STAGE = {
    **dict.fromkeys((*_CREATE_OP.values(), Op.CREATE_CONTAINER), 0),
    Op.START_CONTAINER: 1,
    Op.RESTART_CONTAINER: 1,
    Op.WAIT_READY: 2,
}


@attrs.frozen
class Step:
    """One engine call, with everything the executor needs to make it."""

    index: int
    op: Op
    role: Role
    name: str
    reason: str
    reason_code: ReasonCode
    depends_on: tuple[int, ...] = ()
    desired: Resource | None = None
    observed: Observed | None = None


@attrs.frozen
class Plan:
    instance: str
    changes: tuple[Change, ...]
    steps: tuple[Step, ...]

    @property
    def has_changes(self) -> bool:
        return bool(self.steps)

    def summary(self) -> dict[str, int]:
        counts = {"create": 0, "replace": 0, "start": 0, "remove": 0}
        key = {
            Action.CREATE: "create",
            Action.REPLACE: "replace",
            Action.START: "start",
            Action.RESTART: "start",
            Action.REMOVE: "remove",
        }
        for change in self.changes:
            if change.action in key:
                counts[key[change.action]] += 1
        return counts


@attrs.define
class _Node:
    op: Op
    change: Change
    reason: str
    code: ReasonCode
    deps: set[int] = attrs.field(factory=set)

    @property
    def teardown(self) -> bool:
        return self.op in _TEARDOWN_OPS

    def priority(self) -> tuple[int, int, int, str]:
        if self.op == Op.BUILD_IMAGE:
            # First of all: a build that fails has then changed nothing else.
            return (-1, 0, 0, self.change.name)
        if self.teardown:
            return (0, 0, TEARDOWN_RANK[self.change.role], self.change.name)
        return (1, _BUILDUP_STAGE[self.op], CREATION_RANK[self.change.role], self.change.name)


def make_plan(instance: str, changes: Sequence[Change]) -> Plan:
    nodes: list[_Node] = []
    teardown: dict[Role, list[int]] = {}
    buildup: dict[Role, list[int]] = {}

    def chain(role: Role, into: dict[Role, list[int]], node: _Node) -> None:
        ids = into.setdefault(role, [])
        if ids:
            node.deps.add(ids[-1])
        ids.append(len(nodes))
        nodes.append(node)

    for change in changes:
        for op in _teardown_ops(change):
            chain(change.role, teardown, _Node(op, change, change.reason, change.reason_code))
    for change in changes:
        for node in _buildup_nodes(change, changes):
            chain(node.change.role, buildup, node)
    _link(nodes, teardown, buildup)
    return Plan(instance, tuple(changes), _ordered_steps(nodes))


def _teardown_ops(change: Change) -> list[Op]:
    if change.action not in (Action.REPLACE, Action.REMOVE) or change.kind == Kind.IMAGE:
        return []  # building again moves the tag; booth never removes an image
    ops = []
    if change.kind == Kind.CONTAINER and change.actual is not None and change.actual.running:
        ops.append(Op.STOP_CONTAINER)
    return [*ops, _REMOVE_OP[change.kind]]


def _buildup_nodes(change: Change, changes: Sequence[Change]) -> list[_Node]:
    def node(op: Op, on: Change = change) -> _Node:
        return _Node(op, on, change.reason, change.reason_code)

    action = change.action
    if action in (Action.REMOVE, Action.NONE, Action.EXTERNAL):
        return []
    if change.kind != Kind.CONTAINER:
        return [node(_CREATE_OP[change.kind])]
    nodes = []
    if change.role == Role.BOOTH:
        nodes += _wait_for_running_sidecar(changes)
    if action in (Action.CREATE, Action.REPLACE):
        nodes += [node(Op.CREATE_CONTAINER), node(Op.START_CONTAINER)]
    elif action == Action.START:
        nodes.append(node(Op.START_CONTAINER))
    elif action == Action.RESTART:
        nodes.append(node(Op.RESTART_CONTAINER))
    if change.role == Role.SIDECAR:
        starting = ReasonCode.DAEMON_STARTING
        nodes.append(_Node(Op.WAIT_READY, change, "inner Docker daemon starting", starting))
    return nodes


def _wait_for_running_sidecar(changes: Sequence[Change]) -> list[_Node]:
    """A booth (re)started next to a sidecar that is left as it is still waits for the
    inner daemon: after a crash mid-apply the daemon may not be up yet."""
    sidecar = next((c for c in changes if c.role == Role.SIDECAR and c.action == Action.NONE), None)
    if sidecar is None:
        return []
    why = "the booth starts only once the inner daemon answers"
    return [_Node(Op.WAIT_READY, sidecar, why, ReasonCode.DAEMON_CHECK)]


def _link(
    nodes: list[_Node], teardown: dict[Role, list[int]], buildup: dict[Role, list[int]]
) -> None:
    """Add the edges' dependencies and the teardown barrier to the per-resource chains."""
    for edge in EDGES:
        after = teardown.get(edge.dst)
        before = teardown.get(edge.src)
        if after and before:  # the dependent goes first
            nodes[before[0]].deps.add(after[-1])
        built = buildup.get(edge.src)
        if edge.kind == EdgeKind.BUILD and after and built:
            # The old booth goes only once its new image is built: a failed build has then
            # changed nothing.
            nodes[after[0]].deps.add(built[-1])
    removals = [i for i, n in enumerate(nodes) if n.teardown]
    for role, ids in buildup.items():
        if role != Role.IMAGE:  # a build frees nothing and needs nothing freed
            nodes[ids[0]].deps.update(removals)
        if role in teardown:
            nodes[ids[0]].deps.add(teardown[role][-1])
    for edge in EDGES:
        _link_buildup(nodes, edge.src, edge.dst, edge.kind, buildup)


def _link_buildup(
    nodes: list[_Node], src: Role, dst: Role, kind: EdgeKind, buildup: dict[Role, list[int]]
) -> None:
    source, target = buildup.get(src, []), buildup.get(dst, [])
    if not source or not target:
        return
    created = [i for i in source if nodes[i].op in (*_CREATE_OP.values(), Op.CREATE_CONTAINER)]
    for i in target:
        if created and nodes[i].op == Op.CREATE_CONTAINER:
            nodes[i].deps.add(created[-1])
    if kind != EdgeKind.NETNS:
        return
    ready = next((i for i in source if nodes[i].op == Op.WAIT_READY), source[-1])
    for i in target:
        if nodes[i].op in (Op.START_CONTAINER, Op.RESTART_CONTAINER):
            nodes[i].deps.add(ready)


def _ordered_steps(nodes: list[_Node]) -> tuple[Step, ...]:
    """Kahn's algorithm, taking the ready node of best priority each time."""
    waiting = {i: set(n.deps) for i, n in enumerate(nodes)}
    ready = [(n.priority(), i) for i, n in enumerate(nodes) if not n.deps]
    heapq.heapify(ready)
    position: dict[int, int] = {}
    while ready:
        _, i = heapq.heappop(ready)
        position[i] = len(position) + 1
        for j, deps in waiting.items():
            if i in deps:
                deps.discard(i)
                if not deps and j not in position:
                    heapq.heappush(ready, (nodes[j].priority(), j))
    if len(position) != len(nodes):  # pragma: no cover - the edges admit no cycle
        raise AssertionError("plan dependencies form a cycle")
    order = sorted(position, key=position.__getitem__)
    return tuple(_step(nodes[i], position[i], position) for i in order)


def _step(node: _Node, index: int, position: dict[int, int]) -> Step:
    change = node.change
    # Teardown acts on the object that is there, whose name may be another (a port change
    # renames the sidecar and the network): the executor finds it by that name.
    old = change.actual.name if node.teardown and change.actual is not None else None
    return Step(
        index=index,
        op=node.op,
        role=change.role,
        name=old or change.name,
        reason=node.reason,
        reason_code=node.code,
        depends_on=tuple(sorted(position[d] for d in node.deps)),
        desired=change.desired,
        observed=change.actual,
    )
