"""Fuzzing the config boundary: valid TOML full of hostile values, and hostile files.

The config text is written by a TOML writer (tomli-w), so every generated file *parses*
and the values reach booth's own validation: NUL and other control characters, ``~user``
paths, nested arrays and tables where strings are expected, huge numbers, dates, inf
and nan. Around it, the code directory holds files a config may name: non-UTF-8 and NUL
bytes, a directory where a file is expected, symlinks (to a file, dangling, to itself),
and an unreadable file (readable anyway when the tests run as root).

The promise checked for every input: ``main`` returns 0 or 1, and on 1 stderr is exactly
one line starting with ``booth: error: `` and no traceback. Anything else escaping
``main`` fails the test: it is a bug.
"""

from __future__ import annotations

import math
import os
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.cli.main import main
from reconciler.config.booth_config import IGNORED_KEYS, KNOWN_KEYS

# -- the code directory's hostile files -------------------------------------------------

ENV_FILES = {
    "plain.env": b"A=1\nB\n",
    "latin1.env": b"A=caf\xe9\n",  # not UTF-8
    "nul.env": b"A=x\x00y\n",
    "bom.env": b"\xef\xbb\xbfA=1\n",
    "crlf.env": b"A=1\r\nB=2\r\n",
}
CONFIG_KINDS = (
    "regular",
    "symlink",  # .booth/config.toml → ../real.toml
    "dangling",  # a symlink to nothing
    "loop",  # a symlink to itself
    "directory",  # .booth/config.toml is a directory
    "non-utf8",  # valid TOML with a non-UTF-8 byte in a comment
    "nul-byte",  # a raw NUL in the file (TOML forbids it outside strings too)
    "unreadable",  # mode 000 (still readable as root)
)


def lay_out(code: Path, config_text: str, kind: str) -> None:
    """The code directory: hostile env files, links, and the config file as ``kind``."""
    for name, content in ENV_FILES.items():
        (code / name).write_bytes(content)
    (code / "dir.env").mkdir()
    (code / "link.env").symlink_to("plain.env")
    (code / "dangling.env").symlink_to("no-such-file")
    (code / "loop.env").symlink_to("loop.env")
    (code / "locked.env").write_bytes(b"A=1\n")
    (code / "locked.env").chmod(0)
    booth = code / ".booth"
    booth.mkdir()
    target = booth / "config.toml"
    data = config_text.encode()
    if kind == "symlink":
        (code / "real.toml").write_bytes(data)
        target.symlink_to("../real.toml")
    elif kind == "dangling":
        target.symlink_to("../missing.toml")
    elif kind == "loop":
        target.symlink_to("config.toml")
    elif kind == "directory":
        target.mkdir()
    elif kind == "non-utf8":
        target.write_bytes(b"# \xff\xfe not UTF-8\n" + data)
    elif kind == "nul-byte":
        target.write_bytes(data + b"\n\x00\n")
    else:
        target.write_bytes(data)
        if kind == "unreadable":
            target.chmod(0)


# -- hostile values ---------------------------------------------------------------------

PATHS = st.sampled_from(
    [
        "~nosuchuser",
        "~nosuchuser/x",
        "~",
        "~/x",
        "~root",
        "./plain.env",
        "plain.env",
        "latin1.env",
        "nul.env",
        "bom.env",
        "crlf.env",
        "dir.env",
        "link.env",
        "dangling.env",
        "loop.env",
        "locked.env",
        "../../../../etc/passwd",
        "/",
        "",
        "/dev/null",
        "a\x00b",
    ]
)
HOSTILE_TEXT = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["\x00", "\n", "\r\n", "\t", "\u202e", "\ufeff", "\x7f", "a" * 5000, "=", ":"]),
    PATHS,
)
FLAGS_TAKING_PATHS = st.sampled_from(["--env-file", "-v", "--volume", "--device", "-w", "--tmpfs"])
BIND_OPTIONS = st.sampled_from(["", ":ro", ":\x00", ":z,ro"])
FLAG_WORDS = st.sampled_from(
    ["-e", "-p", "--mount", "--label", "-u", "--entrypoint", "-m", "--cpus", "-h", "--add-host"]
)


@st.composite
def run_arg_words(draw: st.DrawFn) -> list[str]:
    words: list[str] = []
    for _ in range(draw(st.integers(0, 4))):
        choice = draw(st.integers(0, 3))
        if choice == 0:
            words += [draw(FLAGS_TAKING_PATHS), draw(PATHS)]
        elif choice == 1:
            path = draw(PATHS)
            words += ["-v", f"{path}:/in{draw(BIND_OPTIONS)}"]
        elif choice == 2:
            words += [draw(FLAG_WORDS), draw(HOSTILE_TEXT)]
        else:
            words.append(draw(HOSTILE_TEXT))
    return words


SCALARS = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),  # nan and ±inf included: tomli-w writes them as TOML's nan and inf
    st.datetimes(),
    st.dates(),
    st.times(),
    HOSTILE_TEXT,
)
KEYS = st.one_of(st.sampled_from(KNOWN_KEYS + IGNORED_KEYS), st.text(max_size=10))
NESTED = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(KEYS, children, max_size=3)
    ),
    max_leaves=8,
)
KNOWN_VALUES: dict[str, Any] = {
    "run-args": st.one_of(run_arg_words(), HOSTILE_TEXT, NESTED),
    "cmds": st.one_of(st.lists(HOSTILE_TEXT, max_size=3), NESTED),
    "name": HOSTILE_TEXT,
    "project-name": HOSTILE_TEXT,
    "image": HOSTILE_TEXT,
    "dind-image": HOSTILE_TEXT,
    "host-ip": st.one_of(HOSTILE_TEXT, st.sampled_from(["::1", "0.0.0.0", "", "1.2.3.4\x00"])),
    "port": st.one_of(st.integers(-5, 70000), NESTED),
    "ready-timeout": st.one_of(st.floats(), NESTED),
    "dind": st.one_of(st.booleans(), NESTED),
    "variant": st.one_of(st.sampled_from(["base", "desktop", "kde", "nope"]), HOSTILE_TEXT),
}


@st.composite
def config_tables(draw: st.DrawFn) -> dict[str, Any]:
    table: dict[str, Any] = {}
    for key in draw(st.lists(st.sampled_from(sorted(KNOWN_VALUES)), max_size=5, unique=True)):
        table[key] = draw(KNOWN_VALUES[key])
    table.update(draw(st.dictionaries(KEYS, NESTED, max_size=2)))
    return table


def toml_text(table: dict[str, Any]) -> str:
    """tomli-w's text, which tomllib must read back to the same table (nan aside)."""
    return tomli_w.dumps(table)


# -- the promise ------------------------------------------------------------------------


def assert_one_line_promise(code: int, out: str, err: str) -> None:
    assert code in (0, 1), (code, err)
    assert "Traceback" not in err
    if code == 1:
        lines = err.splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith("booth: error: "), err
        assert out == ""


COMMANDS = st.sampled_from(
    [["plan", "--offline"], ["plan", "--offline", "--json"], ["render", "kubernetes"]]
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    table=config_tables(),
    kind=st.sampled_from(CONFIG_KINDS),
    cli_run_args=run_arg_words(),
    publish=st.lists(HOSTILE_TEXT, max_size=2),
    command=COMMANDS,
    code_arg=st.sampled_from(["code", "~", "code/plain.env", "code/missing", "~nosuchuser/x"]),
    config_arg=st.one_of(st.none(), PATHS),
)
def test_hostile_config_gives_a_plan_or_one_line_error(
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
    table: dict[str, Any],
    kind: str,
    cli_run_args: list[str],
    publish: list[str],
    command: list[str],
    code_arg: str,
    config_arg: str | None,
) -> None:
    root = tmp_path_factory.mktemp("fuzz")
    code = root / "code"
    code.mkdir()
    lay_out(code, toml_text(table), kind)
    directory = str(root / code_arg) if code_arg.startswith("code") else code_arg
    argv = ["-C", directory, "--log-format", "json", "-q"]
    if config_arg is not None:
        argv += [
            "--config",
            config_arg if config_arg.startswith(("~", "/")) else str(code / config_arg),
        ]
    argv += command
    if command[0] == "plan":
        argv += [f"--publish={spec}" for spec in publish]
    argv += [f"--run-arg={word}" for word in cli_run_args]
    assert_one_line_promise(main(argv), *capsys.readouterr())


@given(table=config_tables())
def test_the_writer_gives_toml_booth_reads_back(table: dict[str, Any]) -> None:
    """The strategies produce valid TOML, so the values (not the syntax) are what is fuzzed."""
    read = tomllib.loads(toml_text(table))
    assert _without_nan(read) == _without_nan(table)


def _without_nan(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if isinstance(value, list):
        return [_without_nan(item) for item in value]
    if isinstance(value, dict):
        return {key: _without_nan(item) for key, item in value.items()}
    return value


# What each kind of config file gives. A dangling or looping symlink is a config that
# exists but cannot be read: an error, never a plan with the defaults.
EXIT_BY_KIND = {
    "regular": 0,
    "symlink": 0,
    "dangling": 1,
    "loop": 1,
    "directory": 1,
    "non-utf8": 1,
    "nul-byte": 1,
    "unreadable": 0 if os.geteuid() == 0 else 1,
}


@pytest.mark.parametrize("kind", CONFIG_KINDS)
def test_each_config_file_kind_keeps_the_promise(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    """Every kind of config file once, with a config that is otherwise valid."""
    lay_out(tmp_path, toml_text({"name": "fuzzed", "run-args": ["--env-file", "link.env"]}), kind)
    code = main(["-C", str(tmp_path), "-q", "plan", "--offline"])
    out, err = capsys.readouterr()
    assert_one_line_promise(code, out, err)
    assert code == EXIT_BY_KIND[kind], err
    if code == 0:
        read = kind in ("regular", "symlink", "unreadable")
        assert ("instance fuzzed:" in out) is read, out


@pytest.mark.parametrize(
    "name", sorted([*ENV_FILES, "dir.env", "link.env", "dangling.env", "loop.env"])
)
def test_each_env_file_kind_keeps_the_promise(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    lay_out(tmp_path, toml_text({"run-args": ["--env-file", name]}), "regular")
    code = main(["-C", str(tmp_path), "-q", "plan", "--offline"])
    out, err = capsys.readouterr()
    assert_one_line_promise(code, out, err)
    # nul.env is read, and refused: the engine would take A=x\0y at create and fail at start
    readable = name in ("plain.env", "bom.env", "crlf.env", "link.env")
    assert code == (0 if readable else 1), err


@pytest.mark.parametrize("option", ["-C", "--config"])
def test_unknown_user_in_a_path_option_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str], option: str
) -> None:
    code = main([option, "~nosuchuser/x", "-q", "plan", "--offline"])
    assert_one_line_promise(code, *capsys.readouterr())
    assert code == 1
