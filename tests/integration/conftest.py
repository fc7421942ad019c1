"""Fixtures for the integration tests: a real Docker engine, booth dirs, thorough cleanup.

The engine is required when ``BOOTH_REQUIRE_DOCKER=1`` (CI: a missing engine or image is
a failure, never a silent skip); otherwise the tests skip. Every instance a test makes is
purged afterwards by its ``io.codingbooth.instance`` label, together with any object the
test created itself, so nothing outlives the tests even when one fails half-way.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import docker
import docker.errors
import engine_targets
import pytest
from cli_support import free_port
from engine_support import (
    BOOTH_IMAGE,
    BUSYBOX_IMAGE,
    DIND_IMAGE,
    FAILING_DOCKERD,
    GATED_DOCKERD,
    LABEL_INSTANCE,
    LABEL_ROLE,
    Background,
    BoothDir,
    build_image,
    ready_engine,
    remove_image,
)
from registry_support import LocalRegistry

NETWORK_REMOVE_RETRY_SECONDS = 5.0


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked ``engines`` run once per engine in BOOTH_TEST_ENGINES (see
    engine_targets.py), ``engines_without_code_dir`` once per such engine lacking this
    host's files, ``engines_over_ssh`` once per SSH engine; without the variable, every
    test runs once, against the local engine."""
    if "engine" not in metafunc.fixturenames:
        return
    if metafunc.definition.get_closest_marker("engines_without_code_dir"):
        names = engine_targets.without_code_dir()
    elif metafunc.definition.get_closest_marker("engines_over_ssh"):
        names = engine_targets.over_ssh()
    elif metafunc.definition.get_closest_marker("engines"):
        names = engine_targets.listed()
    else:
        return
    if names:
        metafunc.parametrize("engine", names, indirect=True, scope="session")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test of an engine lacking this host's files needs one, a test of an SSH engine
    an SSH engine: without it, it is deselected (not skipped), as the default run
    provisions none."""
    needs = {
        "engines_without_code_dir": engine_targets.without_code_dir(),
        "engines_over_ssh": engine_targets.over_ssh(),
    }
    missing = [marker for marker, engines in needs.items() if not engines]
    unrunnable = [i for i in items if any(i.get_closest_marker(m) for m in missing)]
    if unrunnable:
        config.hook.pytest_deselected(items=unrunnable)
        items[:] = [i for i in items if i not in unrunnable]


@pytest.fixture(scope="session")
def engine(request: pytest.FixtureRequest) -> Iterator[engine_targets.EngineTarget]:
    """The engine of this test run: the local one unless a parametrised test names another.

    Selecting it points this process's environment (and so every booth and docker process
    the tests start) at that engine until the next one is selected."""
    chosen = engine_targets.describe(getattr(request, "param", engine_targets.LOCAL))
    with engine_targets.selected(chosen):
        yield chosen


@pytest.fixture(scope="session")
def local_env(engine: engine_targets.EngineTarget) -> dict[str, str]:
    """The environment that reaches the local engine, whichever engine is selected."""
    env = {k: v for k, v in os.environ.items() if k not in engine_targets.ENV_VARS}
    for var in engine_targets.ENV_VARS:
        if var in engine_targets.ORIGINAL_ENV:
            env[var] = engine_targets.ORIGINAL_ENV[var]
    return env


@pytest.fixture(scope="session")
def docker_client(engine: engine_targets.EngineTarget) -> Iterator[docker.DockerClient]:
    """A client for the selected engine, once it answers and the test images exist."""
    client = ready_engine()
    yield client
    client.close()


class Cleanup:
    """What one test leaves behind: booth instances (by label) and objects it made itself."""

    def __init__(self, client: docker.DockerClient) -> None:
        self.client = client
        self.instances: list[str] = []
        self.containers: list[str] = []
        self.networks: list[str] = []
        self.volumes: list[str] = []
        self.processes: list[Background] = []
        # Run last, once the containers are gone (a registry's images: see local_registry).
        self.finally_: list[Callable[[], list[str]]] = []

    def purge(self) -> list[str]:
        """Remove everything tracked; return what could not be removed.

        Background CLI runs are killed first, so none creates anything after the purge.
        """
        for process in self.processes:
            process.kill()
        failures: list[str] = []
        for instance in self.instances:
            label = {"label": f"{LABEL_INSTANCE}={instance}"}
            found = self.client.api.containers(all=True, filters=label)
            # The booth first: it lives in the sidecar's network namespace.
            found.sort(key=lambda c: (c.get("Labels") or {}).get(LABEL_ROLE) != "booth")
            self.containers[:0] = [c["Id"] for c in found]
        api = self.client.api
        for container in self.containers:
            failures += self._try(
                partial(api.remove_container, container, force=True, v=True),
                f"container {container}",
            )
        for instance in self.instances:
            label = {"label": f"{LABEL_INSTANCE}={instance}"}
            self.networks += [n["Id"] for n in self.client.api.networks(filters=label)]
            volumes = (self.client.api.volumes(filters=label) or {}).get("Volumes") or []
            self.volumes += [v["Name"] for v in volumes]
        for network in self.networks:
            failures += self._remove_network(network)
        for volume in self.volumes:
            remove = partial(api.remove_volume, volume, force=True)
            failures += self._try(remove, f"volume {volume}")
        for last in self.finally_:
            failures += last()
        return failures

    def _remove_network(self, network: str) -> list[str]:
        deadline = time.monotonic() + NETWORK_REMOVE_RETRY_SECONDS
        while True:
            remove = partial(self.client.api.remove_network, network)
            failures = self._try(remove, f"network {network}")
            if not failures or time.monotonic() > deadline:
                return failures
            time.sleep(0.2)

    @staticmethod
    def _try(call: Callable[[], object], what: str) -> list[str]:
        try:
            call()
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as err:
            return [f"{what}: {err}"]
        return []


@pytest.fixture
def cleanup(docker_client: docker.DockerClient) -> Iterator[Cleanup]:
    """Register instances and self-made objects; all are removed when the test ends."""
    tracker = Cleanup(docker_client)
    yield tracker
    failures = tracker.purge()
    assert not failures, "cleanup left objects behind: " + "; ".join(failures)


@pytest.fixture
def make_booth(
    docker_client: docker.DockerClient,
    cleanup: Cleanup,
    tmp_path: Path,
    engine: engine_targets.EngineTarget,
    local_env: dict[str, str],
) -> Callable[..., BoothDir]:
    """Factory: a code dir whose config names a fresh instance ``bt-<8 hex>-<free port>``.

    Defaults are DinD on, the local test images and ``sleep infinity``; keyword
    arguments add or override config keys (``run_args=[...]``, ``dind=False`` …);
    ``name``/``port`` choose the instance (tests of neighbouring instances);
    ``on_engine_host=False`` leaves the code dir out on an engine lacking this host's files.
    """

    def make(**settings: object) -> BoothDir:
        on_engine_host = bool(settings.pop("on_engine_host", True))
        name = str(settings.pop("name", "") or f"bt-{uuid.uuid4().hex[:8]}")
        port = int(str(settings.pop("port", 0) or free_port()))
        cleanup.instances.append(name)
        code = tmp_path / name
        if code.exists():  # the same name with another port
            code = tmp_path / f"{name}-{port}"
        code.mkdir()
        if on_engine_host:
            engine.make_code_dir(code, local_env)
        defaults: dict[str, object] = {
            "image": BOOTH_IMAGE,
            "dind-image": DIND_IMAGE,
            "cmds": ["sleep", "infinity"],
            "dind": True,
        }
        defaults.update({k.replace("_", "-"): v for k, v in settings.items()})
        return BoothDir(
            docker_client, code, name, port, defaults, on_background=cleanup.processes.append
        )

    return make


# -- images the tests build themselves (unique tags, removed at the end of the session) ----


@pytest.fixture(scope="session")
def gated_dind_image(docker_client: docker.DockerClient) -> Iterator[str]:
    """The test DinD image whose daemon starts only once ``GATE_FILE`` exists (found
    first on PATH as ``dockerd``; the entrypoint and the real daemon are unchanged)."""
    tag = f"booth-test/gated-dind:{uuid.uuid4().hex[:8]}"
    dockerfile = f"FROM {DIND_IMAGE}\nCOPY dockerd /usr/local/sbin/dockerd\n"
    yield build_image(docker_client, tag, dockerfile, {"dockerd": GATED_DOCKERD})
    remove_image(docker_client, tag)


# A stand-in for CodingBooth's images: bash, a `coder` user with its home, and a tool on
# the PATH of a login shell only (/etc/profile.d, where CodingBooth's setups put go,
# python, the JDK …). No registry has the real ones here.
CODINGBOOTH_STANDIN = f"""\
FROM {BOOTH_IMAGE}
RUN useradd -m -u 1000 -s /bin/bash coder \\
 && mkdir -p /opt/profile-tool/bin /home/coder/code \\
 && printf '#!/bin/sh\\necho profile-tool-ran\\n' > /opt/profile-tool/bin/profile-tool \\
 && chmod 755 /opt/profile-tool/bin/profile-tool \\
 && echo 'export PATH=/opt/profile-tool/bin:$PATH' > /etc/profile.d/profile-tool.sh
CMD ["sleep", "infinity"]
"""


@pytest.fixture(scope="session")
def codingbooth_image(docker_client: docker.DockerClient) -> Iterator[str]:
    """A CodingBooth-shaped booth image (``CODINGBOOTH_STANDIN``), built once."""
    tag = f"booth-test/codingbooth-standin:{uuid.uuid4().hex[:8]}"
    yield build_image(docker_client, tag, CODINGBOOTH_STANDIN, {})
    remove_image(docker_client, tag)


@pytest.fixture(scope="session")
def failing_dind_image(docker_client: docker.DockerClient) -> Iterator[str]:
    """A sidecar image whose ``dockerd`` prints "fake-dockerd: cannot start" and exits 1."""
    tag = f"booth-test/failing-dind:{uuid.uuid4().hex[:8]}"
    dockerfile = f"FROM {BUSYBOX_IMAGE}\nCOPY dockerd /usr/local/bin/dockerd\n"
    yield build_image(docker_client, tag, dockerfile, {"dockerd": FAILING_DOCKERD})
    remove_image(docker_client, tag)


@pytest.fixture
def local_registry(
    docker_client: docker.DockerClient, cleanup: Cleanup, tmp_path: Path
) -> LocalRegistry:
    """A registry on a free 127.0.0.1 port (``docker-registry``), with its storage under
    the test's tmp dir; the process, every tag made through it and the images behind
    them go at the end, after the test's containers (which may still run them)."""
    workdir = tmp_path / "registry"
    workdir.mkdir()
    registry = LocalRegistry(docker_client, workdir)
    cleanup.finally_.append(registry.close)
    return registry
