"""The config's table: ``.booth/config.toml`` (or ``--config``, or ``CB_CONFIG``) over
CodingBooth's ``CB_*`` variables, read ONCE per process into a :class:`ConfigDocument`;
and the partial read of how ``booth`` with no command runs (:func:`read_run_mode`).

Why once: everything a run learns from the config (the instance it names, the run mode,
the build context to begin hashing early, the full validated config) must describe the
same file. Two reads can see two files (an editor saving in between; commit 1a89c88
fixed a bug of exactly this kind), and ``--config <(…)`` can be read only once at all.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from reconciler.config.codingbooth_env import config_from_env, settings_from_env
from reconciler.config.reader import KeyReader
from reconciler.errors import ConfigError
from reconciler.files import code_directory, config_location, parse_toml, read_config


@attrs.frozen
class ConfigDocument:
    """The config as read: the file's table over the ``CB_*`` variables' (CodingBooth's
    precedence), before anything is validated. A value: every reader of the config takes
    one, so a process reads its config file once (:class:`ConfigSource`)."""

    code: Path  # the code directory, resolved
    where: str  # the config file's path (whether or not there is a file)
    text: str  # the file's text; "" without one
    raw: Mapping[str, Any]  # the table: the file's keys over the environment's
    from_env: Mapping[str, str]  # key → the CB_* variable it came from

    @property
    def file(self) -> str | None:
        """Where a config was read from (None: no file, or an empty one)."""
        return self.where if self.text else None

    def reader(self, overrides: Mapping[str, object] | None = None) -> KeyReader:
        """Typed access to the table, the command line's keys (``overrides``) over it; a
        reader of its own, so the document itself never changes."""
        given = dict(overrides or {})
        from_env = {k: v for k, v in self.from_env.items() if k not in given}
        return KeyReader({**self.raw, **given}, self.text, self.where, frozenset(given), from_env)


def read_document(
    code_dir: str, config_file: str | None, env: Mapping[str, str] | None = None
) -> ConfigDocument:
    """Find, read and parse the config (``env``: the process's environment by default)."""
    env = os.environ if env is None else env
    code = code_directory(code_dir)
    path, what = config_location(code, config_file)
    text = read_config(path, what, required=config_file is not None)
    named = config_from_env(env)
    if text is None and config_file is None and named is not None:
        # CB_CONFIG names the file only where neither --config nor the default does.
        path, _ = config_location(code, named)
        what = f"environment CB_CONFIG={named}"
        text = read_config(path, what, required=True)
    raw = parse_toml(text, what) if text is not None else {}
    from_env, sources = settings_from_env(env)
    sources = {k: v for k, v in sources.items() if k not in raw}
    return ConfigDocument(code, str(path), text or "", {**from_env, **raw}, sources)


@attrs.define
class ConfigSource:
    """Where a process gets its :class:`ConfigDocument`: read when first asked for, then
    kept; a read that failed raises the same error whenever it is asked for again, so
    the error shows where the command would have read the config, and the file (a pipe,
    perhaps) is still read only once."""

    code_dir: str
    config_file: str | None
    _document: ConfigDocument | None = attrs.field(default=None, init=False)
    _error: ConfigError | None = attrs.field(default=None, init=False)

    def document(self) -> ConfigDocument:
        if self._error is not None:
            raise self._error
        if self._document is None:
            try:
                self._document = read_document(self.code_dir, self.config_file)
            except ConfigError as err:
                self._error = err
                raise
        return self._document


@attrs.frozen
class RunMode:
    """How ``booth`` with no command runs: CodingBooth's ``daemon``, ``dryrun`` and
    ``verbose`` (command line over file over environment)."""

    daemon: bool = False
    dryrun: bool = False
    verbose: bool = False


def read_run_mode(document: ConfigDocument, overrides: Mapping[str, object]) -> RunMode:
    """Only ``daemon``, ``dryrun`` and ``verbose``: how ``booth`` with no command runs,
    learned without building (and fingerprinting) the whole config twice."""
    keys = document.reader(overrides)
    return RunMode(
        daemon=keys.boolean("daemon", False),
        dryrun=keys.boolean("dryrun", False),
        verbose=keys.boolean("verbose", False),
    )
