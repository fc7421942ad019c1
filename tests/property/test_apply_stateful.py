"""Random histories of one instance on the in-memory engine, run through booth's own
observer, reconciler, planner and executor (tests/support/memory_apply.py).

A history mixes config edits (published ports, DinD on and off, the daemon endpoint; the
name and port stay), applies, applies stopped before a step (``before_step`` raising, as
Ctrl-C does) or killed before any write to the engine (as SIGKILL would, mid-step too),
engine restarts, objects that are not this instance's (someone else's, a neighbouring
instance's, one claiming the instance's label) and destroys. Invariants:

- after a completed apply the next plan is empty (so an interrupted apply converges on
  the next, whatever it left);
- a destroy leaves no object of the instance (but the data volume, when kept);
- nothing that is not the instance's is ever modified or removed.
"""

from __future__ import annotations

import contextlib
from typing import Any

from booth_builders import config_from_toml
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from memory_apply import apply, destroy, engine_for, owned_names, plan

from reconciler.core.inner_daemon import BOOTH_CERT_PATH, CLIENT_TLS_DIR
from reconciler.core.model import Kind, Role, resource_names
from reconciler.core.plan import Step
from reconciler.engine.memory.engine import MemoryEngine
from reconciler.errors import EngineError, RunInterrupted

NAME, PORT = "demo", 10000
NEIGHBOUR = 'name = "neighbour"\nport = 10001\ndind = true\nrun-args = ["-p", "9090:80"]\n'
HOST_PORTS = (8080, 8081, 3000)
# The engine's writes (``MemoryEngine.memory.calls``), where a run can be killed.
WRITES = (
    "create_network",
    "create_volume",
    "create_container",
    "put_archive",
    "start",
    "stop",
    "remove_container",
    "remove_network",
    "remove_volume",
)


class Killed(BaseException):
    """booth's process died: nothing after this point of the run happens."""


def toml(
    ports: tuple[int, ...], dind: bool, endpoint: str, keep: bool = True, daemon: bool = False
) -> str:
    run_args = ", ".join(f'"-p", "{port}:{port}"' for port in ports)
    return (
        f'name = "{NAME}"\nport = {PORT}\ndind = {str(dind).lower()}\n'
        f'daemon-endpoint = "{endpoint}"\nrun-args = [{run_args}]\n'
        f"keep-dind-data = {str(keep).lower()}\ndaemon = {str(daemon).lower()}\n"
    )


def fingerprint(engine: MemoryEngine) -> set[tuple[Any, ...]]:
    """Every object that is not the instance's, with what a change would change."""
    mine = {"label": [f"io.codingbooth.instance={NAME}", "io.codingbooth.managed=true"]}
    ours = {str(c["Id"]) for c in engine.lookups.containers(mine)}
    ours |= {str(n["Id"]) for n in engine.lookups.networks(mine)}
    ours |= {str(v["Name"]) for v in engine.lookups.volumes(mine)}
    found: set[tuple[Any, ...]] = set()
    for c in engine.memory.containers_by_id.values():
        if c.id not in ours:
            found.add(("container", c.id, c.name, c.status, str(c.config), tuple(c.bound)))
    found |= {
        ("network", n.id, n.name, str(n.labels)) for n in engine.memory.networks_by_id.values()
    }
    found |= {("volume", v.name, str(v.labels)) for v in engine.memory.volumes_by_name.values()}
    return {f for f in found if f[1] not in ours}


class ApplyHistory(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self.config = config_from_toml(toml((8080,), True, "tls"))
        neighbour = config_from_toml(NEIGHBOUR)
        self.engine = engine_for(self.config, neighbour)
        apply(self.engine, neighbour)
        self.foreign = fingerprint(self.engine)
        self.count = 0

    # -- what happens to the instance ------------------------------------------------------

    @rule(
        ports=st.lists(st.sampled_from(HOST_PORTS), unique=True, max_size=2).map(tuple),
        dind=st.booleans(),
        endpoint=st.sampled_from(("tcp", "tls")),
        keep=st.booleans(),
        daemon=st.booleans(),
    )
    def edit_config(
        self, ports: tuple[int, ...], dind: bool, endpoint: str, keep: bool, daemon: bool
    ) -> None:
        self.config = config_from_toml(toml(ports, dind, endpoint, keep, daemon))

    @rule()
    def apply(self) -> None:
        stale = self._stale_namespace()
        apply(self.engine, self.config)
        self._converged(stale)

    @rule(before=st.integers(1, 8))
    def apply_stopped_before_a_step(self, before: int) -> None:
        def stop(step: Step, _interrupts: object) -> None:
            if step.index == before:
                raise RunInterrupted("Ctrl-C")

        stale = self._stale_namespace()
        try:
            apply(self.engine, self.config, before_step=stop)
        except RunInterrupted:
            return
        self._converged(stale)

    @rule(at=st.sampled_from(WRITES), nth=st.integers(0, 1))
    def apply_killed_before_a_write(self, at: str, nth: int) -> None:
        """Killed just before the ``nth`` write of kind ``at`` (if the run makes one)."""
        seen: list[str] = []

        def kill(operation: str, _ref: str) -> None:
            if operation == at and seen.count(at) == nth:
                raise Killed
            seen.append(operation)

        self.engine.memory.before_write = kill
        stale = self._stale_namespace()
        try:
            apply(self.engine, self.config)
        except Killed:
            return
        finally:
            self.engine.memory.before_write = None
        self._converged(stale)

    @rule(keep_volume=st.booleans())
    def destroy(self, keep_volume: bool) -> None:
        destroy(self.engine, self.config, remove_volumes=not keep_volume)
        left = owned_names(self.engine, NAME)
        kept = {resource_names(NAME, PORT)[Role.VOLUME]} if keep_volume else set()
        assert left <= kept

    # -- what happens around it ------------------------------------------------------------

    @rule()
    def sidecar_stops(self) -> None:
        """The sidecar stops behind booth's back (``docker stop``, its daemon crashing)."""
        self._behind_booths_back(Role.SIDECAR, restart=False)

    @rule(role=st.sampled_from((Role.SIDECAR, Role.BOOTH)), restart=st.booleans())
    def stop_behind_booths_back(self, role: Role, restart: bool) -> None:
        """``docker stop`` (or ``docker restart``) of one of the instance's containers."""
        self._behind_booths_back(role, restart=restart)

    def _behind_booths_back(self, role: Role, *, restart: bool) -> None:
        name = resource_names(NAME, PORT)[role]
        if self.engine.lookups.inspect(Kind.CONTAINER, name) is None:
            return
        # The engine may refuse (a booth whose sidecar is stopped), as a user would see.
        with contextlib.suppress(EngineError):
            self.engine.primitives.restart(name, 0) if restart else self.engine.primitives.stop(
                name, 0
            )

    @rule()
    def restart_engine(self) -> None:
        self.engine.memory.restart_engine()
        self.foreign = fingerprint(self.engine)  # foreign containers stopped too

    @rule(kind=st.sampled_from(("container", "running", "network", "volume", "claim")))
    def add_foreign_object(self, kind: str) -> None:
        self.count += 1
        name = f"foreign-{kind}-{self.count}"
        image = self.config.image
        if kind == "network":
            self.engine.primitives.create_network(name, "bridge", {"owner": "someone"})
        elif kind == "volume":
            self.engine.create_volume(name, "local", {"owner": "someone"})
        elif kind == "claim":  # claims the instance without booth's managed label
            labels = {"io.codingbooth.instance": NAME, "io.codingbooth.role": "booth"}
            self.engine.create_container(name, {"Image": image, "Labels": labels})
        else:
            self.engine.create_container(name, {"Image": image, "Cmd": ["sleep", "1"]})
            if kind == "running":
                self.engine.primitives.start(name)
        self.foreign = fingerprint(self.engine)

    # -- invariants ------------------------------------------------------------------------

    @invariant()
    def foreign_objects_are_untouched(self) -> None:
        assert fingerprint(self.engine) == self.foreign

    def _stale_namespace(self) -> bool:
        """Whether the booth runs in a dead namespace while its sidecar runs again (a
        ``docker restart`` of the sidecar, an apply stopped between the sidecar's start
        and the booth's restart): both show running; the next apply must mend it by their
        ``State.StartedAt``."""
        names = resource_names(NAME, PORT)
        if self.engine.lookups.inspect(Kind.CONTAINER, names[Role.BOOTH]) is None:
            return False
        booth = self.engine.container_state(names[Role.BOOTH])
        sidecar = self.engine.lookups.inspect(Kind.CONTAINER, names[Role.SIDECAR])
        running = sidecar is not None and sidecar["State"]["Status"] == "running"
        stale = (
            booth["Running"]
            and running
            and not self.engine.memory.in_live_namespace(names[Role.BOOTH])
        )
        if stale:
            event("the booth's namespace died and its sidecar runs again")
        return bool(stale)

    def _converged(self, stale: bool) -> None:
        """After a completed apply: nothing left to do, a booth in its sidecar's live
        namespace (even if it was stale before, see above), and the TLS files the
        daemon was given in the booth."""
        assert not plan(self.engine, self.config).has_changes
        if not self.config.dind:
            return
        names = resource_names(NAME, PORT)
        booth = names[Role.BOOTH]
        if self.engine.lookups.inspect(Kind.CONTAINER, booth) is not None:
            # Also after a stale namespace (``stale``): the start times tell it, and the
            # apply restarts the booth into the live one (``core/live_namespace.py``).
            assert self.engine.memory.in_live_namespace(booth), f"stale before: {stale}"
        if self.config.daemon_endpoint != "tls":
            return
        client = self.engine.read_files(names[Role.SIDECAR], CLIENT_TLS_DIR)
        assert self.engine.read_files(names[Role.BOOTH], BOOTH_CERT_PATH) == client


ApplyHistory.TestCase.settings = settings(max_examples=50, stateful_step_count=15, deadline=None)
TestApplyHistory = ApplyHistory.TestCase
