"""Which engines the integration tests run against.

By default: the local engine (``DOCKER_HOST`` or the local socket), nothing else.
``BOOTH_TEST_ENGINES="podman ssh tls"`` (written by ``.ci/engines-up.sh``) lists extra
engines; each one's environment comes from ``BOOTH_TEST_ENGINE_<NAME>_<VAR>``
(``DOCKER_HOST``, ``DOCKER_TLS_VERIFY``, ``DOCKER_CERT_PATH``, ``DOCKER_CONTEXT``,
``DOCKER_CONFIG``; ``PATH`` is prepended) and ``..._HOST_CONTAINER`` names the local
container that *is* that engine's host (the tests create code directories in it, and
test the error for a code directory that is missing there). Tests marked ``engines``
run once per listed engine (also marked ``engines_over_ssh``: once per SSH engine); the
others only against the local engine.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import attrs

ENV_VARS = (
    "DOCKER_HOST",
    "DOCKER_TLS_VERIFY",
    "DOCKER_CERT_PATH",
    "DOCKER_CONTEXT",
    "DOCKER_CONFIG",
)
LOCAL = "local"
# As the session started: the local engine's settings (selecting an engine changes them).
ORIGINAL_ENV = {var: os.environ[var] for var in ENV_VARS if var in os.environ}


@attrs.frozen
class EngineTarget:
    name: str
    env: Mapping[str, str] = attrs.field(factory=dict)
    path: str = ""
    host_container: str = ""

    @property
    def has_this_hosts_files(self) -> bool:
        return not self.host_container

    def make_code_dir(self, path: Path, local_env: Mapping[str, str]) -> None:
        """Create ``path`` on the engine's host too, as a user copying their code would."""
        if self.host_container:
            subprocess.run(
                ["docker", "exec", self.host_container, "mkdir", "-p", str(path)],
                env=dict(local_env),
                check=True,
                capture_output=True,
                timeout=30,
            )


def listed() -> list[str]:
    return os.environ.get("BOOTH_TEST_ENGINES", "").split()


def describe(name: str) -> EngineTarget:
    if name == LOCAL:
        return EngineTarget(LOCAL)
    prefix = f"BOOTH_TEST_ENGINE_{name.upper()}_"
    env = {var: os.environ[prefix + var] for var in ENV_VARS if prefix + var in os.environ}
    if "DOCKER_HOST" not in env and "DOCKER_CONTEXT" not in env:
        raise RuntimeError(f"BOOTH_TEST_ENGINES lists {name} but {prefix}DOCKER_HOST is unset")
    return EngineTarget(
        name,
        env,
        os.environ.get(prefix + "PATH", ""),
        os.environ.get(prefix + "HOST_CONTAINER", ""),
    )


def without_code_dir() -> list[str]:
    return [name for name in listed() if not describe(name).has_this_hosts_files]


def over_ssh() -> list[str]:
    """The listed engines booth reaches over SSH (``DOCKER_HOST=ssh://…``)."""
    return [n for n in listed() if describe(n).env.get("DOCKER_HOST", "").startswith("ssh://")]


@contextmanager
def selected(engine: EngineTarget) -> Iterator[dict[str, str]]:
    """Point this process (and the booth and docker processes it starts) at ``engine``;
    yield the environment from before, which reaches the local engine."""
    before = dict(os.environ)
    for var in ENV_VARS:
        os.environ.pop(var, None)
    os.environ.update(engine.env)
    if engine.path:
        os.environ["PATH"] = f"{engine.path}{os.pathsep}{before.get('PATH', '')}"
    try:
        yield before
    finally:
        os.environ.clear()
        os.environ.update(before)
