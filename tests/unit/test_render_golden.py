"""Golden plan texts (and JSON): the renderer's output compared byte for byte.

Regenerate after an intended change with ``BOOTH_UPDATE_GOLDEN=1 pytest tests/unit`` and
review the diff. Configs use the fixed code path ``/srv/demo-app`` (never touched on disk),
so the files are the same on every machine.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from booth_builders import DIND_EXAMPLE_TOML, actual_matching, config_from_toml

from reconciler.config.booth_config import CliInputs
from reconciler.config.desired import build_desired
from reconciler.core.model import ActualState, DesiredGraph, Observed
from reconciler.core.plan import Plan, make_plan
from reconciler.core.reconcile import destroy_changes, reconcile
from reconciler.render.docker import plan_docker
from reconciler.render.plans import plan_json, plan_text

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
UPDATE = os.environ.get("BOOTH_UPDATE_GOLDEN") == "1"


def _dind_desired(cli: CliInputs | None = None, extra: str = "") -> DesiredGraph:
    return build_desired(config_from_toml(DIND_EXAMPLE_TOML + extra, cli=cli or CliInputs()))


def _plan(desired: DesiredGraph, actual: ActualState) -> Plan:
    return make_plan(desired.instance, reconcile(desired, actual))


def fresh_create() -> Plan:
    return _plan(_dind_desired(), ActualState())


def no_change() -> Plan:
    desired = _dind_desired()
    return _plan(desired, actual_matching(desired))


def port_added() -> Plan:
    before = actual_matching(_dind_desired())
    return _plan(_dind_desired(CliInputs(publish=("5000:5000",))), before)


def booth_deleted() -> Plan:
    desired = _dind_desired()
    return _plan(desired, actual_matching(desired, without=("booth",)))


def sidecar_stopped() -> Plan:
    desired = _dind_desired()
    return _plan(desired, actual_matching(desired, states={"sidecar": "exited"}))


def dind_turned_off() -> Plan:
    before = actual_matching(_dind_desired())
    after = build_desired(
        config_from_toml(DIND_EXAMPLE_TOML.replace("dind     = true", "dind     = false"))
    )
    return _plan(after, before)


def foreign_network() -> Plan:
    desired = _dind_desired()
    network = desired.get("network")
    assert network is not None
    foreign = Observed(kind="network", name=network.name, id="id-foreign", owned=False)
    return _plan(desired, ActualState((foreign,)))


def destroy_keeping_volume() -> Plan:
    desired = _dind_desired()
    return make_plan(
        desired.instance, destroy_changes(actual_matching(desired), remove_volumes=False)
    )


TEXT_CASES: dict[str, Callable[[], Plan]] = {
    "fresh_create": fresh_create,
    "no_change": no_change,
    "port_added": port_added,
    "booth_deleted": booth_deleted,
    "sidecar_stopped": sidecar_stopped,
    "dind_turned_off": dind_turned_off,
    "foreign_network": foreign_network,
    "destroy_keeping_volume": destroy_keeping_volume,
}
JSON_CASES: dict[str, Callable[[], Plan]] = {
    "fresh_create": fresh_create,
    "sidecar_stopped": sidecar_stopped,
}

# The same plans as docker commands (``--format docker``).
DOCKER_CASES: dict[str, Callable[[], Plan]] = {
    "fresh_create": fresh_create,
    "sidecar_stopped": sidecar_stopped,
    "destroy_keeping_volume": destroy_keeping_volume,
}


def check_golden(path: Path, actual: str) -> None:
    if UPDATE:
        path.write_text(actual, encoding="utf-8", newline="\n")
    assert path.exists(), f"{path} is missing; run with BOOTH_UPDATE_GOLDEN=1 to create it"
    expected = path.read_bytes().decode("utf-8")
    assert actual == expected, (
        f"{path.name} differs from the rendered plan; if the change is intended, "
        "regenerate with BOOTH_UPDATE_GOLDEN=1 and review the diff"
    )


@pytest.mark.parametrize("name", sorted(TEXT_CASES))
def test_plan_text_matches_golden(name: str) -> None:
    check_golden(GOLDEN / f"{name}.txt", plan_text(TEXT_CASES[name]()))


@pytest.mark.parametrize("name", sorted(JSON_CASES))
def test_plan_json_matches_golden(name: str) -> None:
    check_golden(GOLDEN / f"{name}.json", plan_json(JSON_CASES[name]()))


@pytest.mark.parametrize("name", sorted(DOCKER_CASES))
def test_plan_docker_matches_golden(name: str) -> None:
    check_golden(GOLDEN / f"{name}.sh", plan_docker(DOCKER_CASES[name]()))


def test_no_stale_golden_files() -> None:
    expected = {f"{name}.txt" for name in TEXT_CASES} | {f"{name}.json" for name in JSON_CASES}
    expected |= {f"{name}.sh" for name in DOCKER_CASES}
    suffixes = (".txt", ".json", ".sh")
    assert {p.name for p in GOLDEN.iterdir() if p.suffix in suffixes} == expected


def test_rendering_is_deterministic() -> None:
    for case in TEXT_CASES.values():
        assert plan_text(case()) == plan_text(case())
        assert plan_json(case()) == plan_json(case())
        assert plan_docker(case()) == plan_docker(case())


def test_golden_texts_are_machine_independent() -> None:
    """Nothing of this machine (cwd, home, tmp) may leak into the golden files."""
    for path in GOLDEN.iterdir():
        text = path.read_text(encoding="utf-8")
        for local in {str(Path.cwd()), str(Path.home())} - {"/"}:
            assert local not in text, (path.name, local)
