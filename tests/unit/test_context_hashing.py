"""The context hash computed in a forked child gives what the walk here gives, its errors
included, and leaves nothing behind: no zombie, no duplicated output."""

from __future__ import annotations

import argparse
import os
import posix  # the child's exit: os._exit may be wrapped by coverage to save (the parent's) data
import threading
import time
from pathlib import Path

import pytest
from test_build_context import TREE, _refuse_to_open, make_tree

from reconciler.config.prefetch import prefetch as config_prefetch
from reconciler.config.table import ConfigSource, read_document
from reconciler.errors import ConfigError
from reconciler.image import hashing as context_hashing
from reconciler.image.context import ContextWalk, build_inputs
from reconciler.image.hashing import ContextHashing


@pytest.fixture(autouse=True)
def _only_this_thread() -> None:
    """These tests expect a fork, which needs this thread to be the only one; a thread an
    earlier test left (a daemon thread following a container's log, say) gets a few
    seconds to end, else the test says which it is."""
    deadline = time.monotonic() + 10
    while threading.active_count() > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    others = [t.name for t in threading.enumerate() if t is not threading.current_thread()]
    assert not others, f"threads still running: {others}"


def walk_of(root: Path) -> ContextWalk:
    return build_inputs(root, root / "Dockerfile", {}).walk


def reaped(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_the_child_hashes_what_the_walk_here_hashes(tmp_path: Path) -> None:
    make_tree(tmp_path, TREE)
    walk = walk_of(tmp_path)
    with ContextHashing(walk) as hashing:
        pid = hashing._pid
        assert hashing.forked and pid is not None
        assert hashing.digest() == walk.digest()
    assert reaped(pid)


def test_an_edit_after_the_fork_is_not_seen_but_one_before_is(tmp_path: Path) -> None:
    """The child walks the tree as it is when it runs: the same moment the walk here
    would have, give or take the engine's round trips."""
    make_tree(tmp_path, TREE)
    before = walk_of(tmp_path).digest()
    (tmp_path / "src/app.py").write_text("print(2)\n")
    with ContextHashing(walk_of(tmp_path)) as hashing:
        assert hashing.digest() != before


def test_a_walk_error_is_the_same_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tree(tmp_path, TREE)
    walk = walk_of(tmp_path)
    _refuse_to_open(monkeypatch, "src")  # the child inherits the refusal
    with ContextHashing(walk) as hashing, pytest.raises(ConfigError) as err:
        assert hashing.forked
        hashing.digest()
    assert str(err.value) == f"cannot read directory {tmp_path / 'src'}: Permission denied"


def test_a_child_that_dies_without_an_answer_is_replaced_by_the_walk_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tree(tmp_path, TREE)
    walk = walk_of(tmp_path)
    monkeypatch.setattr(context_hashing, "_answer", lambda _walk: posix._exit(3))
    with ContextHashing(walk) as hashing:
        assert hashing.forked
        assert hashing.digest() == walk.digest()


def test_no_fork_while_another_thread_runs(tmp_path: Path) -> None:
    """A lock held by another thread would stay locked forever in a forked child."""
    make_tree(tmp_path, TREE)
    walk = walk_of(tmp_path)
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        with ContextHashing(walk) as hashing:
            assert not hashing.forked
            assert hashing.digest() == walk.digest()
    finally:
        release.set()
        other.join()


def test_without_background_the_walk_runs_here(tmp_path: Path) -> None:
    make_tree(tmp_path, TREE)
    walk = walk_of(tmp_path)
    with ContextHashing(walk, background=False) as hashing:
        assert not hashing.forked
        assert hashing.digest() == walk.digest()


def test_an_unwanted_child_is_ended_and_reaped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tree(tmp_path, TREE)
    walk = walk_of(tmp_path)
    # A child that would never answer: closing must not wait for it.
    monkeypatch.setattr(context_hashing, "_answer", lambda _walk: threading.Event().wait())
    hashing = ContextHashing(walk)
    pid = hashing._pid
    assert pid is not None
    hashing.close()
    assert reaped(pid)


def test_the_child_does_not_flush_what_the_parent_buffered(tmp_path: Path) -> None:
    make_tree(tmp_path / "code", TREE)
    out = tmp_path / "out.txt"
    with out.open("w") as buffered:
        buffered.write("written once\n")  # still in this process's buffer at the fork
        with ContextHashing(walk_of(tmp_path / "code")) as hashing:
            assert hashing.forked
            hashing.digest()
    assert out.read_text() == "written once\n"


def booth_dir(root: Path, config: str | None = None, dockerfile: bool = True) -> Path:
    make_tree(root, TREE)
    (root / ".booth").mkdir()
    if dockerfile:
        (root / ".booth" / "Dockerfile").write_text("FROM scratch\nCOPY . /code\n")
    if config is not None:
        (root / ".booth" / "config.toml").write_text(config)
    return root


def config_walk(root: Path, config_file: str | None = None) -> ContextWalk | None:
    """The walk the validated config asks for (what the workspace compares with)."""
    from reconciler.config.booth_config import load_config

    build = load_config(str(root), config_file, walk_context=False).build
    return build.inputs.walk if build is not None and build.inputs is not None else None


def prefetch(root: Path, config_file: str | None = None) -> ContextHashing | None:
    """The prefetch the CLI begins from the config it read (``cli._prefetch``)."""
    return config_prefetch(read_document(str(root), config_file))


@pytest.mark.parametrize(
    "config",
    [None, 'name = "xy"\n', 'dockerfile = "other/Dockerfile"\n', 'dockerfile = "other"\n'],
)
def test_a_prefetch_walks_what_the_validated_config_asks_for(
    tmp_path: Path, config: str | None
) -> None:
    root = booth_dir(tmp_path, config)
    (root / "other" / ".booth").mkdir(parents=True)
    (root / "other" / "Dockerfile").write_text("FROM scratch\nCOPY a /a\n")
    (root / "other" / ".booth" / "Dockerfile").write_text("FROM scratch\nADD a /a\n")
    hashing = prefetch(root)
    assert hashing is not None
    with hashing:
        assert hashing.forked
        assert hashing.walk == config_walk(root)
        assert hashing.digest() == hashing.walk.digest()


@pytest.mark.parametrize(
    ("config", "dockerfile"),
    [
        ('image = "busybox"\n', True),  # no build
        (None, False),  # no Dockerfile: the prebuilt image
        ('dockerfile = "missing"\n', True),  # the real load reports it
        ('dockerfile = "reads-nothing"\n', True),  # no COPY: most likely no walk at all
    ],
)
def test_no_prefetch_without_a_clear_build(
    tmp_path: Path, config: str | None, dockerfile: bool
) -> None:
    root = booth_dir(tmp_path, config, dockerfile)
    (root / "reads-nothing").write_text("FROM scratch\nCOPY --from=busybox /bin/sh /sh\n")
    assert prefetch(root) is None


def test_a_config_that_cannot_be_read_is_reported_where_the_command_reads_it(
    tmp_path: Path,
) -> None:
    """The CLI's early read fails quietly (no prefetch); the command raises the same
    error, once it reads its config, without reading the file again."""
    from reconciler.cli.main import _prefetch

    root = booth_dir(tmp_path / "code", "port = [\n")
    for directory in (root, tmp_path / "nowhere"):
        args = argparse.Namespace(command="plan", offline=False, directory=str(directory))
        args.config = None
        source, hashing = _prefetch(args)
        assert hashing is None
        with pytest.raises(ConfigError) as first:
            source.document()
        with pytest.raises(ConfigError) as again:
            source.document()
        assert again.value is first.value


def test_a_config_from_a_pipe_is_read_once_for_the_prefetch_and_the_load(
    tmp_path: Path,
) -> None:
    """``--config <(…)`` can be read only once: the prefetch and the real load both use
    that one read (a second read would give the load an empty config: CodingBooth's
    defaults, another image)."""
    from reconciler.app.workspace import Target, Workspace

    root = booth_dir(tmp_path)
    text = b'name = "from-a-pipe"\nport = 10000\n'
    read, write = os.pipe()
    try:
        os.write(write, text)
        os.close(write)
        source = ConfigSource(str(root), f"/dev/fd/{read}")
        hashing = config_prefetch(source.document())
        assert hashing is not None and hashing.forked
        target = Target(str(root), f"/dev/fd/{read}")
        workspace = Workspace(target, prefetched=hashing, source=source)
        config, _ = workspace.load(offline=True)
        assert os.read(read, 1024) == b""  # drained by the one read
    finally:
        os.close(read)
    assert config.name == "from-a-pipe"
    assert config.build is not None and config.build.fingerprint is not None
    assert config.build.fingerprint.context == hashing.walk.digest()


def test_the_workspace_uses_a_matching_prefetch_and_ends_any_other(tmp_path: Path) -> None:
    from reconciler.app.workspace import Target, Workspace

    root = booth_dir(tmp_path / "code", 'name = "xy"\nport = 10000\n')
    matching = prefetch(root)
    assert matching is not None and matching.forked
    workspace = Workspace(Target(str(root)), prefetched=matching)
    with workspace.loading() as loading:
        assert loading.hashing is matching
        config, _ = loading.result()
    assert config.build is not None and config.build.fingerprint is not None
    expected = config_walk(root)
    assert expected is not None
    assert config.build.fingerprint.context == expected.digest()

    other = booth_dir(tmp_path / "other")
    stale = prefetch(other)
    assert stale is not None
    pid = stale._pid
    assert pid is not None
    workspace = Workspace(Target(str(root)), prefetched=stale)
    with workspace.loading() as loading:
        assert loading.hashing is not stale
        loading.result()
    assert reaped(pid)


def test_a_workspace_closed_unused_reaps_its_prefetch(tmp_path: Path) -> None:
    from reconciler.app.workspace import Target, Workspace

    root = booth_dir(tmp_path)
    hashing = prefetch(root)
    assert hashing is not None
    pid = hashing._pid
    assert pid is not None
    Workspace(Target(str(root)), prefetched=hashing).close()
    assert reaped(pid)


@pytest.mark.parametrize(
    ("command", "offline", "expected"),
    [("plan", False, True), ("apply", False, True), ("plan", True, False), ("run", False, False)],
)
def test_only_an_online_plan_or_an_apply_prefetches(
    tmp_path: Path, command: str, offline: bool, expected: bool
) -> None:
    """An offline plan walks in process (nothing to overlap); `run`, `render` and the
    rest walk in process too."""
    from reconciler.cli.main import _prefetch

    root = booth_dir(tmp_path)
    args = argparse.Namespace(command=command, offline=offline, directory=str(root), config=None)
    _, hashing = _prefetch(args)
    assert (hashing is not None) == expected
    if hashing is not None:
        hashing.close()
