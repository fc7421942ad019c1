"""``booth`` with no command: CodingBooth's own command line, for users who type
``coding-booth -p 5000:5000`` (or nothing at all) in their project folder.

CodingBooth 0.13 (``booth/init/initialize_app_context.go`` ``parseArgs``) takes its flags
anywhere, treats every word it does not know as a ``docker run`` argument, and words after
``--`` as the booth's command. booth does the same and maps each flag onto a config key
(the command line wins over ``.booth/config.toml``, which wins over the ``CB_*``
variables), then runs the session as CodingBooth does (the command in a login shell,
stdin passed): ``booth run``, or ``booth apply`` with ``--daemon`` (or ``daemon = true``),
or, with ``--dryrun``, the docker commands of it all.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import attrs

from reconciler.config.codingbooth_env import parse_bool
from reconciler.errors import ConfigError

# booth's own global options, which may come before a command (and their value counts):
# those of ``cli.build_parser`` (a test keeps the two equal).
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

# Flags about this invocation, not the booth. (`-v` is not one: CodingBooth passes it to
# docker run, where it is a volume; `booth -v plan` still means booth's own -v.)
MODE_FLAGS = {
    "--verbose": "verbose",
    "--quiet": "quiet",
    "-q": "quiet",
    "--dryrun": "dryrun",
}
# Paths CodingBooth resolves against the working directory, as every CLI does (the
# config file's keys are relative to the code directory instead).
CWD_RELATIVE = ("--dockerfile", "--env-file")
# Flags whose value may be attached with `=` (`--port=31705`), besides VALUE_FLAGS.
OTHER_VALUE_FLAGS = (
    "--code",
    "--build-arg",
    *(o for o, values in GLOBAL_OPTIONS.items() if values),
)


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
        """``--pull`` was given (``pull = true`` for this run; a ``--dryrun`` pulls nothing,
        as CodingBooth's)."""
        return ("pull", True) in self.overrides


def global_options_end(words: Sequence[str], options: Mapping[str, int] = GLOBAL_OPTIONS) -> int:
    """The index of the first word after booth's global options (and their values)."""
    index = 0
    while index < len(words):
        word = words[index]
        name = word.partition("=")[0]
        if name not in options:
            return index
        index += 1 + (options[name] if "=" not in word else 0)
    return len(words)


def first_word(words: Sequence[str]) -> str | None:
    """The first word after booth's global options (None: there is none)."""
    index = global_options_end(words)
    return words[index] if index < len(words) else None


def is_session(words: Sequence[str], commands: Sequence[str]) -> bool:
    """Whether ``words`` name no booth command (after booth's global options).

    ``--version`` alone prints booth's version; followed by a value it is CodingBooth's
    image version, as ``--version 0.12.0`` is there."""
    index = global_options_end(words)
    if index == len(words):
        return True
    if words[index] == "--version":
        return index + 1 < len(words)
    return words[index] not in commands and words[index] not in ("-h", "--help")


def parse(words: Sequence[str]) -> SessionArgs:
    values: dict[str, object] = {}
    found: dict[str, object] = {"run_args": [], "build_args": []}
    index = 0
    while index < len(words):
        word = words[index]
        if word == "--":
            found["cmds"] = tuple(words[index + 1 :])
            break
        name, equals, attached = word.partition("=")
        if equals and (name in VALUE_FLAGS or name in OTHER_VALUE_FLAGS):
            # `--port=31705`: the value attached, as every GNU-style CLI takes it.
            _take(name, [name, attached], 0, values, found)
            index += 1
            continue
        if equals and name in SWITCHES:
            values[SWITCHES[name]] = _switch(name, attached)
            index += 1
            continue
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
        if word in CWD_RELATIVE and value != "-" and not value.startswith("~"):
            value = os.path.abspath(value)  # `~…` is expanded (or refused) with the key
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


def _switch(flag: str, text: str) -> bool:
    """``--dind=false``: a switch with its value attached (Go's ParseBool spellings)."""
    value = parse_bool(text)
    if value is None:
        raise ConfigError(f"command line {flag}={text}: expected true or false")
    return value


def _optional_str(value: object) -> str | None:
    return value if isinstance(value, str) else None
