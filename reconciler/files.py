"""Paths the user names and the config file behind them: found, read, decoded, parsed.

Every way a path or file can be unusable is a :class:`ConfigError` naming it: a NUL byte,
``~nosuchuser``, a dangling or looping symlink, something that is not a file, a file too
big, not UTF-8, a byte-order mark, malformed or too deeply nested TOML. A config that
exists but cannot be read is never mistaken for a missing one.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import stat
import tomllib
from pathlib import Path
from typing import Any

from reconciler.errors import ConfigError

# A real config is a few hundred bytes; parsing 10 MB of TOML takes seconds. Refusing
# bigger files keeps every run fast and says why.
MAX_CONFIG_BYTES = 1024 * 1024
_BOM = b"\xef\xbb\xbf"


def user_path(text: str, what: str) -> Path:
    """``text`` as a path, ``~`` and ``~user`` expanded; ``what`` names it in errors."""
    if "\0" in text:
        raise ConfigError(f"{what}: a path cannot contain a NUL byte")
    if not text.startswith("~"):
        return Path(text)
    try:
        return Path(text).expanduser()
    except RuntimeError:
        user = text[1:].partition("/")[0]
        who = f"user {user!r}" if user else "the current user"
        raise ConfigError(
            f"{what}: cannot expand {text.partition('/')[0]!r}: no home for {who}"
        ) from None


def read_config(path: Path, what: str, *, required: bool) -> str | None:
    """The config's text; ``None`` when it is absent and not ``required``.

    The default ``.booth/config.toml`` must be a regular file; a file named with
    ``--config`` may also be a pipe (``--config <(…)``).
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            raise ConfigError(f"{what}: a dangling symlink (to {os.readlink(path)})") from None
        if required:
            raise ConfigError(f"{what}: no such file") from None
        return None
    except OSError as err:
        raise ConfigError(f"{what}: cannot read: {_reason(err)}") from None
    if stat.S_ISDIR(info.st_mode) or not (required or stat.S_ISREG(info.st_mode)):
        raise ConfigError(f"{what}: not a regular file ({_kind(info.st_mode)})")
    if info.st_size > MAX_CONFIG_BYTES:
        raise ConfigError(f"{what}: {info.st_size} bytes, more than the {_limit()} a config may be")
    return _decode(_read_bytes(path, what), what)


def existing_file(path: Path, what: str) -> Path | None:
    """``path`` when it is a regular file (through symlinks), None when nothing is there;
    anything else in its place (a dangling or looping symlink, a directory, a FIFO, a
    device) is an error, as it is for the config: never silently "no file"."""
    try:
        info = path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            raise ConfigError(f"{what}: a dangling symlink (to {os.readlink(path)})") from None
        return None
    except OSError as err:
        raise ConfigError(f"{what}: cannot read: {_reason(err)}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"{what}: not a regular file ({_kind(info.st_mode)})")
    return path


def read_small_text(path: Path, what: str) -> str:
    """A regular UTF-8 file of at most MAX_CONFIG_BYTES (an ``--env-file``): a FIFO would
    block forever and ``/dev/zero`` never end, so neither is read."""
    if existing_file(path, what) is None:
        raise ConfigError(f"{what}: no such file")
    return _decode(_read_bytes(path, what), what, bom=True)  # the CLI's kvfile skips one


def _read_bytes(path: Path, what: str) -> bytes:
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_CONFIG_BYTES + 1)
    except OSError as err:
        raise ConfigError(f"{what}: cannot read: {_reason(err)}") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{what}: more than the {_limit()} a config may be")
    return data


def _decode(data: bytes, what: str, *, bom: bool = False) -> str:
    if data.startswith(_BOM) and not bom:
        raise ConfigError(
            f"{what}: starts with a UTF-8 byte-order mark (BOM), which TOML does not allow; "
            "save the file as UTF-8 without BOM"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise ConfigError(
            f"{what}:{line}: not UTF-8 (byte 0x{data[err.start]:02x} at offset {err.start})"
        ) from None


def parse_toml(text: str, what: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{what}: malformed TOML: {err}") from None
    except RecursionError:
        raise ConfigError(f"{what}: malformed TOML: arrays or tables nested too deeply") from None


def toml_text(value: Any, limit: int = 60) -> str:
    """A TOML value as TOML would write it (for messages), cut to ``limit`` characters."""
    shown = _toml(value, depth=0)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def _toml(value: Any, depth: int) -> str:
    if depth > 3:
        return "..."
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item, depth + 1) for item in value[:10]) + "]"
    if isinstance(value, dict):
        items = list(value.items())[:10]
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml(v, depth + 1)}" for k, v in items) + "}"
    return str(value)  # int, float


# Characters str.splitlines() breaks on that JSON leaves as they are: a message shows
# them escaped, so it stays one line whatever the value holds.
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def _toml_string(text: str) -> str:
    quoted = json.dumps(text, ensure_ascii=False)  # JSON's escapes are TOML's
    return quoted.translate(_LINE_BREAKS)


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_string(key)


def _reason(err: OSError) -> str:
    return err.strerror or type(err).__name__


def _kind(mode: int) -> str:
    kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"))
    return next((name for test, name in kinds if test(mode)), "a device")


def _limit() -> str:
    return f"{MAX_CONFIG_BYTES // (1024 * 1024)} MiB"


def code_directory(text: str) -> Path:
    """``-C DIR``: an existing directory, resolved."""
    what = f"-C {text}"
    path = user_path(text, what)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ConfigError(f"{what}: no such directory") from None
    except OSError as err:
        raise ConfigError(f"{what}: cannot use {path}: {_reason(err)}") from None
    if not stat.S_ISDIR(info.st_mode):
        raise ConfigError(f"{what}: not a directory")
    resolved = path.resolve()
    if ":" in str(resolved):
        # The booth's code mount is a ``HostConfig.Binds`` entry, which splits on ':'.
        raise ConfigError(
            f"{what}: {resolved} contains ':', which a Docker bind mount cannot carry; "
            "move or rename the directory"
        )
    return resolved


def config_location(code: Path, config_file: str | None) -> tuple[Path, str]:
    """The config's path and how errors name it (the flag when one was given)."""
    if config_file is None:
        path = code / ".booth" / "config.toml"
        return path, str(path)
    return user_path(config_file, f"--config {config_file}"), f"--config {config_file}"


__all__ = [
    "MAX_CONFIG_BYTES",
    "code_directory",
    "config_location",
    "existing_file",
    "parse_toml",
    "read_config",
    "read_small_text",
    "toml_text",
    "user_path",
]
