"""Builders for the unit tests: configs at a fixed code path, and actual states.

Plain functions imported by name (no conftest): ``build_config`` never touches the code
directory unless an ``--env-file`` is named, so a fixed, non-existent path such as
``/srv/demo-app`` keeps plan text and JSON identical on every machine.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.config.booth_config import (
    IGNORED_KEYS,
    KNOWN_KEYS,
    BoothConfig,
    CliInputs,
    build_config,
)
from reconciler.config.desired import build_desired
from reconciler.config.reader import KeyReader
from reconciler.core.model import ActualState, DesiredGraph, Observed, Resource

FIXED_CODE = "/srv/demo-app"
# Who runs booth, fixed (CodingBooth's own environment settings), so plans do not depend
# on the machine's user and timezone.
HOST_IDENTITY = {"CB_HOST_UID": "1000", "CB_HOST_GID": "1000", "CB_TIMEZONE": "UTC"}

DIND_EXAMPLE_TOML = """\
variant  = "desktop-xfce"
dind     = true
run-args = [
    "-p", "8080:8080",
    "-p", "3000:3000",
]
"""


def config_from_toml(
    text: str = "",
    *,
    code: str = FIXED_CODE,
    cli: CliInputs | None = None,
    env: Mapping[str, str] | None = None,
) -> BoothConfig:
    """The config ``load_config`` would build from ``text`` in ``code``, without the file system."""
    return config_from_table(tomllib.loads(text), text, code=code, cli=cli, env=env)


def config_from_table(
    raw: dict[str, Any],
    text: str = "",
    *,
    code: str = FIXED_CODE,
    cli: CliInputs | None = None,
    env: Mapping[str, str] | None = None,
) -> BoothConfig:
    """The same from a TOML table (``text``, when given, is where lines are looked up)."""
    where = f"{code}/.booth/config.toml"
    reader = KeyReader(raw, text, where)
    warnings = reader.check_keys(KNOWN_KEYS, IGNORED_KEYS)
    return build_config(
        reader,
        code=Path(code),
        config_file=where,
        cli=cli or CliInputs(),
        env={**HOST_IDENTITY, **(env or {})},
        warnings=warnings,
        walk_context=True,
    )


def desired_from_toml(text: str = "", **kwargs: object) -> DesiredGraph:
    return build_desired(config_from_toml(text, **kwargs))  # type: ignore[arg-type]


def observed(
    resource: Resource,
    *,
    state: str | None = "running",
    spec_hash: str | None = None,
    owned: bool = True,
) -> Observed:
    """What the observer reports for an object booth created from ``resource``."""
    container = resource.kind == "container"
    return Observed(
        kind=resource.kind,
        name=resource.name,
        id=f"id-{resource.name}",
        owned=owned,
        role=resource.role if owned else None,
        spec_hash=(spec_hash or resource.spec_hash) if owned else None,
        field_hashes=resource.field_hashes if owned else (),
        state=state if container else None,
        ports=tuple(resource.summary.get("ports", ())) if container else (),
    )


def actual_matching(
    desired: DesiredGraph, *, without: tuple[str, ...] = (), states: Mapping[str, str] | None = None
) -> ActualState:
    """``actual == desired`` (every container running), minus the roles in ``without``."""
    states = states or {}
    return ActualState(
        tuple(
            observed(r, state=states.get(r.role, "running"))
            for r in desired
            if r.role not in without
        )
    )


CONTRACT_NAMES = frozenset({"HOST_UID", "HOST_GID", "TZ"})


def without_contract(env: list[str]) -> list[str]:
    """Env items (``NAME=value`` or names) minus CodingBooth's image contract (``CB_*``,
    ``HOST_UID``, ``HOST_GID``, ``TZ``), which test_codingbooth.py covers: what is left is
    what a test's own inputs put there."""
    return [
        item
        for item in env
        if not item.startswith("CB_") and item.partition("=")[0] not in CONTRACT_NAMES
    ]
