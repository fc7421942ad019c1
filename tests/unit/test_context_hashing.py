"""The context hash computed in a forked child gives what the walk here gives, its errors
included, and leaves nothing behind: no zombie, no duplicated output."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from test_build_context import TREE, _refuse_to_open, make_tree

from reconciler import context_hashing
from reconciler.build_context import ContextWalk, build_inputs
from reconciler.context_hashing import ContextHashing
from reconciler.errors import ConfigError


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
    monkeypatch.setattr(context_hashing, "_answer", lambda _walk: os._exit(3))
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
