"""The engine contract (tests/support/engine_contract.py) on the real engines: the local
one, and in CI every engine of BOOTH_TEST_ENGINES (Podman, Docker over SSH and TLS). The
same cases run on the in-memory engine in tests/unit/test_engine_contract_memory.py.

The engine is reached as booth reaches it (``workspace.connector``: the unix-socket
engine locally, the SDK's otherwise), and its own lookups and primitives are asked.
Every object a case makes carries a name from ``unique`` and is removed after it,
whatever the outcome.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import docker
import docker.errors
import engine_targets
import pytest
from cli_support import free_port
from engine_contract import ContractCases
from engine_support import BUSYBOX_IMAGE

from reconciler.app.workspace import connector
from reconciler.engine.docker.calls import call
from reconciler.engine.docker.engine import SdkPrimitives
from reconciler.engine.engine import Engine

pytestmark = [pytest.mark.docker, pytest.mark.engines]
AUTO_REMOVE_SECONDS = 10.0


class RealBench:
    def __init__(self, engine: Engine, client: docker.APIClient) -> None:
        self.engine = engine
        self.client = client
        self.lookups = engine.lookups
        self.image = BUSYBOX_IMAGE
        self.kind = engine.identity().kind
        self.prefix = f"ct-{uuid.uuid4().hex[:8]}"
        self.names: list[str] = []
        self.images: list[str] = []

    def unique(self, what: str) -> str:
        name = f"{self.prefix}-{what}-{len(self.names)}"
        self.names.append(name)
        return name

    def free_port(self) -> int:
        return free_port()

    def remove_unforced(self, container: str) -> None:
        call(lambda: self.client.remove_container(container))

    def pause(self, container: str) -> None:
        call(lambda: self.client.pause(container))

    def unpause(self, container: str) -> None:
        call(lambda: self.client.unpause(container))

    def say(self, container: str, *lines: str) -> None:
        # Written to the main process's stdout: the container's log.
        script = "".join(f"echo {line} > /proc/1/fd/1; " for line in lines)
        exec_id = call(lambda: self.client.exec_create(container, ["sh", "-c", script]))
        call(lambda: self.client.exec_start(exec_id))

    def built(self, tag: str) -> None:
        self.images.append(tag)

    def gone(self, container: str) -> bool:
        deadline = time.monotonic() + AUTO_REMOVE_SECONDS
        while time.monotonic() < deadline:
            try:
                self.client.inspect_container(container)
            except docker.errors.NotFound:
                return True
            except docker.errors.APIError as err:  # P8: Podman, while it removes
                if "no such container" not in str(err):
                    raise
            time.sleep(0.05)
        return False

    def clean(self) -> list[str]:
        """Remove everything named with this bench's prefix; what could not be removed."""
        failures = []
        api = self.client
        mine = {"name": [self.prefix]}
        # Podman keeps a container others join (P10): those go in a second round.
        for _round in range(3):
            failures = []
            for c in api.containers(all=True, filters=mine):
                failures += _try(lambda c=c: api.remove_container(c["Id"], force=True, v=True))
        for n in api.networks(filters=mine):
            failures += _try(lambda n=n: api.remove_network(n["Id"]))
        for v in (api.volumes(filters=mine) or {}).get("Volumes") or []:
            failures += _try(lambda v=v: api.remove_volume(v["Name"], force=True))
        for tag in self.images:
            failures += _try(lambda tag=tag: api.remove_image(tag, force=True))
        return failures


def _try(remove: object) -> list[str]:
    try:
        remove()  # type: ignore[operator]
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as err:
        return [str(err)]
    return []


def _client(engine: Engine) -> docker.APIClient:
    """The SDK's client of the engine's primitives (a unix engine's, made for it)."""
    sdk = engine.primitives
    assert isinstance(sdk, SdkPrimitives)
    return sdk.client


class TestRealEngineContract(ContractCases):
    @pytest.fixture
    def bench(
        self, engine: engine_targets.EngineTarget, docker_client: docker.DockerClient
    ) -> Iterator[RealBench]:
        real = connector(None)()
        bench = RealBench(real, _client(real))
        try:
            yield bench
        finally:
            failures = bench.clean()
            real.close()
        assert not failures, f"the contract test left objects behind: {failures}"
