"""One reading of a ``-v``/``HostConfig.Binds`` string (``volumes.split_volume``) and one
writing (``str(VolumeSpec)``): whatever booth writes into a spec reads back as written,
wherever it is read (plan summary, Kubernetes, preflight, in-memory engine)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.config.booth_config import CliInputs, load_config
from reconciler.config.desired import build_desired
from reconciler.core.model import CODE_MOUNT, DOCKER_DATA, Role
from reconciler.core.volumes import BINDS, VolumeSpec, split_volume
from reconciler.engine.memory.engine import MemoryEngine
from reconciler.errors import ConfigError, EngineError, RunArgError

_NAME = st.text(alphabet="abcXYZ019_.-", min_size=2, max_size=8).filter(lambda p: p[0].isalnum())
_PATH = st.lists(_NAME, min_size=1, max_size=3).map(lambda parts: "/" + "/".join(parts))
_MODES = st.sampled_from(["", "ro", "rw", "ro,z", "rshared", "nocopy", "cached", "Z,rslave"])


@given(source=st.one_of(st.none(), _NAME, _PATH), target=_PATH, mode=_MODES)
def test_a_written_spec_reads_back_as_it_was(source: str | None, target: str, mode: str) -> None:
    spec = VolumeSpec(source, target, "" if source is None else mode)
    assert split_volume(str(spec), BINDS) == spec


@pytest.mark.parametrize(
    ("text", "source", "bind", "read_only"),
    [
        ("/src:/dst", "/src", True, False),
        ("/src:/dst:ro,z", "/src", True, True),
        ("data:/dst:rw", "data", False, False),
        ("/dst", None, False, False),
    ],
)
def test_what_a_spec_says(text: str, source: str | None, bind: bool, read_only: bool) -> None:
    spec = split_volume(text, BINDS)
    assert (spec.source, spec.is_bind, spec.read_only) == (source, bind, read_only)
    assert str(spec) == text


def test_a_broken_entry_names_where_it_came_from() -> None:
    with pytest.raises(RunArgError, match=r"^HostConfig\.Binds: .*too many colons"):
        split_volume("/a:/b:ro:x", BINDS)


def _graph(tmp_path: Path, extra: str = ""):  # type: ignore[no-untyped-def]
    (tmp_path / ".booth").mkdir(exist_ok=True)
    (tmp_path / ".booth" / "config.toml").write_text(
        f"dind = true\nkeep-dind-data = true\n{extra}", encoding="utf-8"
    )
    return build_desired(load_config(str(tmp_path), None, CliInputs(), host_env={}))


def test_booths_own_binds_are_written_by_the_one_writer(tmp_path: Path) -> None:
    desired = _graph(tmp_path, 'run-args = ["-v", "./x:/x:ro"]\n')
    booth, sidecar = desired.get(Role.BOOTH), desired.get(Role.SIDECAR)
    assert booth is not None and sidecar is not None
    binds = [split_volume(b, BINDS) for b in booth.spec["HostConfig"]["Binds"]]
    assert binds == [
        VolumeSpec(str(tmp_path.resolve()), CODE_MOUNT),
        VolumeSpec(str((tmp_path / "x").resolve()), "/x", "ro"),
    ]
    volume = desired.get(Role.VOLUME)
    assert volume is not None
    assert sidecar.spec["HostConfig"]["Binds"] == [f"{volume.name}:{DOCKER_DATA}"]
    mounts = {m["target"]: m for m in booth.summary["mounts"]}
    assert mounts["/x"] == {
        "type": "bind",
        "source": binds[1].source,
        "target": "/x",
        "read_only": True,
    }


def test_a_code_directory_with_a_colon_is_refused_in_one_line(tmp_path: Path) -> None:
    code = tmp_path / "a:b"
    code.mkdir()
    with pytest.raises(ConfigError, match=r"contains ':', which a Docker bind mount cannot carry"):
        _graph(code)


def test_the_memory_engine_refuses_a_bind_as_the_daemon_does() -> None:
    engine = MemoryEngine(images=["busybox:latest"])
    with pytest.raises(EngineError, match="invalid volume specification"):
        engine.primitives.create_container(
            "xy", {"Image": "busybox:latest", "HostConfig": {"Binds": ["/a:/b:bogus"]}}
        )
