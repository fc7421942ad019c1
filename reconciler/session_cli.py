"""``booth`` with no command: CodingBooth's own command line, for users who type
``coding-booth -p 5000:5000`` (or nothing at all) in their project folder.

CodingBooth 0.13 (``booth/init/initialize_app_context.go`` ``parseArgs``) takes its flags
anywhere, treats every word it does not know as a ``docker run`` argument, and words after
``--`` as the booth's command. booth does the same and maps each flag onto a config key
(the command line wins over ``.booth/config.toml``), then runs the session: ``booth run``,
or ``booth apply`` with ``--daemon`` (or ``daemon = true``), or ``booth plan`` with
``--dryrun``.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from reconciler.errors import ConfigError

# booth's own global options, which may come before a command (and their value counts).
GLOBAL_OPTIONS = {"-C": 1, "--config": 1, "--log-format": 1, "-v": 0, "--verbose": 0, "-q": 0}
GLOBAL_OPTIONS |= {"--quiet": 0, "--context": 1}

# CodingBooth flag → config key, for flags that take a value.
VALUE_FLAGS = {
    "--variant": "variant",
    "--image": "image",
    "--version": "version",
    "--dockerfile": "dockerfile",
    "--name": "name",
    "--port": "port",
    "--env-file": "env-file",
    "--startup": "startup",
}
# CodingBooth flag → config key set to true.
SWITCHES = {
    "--dind": "dind",
    "--daemon": "daemon",
    "--keep-alive": "keep-alive",
    "--silence-build": "silence-build",
    "--pull": "pull",
}

# Flags about this invocation, not the booth.
MODE_FLAGS = {
    "--verbose": "verbose",
    "-v": "verbose",
    "--quiet": "quiet",
    "-q": "quiet",
    "--dryrun": "dryrun",
}


@attrs.frozen
class SessionArgs:
    """A CodingBooth-style command line, read."""

    code_dir: str = "."
    config_file: str | None = None
    overrides: tuple[tuple[str, object], ...] = ()
    run_args: tuple[str, ...] = ()
    build_args: tuple[str, ...] = ()
    cmds: tuple[str, ...] | None = None
    verbose: bool = False
    quiet: bool = False
    log_format: str = "auto"
    context: str | None = None
    dryrun: bool = False

    @property
    def pull(self) -> bool:
        """``--pull`` was given (``pull = true`` for this run; with ``--dryrun``, the plan
        pulls first)."""
        return ("pull", True) in self.overrides


def is_session(words: Sequence[str], commands: Sequence[str]) -> bool:
    """Whether ``words`` name no booth command (after booth's global options)."""
    index = 0
    while index < len(words):
        word = words[index]
        name = word.partition("=")[0]
        if name in GLOBAL_OPTIONS:
            index += 1 + (GLOBAL_OPTIONS[name] if "=" not in word else 0)
            continue
        return word not in commands and word not in ("-h", "--help", "--version")
    return True


def parse(words: Sequence[str]) -> SessionArgs:
    values: dict[str, object] = {}
    found: dict[str, object] = {"run_args": [], "build_args": []}
    index = 0
    while index < len(words):
        word = words[index]
        if word == "--":
            found["cmds"] = tuple(words[index + 1 :])
            break
        step = _take(word, words, index, values, found)
        index += step
    run_args = found["run_args"]
    build_args = found["build_args"]
    assert isinstance(run_args, list) and isinstance(build_args, list)
    return SessionArgs(
        code_dir=str(found.get("code", ".")),
        config_file=_optional_str(found.get("config")),
        overrides=tuple(values.items()),
        run_args=tuple(run_args),
        build_args=tuple(build_args),
        cmds=found.get("cmds"),  # type: ignore[arg-type]
        verbose=bool(found.get("verbose")),
        quiet=bool(found.get("quiet")),
        log_format=str(found.get("log_format", "auto")),
        context=_optional_str(found.get("context")),
        dryrun=bool(found.get("dryrun")),
    )


def _take(
    word: str,
    words: Sequence[str],
    index: int,
    values: dict[str, object],
    found: dict[str, object],
) -> int:
    """Read the flag at ``index``; how many words it used."""
    if word in SWITCHES:
        values[SWITCHES[word]] = True
        return 1
    if word in MODE_FLAGS:
        found[MODE_FLAGS[word]] = True
        return 1
    if word in ("--log-format", "--context"):
        found[word[2:].replace("-", "_")] = _value(words, index)
        return 2
    if word in VALUE_FLAGS or word in ("--code", "-C", "--config", "--build-arg"):
        value = _value(words, index)
        if word in VALUE_FLAGS:
            values[VALUE_FLAGS[word]] = value
        elif word == "--build-arg":
            build_args = found["build_args"]
            assert isinstance(build_args, list)
            build_args += ["--build-arg", value]
        else:
            found["code" if word in ("--code", "-C") else "config"] = value
        return 2
    run_args = found["run_args"]
    assert isinstance(run_args, list)
    run_args.append(word)  # CodingBooth: every other word is a docker run argument
    return 1


def _value(words: Sequence[str], index: int) -> str:
    # CodingBooth's needValue: the next word, and not an empty one.
    if index + 1 >= len(words) or words[index + 1] == "":
        raise ConfigError(f"command line {words[index]} requires a value")
    return words[index + 1]


def _optional_str(value: object) -> str | None:
    return value if isinstance(value, str) else None
