"""The engine contract (tests/support/engine_contract.py) on the in-memory engine; the
same cases run on Docker and Podman in tests/integration/test_engine_contract.py."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from engine_contract import ContractCases

from reconciler.core.model import Kind
from reconciler.engine.memory.engine import MemoryEngine

IMAGE = "booth-test/busybox:latest"


class MemoryBench:
    def __init__(self) -> None:
        self.engine = MemoryEngine(images=[IMAGE])
        self.lookups = self.engine.lookups
        self.image = IMAGE
        self.kind = "memory"
        self._counter = itertools.count(1)
        self._ports = itertools.count(20000)

    def unique(self, what: str) -> str:
        return f"ct-{what}-{next(self._counter)}"

    def free_port(self) -> int:
        return next(self._ports)

    def remove_unforced(self, container: str) -> None:
        self.engine.memory.remove_container(container, force=False)

    def pause(self, container: str) -> None:
        self.engine.memory.pause(container)

    def unpause(self, container: str) -> None:
        self.engine.memory.unpause(container)

    def say(self, container: str, *lines: str) -> None:
        self.engine.memory.write_log(container, *lines)

    def built(self, tag: str) -> None:
        pass  # gone with the engine

    def gone(self, container: str) -> bool:
        return self.engine.lookups.inspect(Kind.CONTAINER, container) is None


class TestMemoryEngineContract(ContractCases):
    @pytest.fixture
    def bench(self) -> Iterator[MemoryBench]:
        bench = MemoryBench()
        yield bench
        bench.engine.close()
        assert bench.engine.memory.closed
