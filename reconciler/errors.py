"""One exception hierarchy for everything a user can cause or meet.

``cli/main.py`` turns a :class:`BoothError` into one line on stderr and an exit code;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

# Exit codes, in one place: 2 means "changes pending" (plan --detailed-exitcode), so a
# usage error is 1 like every other error.
EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_INTERRUPTED = 0, 1, 2, 130


def one_line(err: BaseException, limit: int = 300) -> str:
    """The first line of a foreign error (an SDK ``explanation`` when there is one),
    cut to ``limit`` characters, for use inside a :class:`BoothError` message."""
    explanation = getattr(err, "explanation", None)
    text = str(explanation or err).strip().splitlines()
    line = text[0] if text else type(err).__name__
    return line if len(line) < limit else line[: limit - 3] + "..."


# Control characters (C0, DEL, C1) and the separators str.splitlines() breaks on: shown
# escaped, so a message or a plan line stays one line and cannot move a terminal's cursor.
_CONTROL = {
    **{c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))},
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def shown(text: str) -> str:
    """``text`` with its control characters escaped (``\\x1b``), for messages and plans."""
    return text.translate(_CONTROL)


class BoothError(Exception):
    """Base class: ``str(err)`` is the one-line message shown to the user."""

    exit_code = EXIT_ERROR


class ConfigError(BoothError):
    """The config file or the command line is not what we expect."""


class PortError(ConfigError):
    """A port spec is malformed, or two specs conflict."""


class RunArgError(ConfigError):
    """A run-arg cannot be used (unknown flag, missing value, not possible with DinD)."""


def fail(where: str, why: str) -> RunArgError:
    """A run-arg's error: the flag as written (and its source), then what is wrong."""
    return RunArgError(f"{where}: {why}")


class ForeignObjectError(BoothError):
    """An object with one of our names exists but was not created by booth."""


class InstanceTakenError(BoothError):
    """The instance's name is taken: by a booth of another code directory, or by a booth
    another session is running (never replaced silently)."""


class DockerUnavailableError(BoothError):
    """The Docker engine cannot be reached."""


class EngineError(BoothError):
    """An engine call failed; the message is the engine's own, on one line.

    Raised only by the engine layer, so nothing above it handles SDK exceptions.
    """


class EngineNotFound(EngineError):
    """The object an engine call named does not exist (HTTP 404)."""


class EngineConflict(EngineError):
    """The object already exists (HTTP 409), e.g. created meanwhile by another run."""


class ImageUnavailableError(BoothError):
    """An image is neither present locally nor pullable."""


class ExecutionError(BoothError):
    """A plan step failed against the engine."""


class BuildError(ExecutionError):
    """Building the booth's image failed; the message ends with the build's last lines."""


class NotReadyError(ExecutionError):
    """The inner daemon did not become ready (sidecar exited or timed out)."""


class LockedError(BoothError):
    """Another booth process holds the instance lock."""


class RunInterrupted(BoothError):
    """The user interrupted a run (SIGINT/SIGTERM); the next apply converges."""

    exit_code = EXIT_INTERRUPTED
