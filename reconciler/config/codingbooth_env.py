"""CodingBooth's settings from the environment: every config key has a ``CB_*`` variable.

CodingBooth 0.13 (``appctx/app_config.go``, read with envconfig in
``booth/init/initialize_app_context.go``) reads the environment first, then the config
file over it, then the command line over both; booth keeps that precedence, for every
command, so ``CB_NAME=x booth --daemon`` and ``CB_NAME=x booth destroy`` name the same
booth. The values arrive as strings and become the TOML types the config reader checks:
booleans as Go's ``strconv.ParseBool`` spells them, lists as CodingBooth's
``;``-separated string. A variable set to the empty string counts as unset.

Two variables are CodingBooth's own paths: ``CB_CONFIG`` is the config file only where
neither ``--config`` nor the code dir's ``.booth/config.toml`` names one (as there), and
``CB_CODE`` is never used (CodingBooth sets the code dir from ``--code`` or the working
directory before it reads the environment, so its value never survives either).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.errors import ConfigError

# CodingBooth's variable → the config key it sets.
ENV_KEYS = {
    "CB_DRYRUN": "dryrun",
    "CB_VERBOSE": "verbose",
    "CB_VERSION": "version",
    "CB_KEEP_ALIVE": "keep-alive",
    "CB_SILENCE_BUILD": "silence-build",
    "CB_DAEMON": "daemon",
    "CB_PULL": "pull",
    "CB_DIND": "dind",
    "CB_DOCKERFILE": "dockerfile",
    "CB_IMAGE": "image",
    "CB_VARIANT": "variant",
    "CB_PROJECT_NAME": "project-name",
    "CB_HOST_UID": "host-uid",
    "CB_HOST_GID": "host-gid",
    "CB_TIMEZONE": "timezone",
    "CB_NAME": "name",
    "CB_PORT": "port",
    "CB_ENV_FILE": "env-file",
    "CB_STARTUP": "startup",
    "CB_COMMON_ARGS": "common-args",
    "CB_BUILD_ARGS": "build-args",
    "CB_RUN_ARGS": "run-args",
    "CB_CMDS": "cmds",
}
CONFIG_VARIABLE = "CB_CONFIG"
BOOLEAN_KEYS = frozenset(
    {"dryrun", "verbose", "keep-alive", "silence-build", "daemon", "pull", "dind"}
)
# Go's strconv.ParseBool, which envconfig uses for a bool field.
_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


def parse_bool(text: str) -> bool | None:
    """``text`` as Go's ``strconv.ParseBool`` reads it (None: not a boolean)."""
    return True if text in _TRUE else False if text in _FALSE else None


def settings_from_env(env: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The config keys the environment sets (in the TOML types the reader checks), and
    for each the variable it came from (an error names the variable)."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for variable, key in ENV_KEYS.items():
        text = env.get(variable, "")
        if not text:
            continue
        if key in BOOLEAN_KEYS:
            value = parse_bool(text)
            if value is None:
                raise ConfigError(
                    f"environment {variable}={text!r}: expected a boolean (true, false, 1, "
                    "0, t, f, as Go's strconv.ParseBool reads them)"
                )
            values[key] = value
        else:
            values[key] = text
        sources[key] = variable
    return values, sources


def config_from_env(env: Mapping[str, str]) -> str | None:
    """``CB_CONFIG``: the config file when nothing else names one."""
    return env.get(CONFIG_VARIABLE) or None
