"""What a person sees: sentences instead of log events, colour only on a terminal.

The colour tests run booth under a real pseudo-terminal (``pty``), as a person's shell
does, and next to it with ``NO_COLOR``, ``FORCE_COLOR`` and a pipe.
"""

from __future__ import annotations

import ast
import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.ui import colour, sentences

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = str(REPO / "examples" / "dind-example")
ESC = "\033["
# A raw structlog line: `[warning  ] config.warning detail=...` or `event key=value`.
RAW_EVENT = ("[info", "[warning", "config.warning", "session.ended", "detail=")


def _call_sites() -> dict[str, set[str]]:
    """Event name → the keyword names its ``log.info``/``log.warning`` calls pass."""
    sites: dict[str, set[str]] = {}
    for path in (REPO / "reconciler").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("info", "warning")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                keywords = {k.arg for k in node.keywords if k.arg}
                sites.setdefault(node.args[0].value, set()).update(keywords)
    return sites


def test_every_info_and_warning_event_has_a_sentence() -> None:
    events = set(_call_sites())
    assert "session.ended" in events and "config.warning" in events  # the scan works
    assert sorted(events - set(sentences.SENTENCES)) == []


def test_every_sentence_can_be_said_with_what_its_call_sites_pass() -> None:
    """A keyword renamed at a call site would otherwise fail only when the event fires."""
    numbers = {"signal": 15, "removed": 2}
    for event, keywords in _call_sites().items():
        values = {k: numbers.get(k, f"<{k}>") for k in keywords}
        said = sentences.sentence(event, values)
        assert said and "=" not in said and event not in said, (event, said)


def test_sentences_read_as_sentences() -> None:
    say = sentences.sentence
    assert say("session.ended", {"removed": 3}) == (
        "Session ended; removed its 3 objects (a data volume stays)."
    )
    assert say("interrupt.received", {"signal": 2, "detail": "x"}) == (
        "SIGINT received: stopping after the current step (press Ctrl-C again to stop at once)."
    )
    assert "send SIGTERM again" in say("interrupt.received", {"signal": 15})
    assert say("config.warning", {"detail": "f.toml: key 'x' ignored"}) == "f.toml: key 'x' ignored"
    assert say("no.such.event", {"detail": "said plainly"}) == "said plainly"


def _booth(
    code_dir: Path, *argv: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reconciler", "-C", str(code_dir), *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def warned_dir(tmp_path: Path) -> Path:
    (tmp_path / ".booth").mkdir()
    (tmp_path / ".booth" / "config.toml").write_text(
        'code = "/elsewhere"\nimage = "busybox"\ncmds = ["$BOOTH_UNIT_UNSET_VAR"]\n',
        encoding="utf-8",
    )
    return tmp_path


def test_config_warnings_are_sentences_on_stderr_when_piped(warned_dir: Path) -> None:
    proc = _booth(warned_dir, "plan", "--offline")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert lines == [
        f"booth: warning: {warned_dir}/.booth/config.toml: key 'code' is accepted but "
        "ignored by booth",
        f"booth: warning: {warned_dir}/.booth/config.toml:3: cmds: $BOOTH_UNIT_UNSET_VAR is "
        "not set (expanded to nothing)",
    ]
    assert not any(raw in proc.stderr for raw in RAW_EVENT)
    assert ESC not in proc.stderr + proc.stdout


def test_verbose_and_json_keep_the_structured_events(warned_dir: Path) -> None:
    verbose = _booth(warned_dir, "-v", "plan", "--offline")
    assert "config.warning" in verbose.stderr and "booth: warning:" not in verbose.stderr
    machine = _booth(warned_dir, "--log-format", "json", "plan", "--offline")
    events = [json.loads(line) for line in machine.stderr.splitlines()]
    assert [e["event"] for e in events] == ["config.warning", "config.warning"]
    quiet = _booth(warned_dir, "-q", "plan", "--offline")
    assert quiet.stderr.count("booth: warning: ") == 2


# --- colour -----------------------------------------------------------------------------


def _on_a_terminal(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run ``booth argv`` with stdout and stderr on a pseudo-terminal; (exit, output)."""
    controller, child = pty.openpty()
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler", *argv],
        stdin=subprocess.DEVNULL,
        stdout=child,
        stderr=child,
        env={**environment, "TERM": "xterm", **env},
    )
    os.close(child)
    chunks = []
    while True:
        ready, _, _ = select.select([controller], [], [], 30)
        if not ready:
            break
        try:
            data = os.read(controller, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not data:
            break
        chunks.append(data)
    os.close(controller)
    return proc.wait(timeout=30), b"".join(chunks).decode().replace("\r\n", "\n")


def test_a_plan_on_a_terminal_has_terraforms_colours() -> None:
    code, out = _on_a_terminal(["-C", EXAMPLE, "plan", "--offline"], {})
    assert code == 0, out
    assert f"  {ESC}32m+{ESC}0m image " in out  # create: green
    assert f"{ESC}1mPlan:{ESC}0m 5 to create" in out


def test_no_color_and_a_pipe_give_the_plain_bytes() -> None:
    plain = _booth(Path(EXAMPLE), "plan", "--offline").stdout
    code, out = _on_a_terminal(["-C", EXAMPLE, "plan", "--offline"], {"NO_COLOR": "1"})
    assert code == 0 and ESC not in out
    assert out == plain
    forced = _booth(Path(EXAMPLE), "plan", "--offline", env={"FORCE_COLOR": "1"}).stdout
    assert f"{ESC}32m" in forced


def test_errors_are_red_and_warnings_yellow_on_a_terminal(tmp_path: Path) -> None:
    code, out = _on_a_terminal(["-C", str(tmp_path / "missing"), "plan"], {})
    assert code == 1 and out.startswith(f"booth: {ESC}31;1merror:{ESC}0m "), out
    (tmp_path / ".booth").mkdir()
    (tmp_path / ".booth" / "config.toml").write_text('config = "x"\nimage = "x"\n')
    code, out = _on_a_terminal(["-C", str(tmp_path), "plan", "--offline"], {})
    assert f"booth: {ESC}33mwarning:{ESC}0m " in out
    code, out = _on_a_terminal(["-C", str(tmp_path), "plan", "--offline"], {"NO_COLOR": "1"})
    assert "booth: warning: " in out and ESC not in out


def test_colour_follows_the_stream_and_the_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty:
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert colour.enabled(Tty())  # type: ignore[arg-type]
    assert not colour.enabled(sys.stdout) or sys.stdout.isatty()
    monkeypatch.setenv("TERM", "dumb")
    assert not colour.enabled(Tty())  # type: ignore[arg-type]
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert colour.enabled(Tty())  # type: ignore[arg-type]
    monkeypatch.setenv("NO_COLOR", "1")
    assert not colour.enabled(Tty())  # type: ignore[arg-type]
    monkeypatch.setenv("NO_COLOR", "")  # empty: as if unset
    assert colour.enabled(Tty())  # type: ignore[arg-type]
    assert colour.paint("x", colour.RED, on=False) == "x"
    assert colour.paint("", colour.RED) == ""


def test_coloured_plans_are_the_golden_plans_with_escapes_added() -> None:
    import re

    from test_render_golden import TEXT_CASES

    from reconciler.render.plans import plan_text

    for name, case in TEXT_CASES.items():
        coloured = plan_text(case(), coloured=True)
        assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plan_text(case()), name
        assert ESC in coloured, name


@pytest.mark.parametrize(
    ("command", "takes"),
    [("plan", True), ("apply", True), ("run", True), ("exec", True), ("destroy", False)],
)
def test_help_shows_the_command_after_double_dash(command: str, takes: bool) -> None:
    proc = _booth(Path(EXAMPLE), command, "--help")
    assert proc.returncode == 0, proc.stderr
    usage = proc.stdout.split("\n\n", 1)[0]
    assert usage.startswith(f"usage: booth {command} ")
    assert usage.endswith(" [-- CMD...]") == takes, usage
