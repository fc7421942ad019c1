"""The config's table: ``.booth/config.toml`` (or ``--config``, or ``CB_CONFIG``) over
CodingBooth's ``CB_*`` variables, as one :class:`KeyReader`; and the partial read of how
``booth`` with no command runs (:func:`read_run_mode`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import attrs

from reconciler.codingbooth_env import config_from_env, settings_from_env
from reconciler.config_reader import KeyReader
from reconciler.configfile import code_directory, config_location, parse_toml, read_config


def open_table(
    code_dir: str, config_file: str | None, env: Mapping[str, str]
) -> tuple[Path, KeyReader]:
    """The config file's table over the ``CB_*`` variables' (CodingBooth's precedence)."""
    code = code_directory(code_dir)
    path, what = config_location(code, config_file)
    text = read_config(path, what, required=config_file is not None)
    if text is None and config_file is None and config_from_env(env):
        # CB_CONFIG names the file only where neither --config nor the default does.
        named = config_from_env(env)
        assert named is not None
        path, what = config_location(code, named)
        what = f"environment CB_CONFIG={named}"
        text = read_config(path, what, required=True)
    raw = parse_toml(text, what) if text is not None else {}
    from_env, sources = settings_from_env(env)
    sources = {k: v for k, v in sources.items() if k not in raw}
    return code, KeyReader({**from_env, **raw}, text or "", str(path), from_env=sources)


@attrs.frozen
class RunMode:
    """How ``booth`` with no command runs: CodingBooth's ``daemon``, ``dryrun`` and
    ``verbose`` (command line over file over environment)."""

    daemon: bool = False
    dryrun: bool = False
    verbose: bool = False


def read_run_mode(
    code_dir: str, config_file: str | None, overrides: Mapping[str, object]
) -> RunMode:
    """Only ``daemon``, ``dryrun`` and ``verbose``: how ``booth`` with no command runs,
    learned without building (and fingerprinting) the whole config twice."""
    _, reader = open_table(code_dir, config_file, os.environ)
    raw = {**reader.raw, **overrides}
    from_env = {k: v for k, v in reader.from_env.items() if k not in overrides}
    keys = KeyReader(raw, reader.text, reader.where, frozenset(overrides), from_env)
    return RunMode(
        daemon=keys.boolean("daemon", False),
        dryrun=keys.boolean("dryrun", False),
        verbose=keys.boolean("verbose", False),
    )
