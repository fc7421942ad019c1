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

from typing import Any

from booth_builders import config_from_toml
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from memory_apply import apply, destroy, engine_for, owned_names, plan

from reconciler.config import BoothConfig
from reconciler.endpoints import BOOTH_CERT_PATH, CLIENT_TLS_DIR
from reconciler.engine_memory import MemoryEngine
from reconciler.errors import RunInterrupted
from reconciler.model import Role, resource_names
from reconciler.plan import Step

NAME, PORT = "demo", 10000
NEIGHBOUR = 'name = "neighbour"\nport = 10001\ndind = true\nrun-args = ["-p", "9090:80"]\n'
HOST_PORTS = (8080, 8081, 3000)


class Killed(BaseException):
    """booth's process died: nothing after this point of the run happens."""


def toml(ports: tuple[int, ...], dind: bool, endpoint: str) -> str:
    run_args = ", ".join(f'"-p", "{port}:{port}"' for port in ports)
    return (
        f'name = "{NAME}"\nport = {PORT}\ndind = {str(dind).lower()}\n'
        f'daemon-endpoint = "{endpoint}"\nrun-args = [{run_args}]\n'
    )


def fingerprint(engine: MemoryEngine) -> set[tuple[Any, ...]]:
    """Every object that is not the instance's, with what a change would change."""
    mine = {"label": [f"io.codingbooth.instance={NAME}", "io.codingbooth.managed=true"]}
    ours = {str(c["Id"]) for c in engine.containers(mine)}
    ours |= {str(n["Id"]) for n in engine.networks(mine)}
    ours |= {str(v["Name"]) for v in engine.volumes(mine)}
    found: set[tuple[Any, ...]] = set()
    for c in engine.containers_by_id.values():
        if c.id not in ours:
            found.add(("container", c.id, c.name, c.status, str(c.config), tuple(c.bound)))
    found |= {("network", n.id, n.name, str(n.labels)) for n in engine.networks_by_id.values()}
    found |= {("volume", v.name, str(v.labels)) for v in engine.volumes_by_name.values()}
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
    )
    def edit_config(self, ports: tuple[int, ...], dind: bool, endpoint: str) -> None:
        self.config = config_from_toml(toml(ports, dind, endpoint))

    @rule()
    def apply(self) -> None:
        apply(self.engine, self.config)
        assert not plan(self.engine, self.config).has_changes
        self._check_certificates(self.config)

    @rule(before=st.integers(1, 8))
    def apply_stopped_before_a_step(self, before: int) -> None:
        def stop(step: Step, _interrupts: object) -> None:
            if step.index == before:
                raise RunInterrupted("Ctrl-C")

        try:
            apply(self.engine, self.config, before_step=stop)
        except RunInterrupted:
            return
        assert not plan(self.engine, self.config).has_changes

    @rule(writes=st.integers(0, 8))
    def apply_killed_before_a_write(self, writes: int) -> None:
        done: list[str] = []

        def kill(operation: str, _ref: str) -> None:
            if len(done) == writes:
                raise Killed
            done.append(operation)

        self.engine.before_write = kill
        try:
            apply(self.engine, self.config)
        except Killed:
            return
        finally:
            self.engine.before_write = None
        assert not plan(self.engine, self.config).has_changes

    @rule(keep_volume=st.booleans())
    def destroy(self, keep_volume: bool) -> None:
        destroy(self.engine, self.config, remove_volumes=not keep_volume)
        left = owned_names(self.engine, NAME)
        kept = {resource_names(NAME, PORT)[Role.VOLUME]} if keep_volume else set()
        assert left <= kept

    # -- what happens around it ------------------------------------------------------------

    @rule()
    def restart_engine(self) -> None:
        self.engine.restart_engine()
        self.foreign = fingerprint(self.engine)  # foreign containers stopped too

    @rule(kind=st.sampled_from(("container", "running", "network", "volume", "claim")))
    def add_foreign_object(self, kind: str) -> None:
        self.count += 1
        name = f"foreign-{kind}-{self.count}"
        image = self.config.image
        if kind == "network":
            self.engine.create_network(name, "bridge", {"owner": "someone"})
        elif kind == "volume":
            self.engine.create_volume(name, "local", {"owner": "someone"})
        elif kind == "claim":  # claims the instance without booth's managed label
            labels = {"io.codingbooth.instance": NAME, "io.codingbooth.role": "booth"}
            self.engine.create_container(name, {"Image": image, "Labels": labels})
        else:
            self.engine.create_container(name, {"Image": image, "Cmd": ["sleep", "1"]})
            if kind == "running":
                self.engine.start(name)
        self.foreign = fingerprint(self.engine)

    # -- invariants ------------------------------------------------------------------------

    @invariant()
    def foreign_objects_are_untouched(self) -> None:
        assert fingerprint(self.engine) == self.foreign

    def _check_certificates(self, config: BoothConfig) -> None:
        if not config.dind or config.daemon_endpoint != "tls":
            return
        names = resource_names(NAME, PORT)
        client = self.engine.read_files(names[Role.SIDECAR], CLIENT_TLS_DIR)
        assert self.engine.read_files(names[Role.BOOTH], BOOTH_CERT_PATH) == client


ApplyHistory.TestCase.settings = settings(max_examples=40, stateful_step_count=15, deadline=None)
TestApplyHistory = ApplyHistory.TestCase
