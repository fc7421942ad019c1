"""Paths and the config file: every unusable one is a one-line error naming it."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from reconciler.cli.main import main
from reconciler.files import MAX_CONFIG_BYTES, toml_text

Capsys = pytest.CaptureFixture[str]


def one_line_error(capsys: Capsys, *argv: str) -> str:
    code = main(["--log-format", "json", *argv])
    out, err = capsys.readouterr()
    assert code == 1, (out, err)
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("booth: error: "), err
    assert "Traceback" not in err
    return err


def code_dir(tmp_path: Path, config: bytes | None = None) -> Path:
    (tmp_path / ".booth").mkdir()
    if config is not None:
        (tmp_path / ".booth" / "config.toml").write_bytes(config)
    return tmp_path


def plan(directory: Path, *extra: str) -> tuple[str, ...]:
    return ("-C", str(directory), "plan", "--offline", *extra)


@pytest.mark.parametrize("bad", ["a\0b", "~nosuchuser-booth/x"])
def test_bad_paths_in_every_place_a_path_is_taken(capsys: Capsys, tmp_path: Path, bad: str) -> None:
    code = code_dir(tmp_path, b"")
    expected = "NUL byte" if "\0" in bad else "cannot expand '~nosuchuser-booth'"
    for argv in (
        ("-C", bad, "plan", "--offline"),
        ("--config", bad, *plan(code)),
        plan(code, f"--run-arg=--env-file={bad}"),
        plan(code, "--run-arg=-v", f"--run-arg={bad}:/data"),
    ):
        assert expected in one_line_error(capsys, *argv), argv
    assert "NUL" in one_line_error(
        capsys, *plan(code, "--run-arg=--mount=type=bind,src=/a\0,dst=/b")
    )


def test_a_dangling_config_symlink_is_an_error(capsys: Capsys, tmp_path: Path) -> None:
    code = code_dir(tmp_path)
    (code / ".booth" / "config.toml").symlink_to("nowhere.toml")
    assert "a dangling symlink (to nowhere.toml)" in one_line_error(capsys, *plan(code))


def test_a_looping_config_symlink_is_an_error(capsys: Capsys, tmp_path: Path) -> None:
    code = code_dir(tmp_path)
    (code / ".booth" / "config.toml").symlink_to("config.toml")
    assert "cannot read" in one_line_error(capsys, *plan(code))


def test_a_config_that_is_not_a_file_is_an_error(capsys: Capsys, tmp_path: Path) -> None:
    code = code_dir(tmp_path)
    (code / ".booth" / "config.toml").mkdir()
    assert "not a regular file (a directory)" in one_line_error(capsys, *plan(code))


def test_a_fifo_as_the_default_config_is_refused_without_blocking(
    capsys: Capsys, tmp_path: Path
) -> None:
    # Root can read anything but a FIFO without a writer: reading it would block forever.
    code = code_dir(tmp_path)
    os.mkfifo(code / ".booth" / "config.toml")
    assert "not a regular file (a FIFO)" in one_line_error(capsys, *plan(code))


def test_a_dot_booth_that_is_a_file_is_an_error(capsys: Capsys, tmp_path: Path) -> None:
    (tmp_path / ".booth").write_text("port = 1\n")
    assert "cannot read: Not a directory" in one_line_error(capsys, *plan(tmp_path))


def test_an_unreadable_booth_directory_is_an_error(
    capsys: Capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tests run as root, which reads any mode: make the stat fail as it would for a user.
    code = code_dir(tmp_path, b"port = 1\n")
    real_stat = Path.stat

    def denied(self: Path, **kwargs: bool) -> os.stat_result:
        if self.name == "config.toml":
            raise PermissionError(13, "Permission denied")
        return real_stat(self, **kwargs)

    monkeypatch.setattr(Path, "stat", denied)
    assert "cannot read: Permission denied" in one_line_error(capsys, *plan(code))


def test_an_unreadable_code_directory_is_an_error(
    capsys: Capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_stat = Path.stat

    def denied(self: Path, **kwargs: bool) -> os.stat_result:
        if self == tmp_path:
            raise PermissionError(13, "Permission denied")
        return real_stat(self, **kwargs)

    monkeypatch.setattr(Path, "stat", denied)
    assert "cannot use" in one_line_error(capsys, *plan(tmp_path))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\xef\xbb\xbfport = 1\n", "byte-order mark (BOM)"),
        (b'port = 1\nname = "\xff"\n', "config.toml:2: not UTF-8 (byte 0xff at offset 17)"),
        (b"a = " + b"[" * 1000, "nested too deeply"),
        (b"a = " + b"{b = " * 1000, "malformed TOML"),
        (b"port = 1\n" + b"#" * MAX_CONFIG_BYTES, "more than the 1 MiB a config may be"),
        (b"dind = 2020-01-02\n", "got 2020-01-02"),
        (b"dind = 07:32:00\n", "got 07:32:00"),
        (b"port = true\n", "got true"),
        (
            b"cmds = [[1, true], 1979-05-27T07:32:00Z]\n",
            "got [[1, true], 1979-05-27T07:32:00+00:00]",
        ),
    ],
)
def test_unusable_config_contents(
    capsys: Capsys, tmp_path: Path, content: bytes, expected: str
) -> None:
    assert expected in one_line_error(capsys, *plan(code_dir(tmp_path, content)))


def test_explicit_config_may_be_a_pipe(capsys: Capsys, tmp_path: Path) -> None:
    read, write = os.pipe()
    os.write(write, b"port = 10123\n")
    os.close(write)
    try:
        code = main(["--config", f"/dev/fd/{read}", *plan(code_dir(tmp_path))])
    finally:
        os.close(read)
    assert code == 0
    assert "127.0.0.1:10123:10000/tcp" in capsys.readouterr().out


def test_toml_text_writes_toml_not_python() -> None:
    assert toml_text(True) == "true"
    assert toml_text('it\'s "x"') == '"it\'s \\"x\\""'
    assert toml_text(["a", 1, 1.5]) == '["a", 1, 1.5]'
    assert toml_text({"k": False}) == "{k = false}"
    assert toml_text("x" * 100).endswith("...") and len(toml_text("x" * 100)) == 60


def _labels_config(tmp_path: Path, count: int) -> Path:
    words = ", ".join(f'"-l", "key{i}=value{i}"' for i in range(count))
    return code_dir(tmp_path, f"run-args = [{words}]\n".encode())


def test_twenty_thousand_labels_scale_linearly(
    capsys: Capsys, tmp_path_factory: pytest.TempPathFactory
) -> None:
    seconds = []
    for count in (2_000, 20_000):
        directory = _labels_config(tmp_path_factory.mktemp("labels"), count)
        start = time.perf_counter()
        assert main([*plan(directory, "--json")]) == 0
        seconds.append(time.perf_counter() - start)
        assert f'"key{count - 1}": "value{count - 1}"' in capsys.readouterr().out
    # Ten times the labels: linear work takes ~10x; quadratic work would take ~100x.
    # The bound is loose so a busy machine cannot fail it.
    assert seconds[1] < 40 * seconds[0] + 1.0, seconds


def test_a_relative_volume_source_that_loops_is_an_error(capsys: Capsys, tmp_path: Path) -> None:
    code = code_dir(tmp_path, b"")
    (code / "loop").symlink_to(code / "loop")
    message = one_line_error(capsys, *plan(code, "--run-arg=-v", "--run-arg=./loop:/data"))
    assert "./loop is a symlink loop" in message
