"""``.booth/config.toml`` + command line → one validated, frozen :class:`BoothConfig`.

This is the only place that reads user input files (the TOML and any ``--env-file``);
after it, the pipeline handles valid values only.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from reconciler.errors import ConfigError
from reconciler.ports import PortSet, SourcedSpec, build_port_set
from reconciler.runargs import BoothOptions, NamespaceOptions, Word, route, words_from

DEFAULT_PORT = 10000
DEFAULT_DIND_IMAGE = "docker:dind"
DEFAULT_HOST_IP = "127.0.0.1"
DEFAULT_READY_TIMEOUT = 120.0
CODE_MOUNT = "/home/coder/code"
VARIANTS = ("base", "notebook", "codeserver", "desktop-xfce", "desktop-kde")
VARIANT_ALIASES = {
    "default": "base",
    "console": "base",
    "ide": "codeserver",
    "desktop": "desktop-xfce",
    "xfce": "desktop-xfce",
    "kde": "desktop-kde",
}
KNOWN_KEYS = (
    "project-name",
    "name",
    "port",
    "variant",
    "image",
    "dind",
    "dind-image",
    "run-args",
    "cmds",
    "host-ip",
    "ready-timeout",
    "keep-dind-data",
    "allow-daemon-port",
)
IGNORED_KEYS = (
    "dryrun",
    "verbose",
    "keep-alive",
    "daemon",
    "pull",
    "silence-build",
    "dockerfile",
    "build-args",
    "common-args",
    "env-file",
    "startup",
    "host-uid",
    "host-gid",
    "timezone",
    "code",
    "config",
    "version",
)
_DOCKER_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
CLI_SOURCE = "command line"


@attrs.frozen
class CliInputs:
    """What the command line adds to the config file."""

    publish: tuple[str, ...] = ()
    run_args: tuple[str, ...] = ()
    cmds: tuple[str, ...] | None = None


@attrs.frozen
class BoothConfig:
    """Every input of one booth, validated; ports and run-args already routed."""

    code_dir: str
    config_file: str | None
    project_name: str
    name: str
    port: int
    variant: str
    image: str
    dind: bool
    dind_image: str
    cmds: tuple[str, ...] | None
    host_ip: str
    ready_timeout: float
    keep_dind_data: bool
    allow_daemon_port: bool
    ports: PortSet
    booth_options: BoothOptions
    namespace: NamespaceOptions
    warnings: tuple[str, ...] = ()

    @property
    def instance(self) -> str:
        return f"{self.name}-{self.port}"


def derive_project_name(code_dir: str) -> str:
    """Basename with every non-alphanumeric char → ``-``, lower-cased; ``booth`` if empty.

    Leading dashes are dropped too, because Docker names must start with a letter or digit.
    """
    base = re.sub(r"[^a-zA-Z0-9]", "-", Path(code_dir).name).lower().lstrip("-")
    return base or "booth"


def load_config(
    code_dir: str,
    config_file: str | None = None,
    cli: CliInputs = CliInputs(),
    host_env: Mapping[str, str] | None = None,
) -> BoothConfig:
    """Read, validate and combine config file and command line."""
    env = os.environ if host_env is None else host_env
    code = Path(code_dir).expanduser()
    if not code.is_dir():
        raise ConfigError(f"-C {code_dir}: no such directory")
    code = code.resolve()
    path = Path(config_file).expanduser() if config_file else code / ".booth" / "config.toml"
    if config_file and not path.exists():
        raise ConfigError(f"--config {config_file}: no such file")
    raw, text = _read_toml(path) if path.exists() else ({}, "")
    where = str(path)
    reader = _KeyReader(raw, text, where)
    warnings = reader.check_keys()
    return build_config(
        reader,
        code=code,
        config_file=where if text or raw else None,
        cli=cli,
        env=env,
        warnings=warnings,
    )


def _read_toml(path: Path) -> tuple[dict[str, Any], str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read: {err}") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: malformed TOML: {err}") from None


class _KeyReader:
    """Typed access to the TOML table; every error names the file, key and line."""

    def __init__(self, raw: dict[str, Any], text: str, where: str) -> None:
        self.raw = raw
        self.text = text
        self.where = where

    def check_keys(self) -> tuple[str, ...]:
        warnings = []
        for key in self.raw:
            if key in KNOWN_KEYS:
                continue
            if key in IGNORED_KEYS:
                warnings.append(f"{self.where}: key {key!r} is accepted but ignored by booth")
                continue
            close = difflib.get_close_matches(key, KNOWN_KEYS, n=1, cutoff=0.5)
            hint = (
                f"; did you mean {close[0]!r}?"
                if close
                else f"; known keys: {', '.join(KNOWN_KEYS)}"
            )
            raise ConfigError(f"{self._at(key)}: unknown key {key!r}{hint}")
        return tuple(warnings)

    def _at(self, key: str) -> str:
        # `key = …`, a dotted `key.sub = …`, or a table header `[key]`, `[[key]]`, `[key.sub]`:
        # a mistyped table name deserves a line number as much as a mistyped key.
        quoted = rf"[\"']?{re.escape(key)}[\"']?"
        pattern = re.compile(rf"^\s*(?:{quoted}\s*[=.]|\[\[?\s*{quoted}\s*[\].])")
        for number, line in enumerate(self.text.splitlines(), start=1):
            if pattern.match(line):
                return f"{self.where}:{number}"
        return self.where

    def _fail(self, key: str, expected: str) -> ConfigError:
        value = self.raw[key]
        shown = repr(value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        return ConfigError(f"{self._at(key)}: {key} must be {expected}, got {shown}")

    def has(self, key: str) -> bool:
        return key in self.raw

    def string(self, key: str, default: str) -> str:
        if key not in self.raw:
            return default
        value = self.raw[key]
        if not isinstance(value, str):
            raise self._fail(key, "a string")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        if key not in self.raw:
            return default
        value = self.raw[key]
        if not isinstance(value, bool):
            raise self._fail(key, "true or false")
        return value

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        if key not in self.raw:
            return default
        value = self.raw[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self._fail(key, f"an integer in {low}..{high}")
        return value

    def number(self, key: str, default: float, low: float, high: float) -> float:
        if key not in self.raw:
            return default
        value = self.raw[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or not low < value <= high:
            raise self._fail(key, f"a number of seconds in ({low:g}, {high:g}]")
        return float(value)

    def string_list(self, key: str, *, allow_joined: bool) -> tuple[str, ...] | None:
        if key not in self.raw:
            return None
        value = self.raw[key]
        if allow_joined and isinstance(value, str):
            return tuple(part.strip() for part in value.split(";") if part.strip())
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            joined = " or one ';'-separated string" if allow_joined else ""
            raise self._fail(key, f"an array of strings{joined}")
        return tuple(value)


def build_config(
    reader: _KeyReader,
    *,
    code: Path,
    config_file: str | None,
    cli: CliInputs,
    env: Mapping[str, str],
    warnings: Sequence[str],
) -> BoothConfig:
    project_name = reader.string("project-name", derive_project_name(str(code)))
    name = reader.string("name", project_name)
    for key, value in (("project-name", project_name), ("name", name)):
        if not _DOCKER_NAME.match(value) or len(value) > 128:
            raise ConfigError(
                f"{reader._at(key)}: {key} {value!r} is not a valid Docker name "
                "(letters, digits, '_', '.', '-'; starting with a letter or digit)"
            )
    port = reader.integer("port", DEFAULT_PORT, 1, 65535)
    variant_raw = reader.string("variant", "base")
    variant = VARIANT_ALIASES.get(variant_raw, variant_raw)
    if variant not in VARIANTS:
        raise reader._fail("variant", f"one of {', '.join(VARIANTS)} (or an alias)")
    image = _non_empty(reader, "image", f"nawaman/codingbooth:{variant}-latest")
    dind = reader.boolean("dind", False)
    dind_image = _non_empty(reader, "dind-image", DEFAULT_DIND_IMAGE)
    host_ip = reader.string("host-ip", DEFAULT_HOST_IP)
    if host_ip:
        try:
            host_ip = str(ipaddress.ip_address(host_ip))
        except ValueError:
            raise reader._fail("host-ip", 'an IP address or "" (all interfaces)') from None
    ready_timeout = reader.number("ready-timeout", DEFAULT_READY_TIMEOUT, 0, 86400)
    keep_dind_data = reader.boolean("keep-dind-data", True)
    allow_daemon_port = reader.boolean("allow-daemon-port", False)
    config_cmds = reader.string_list("cmds", allow_joined=False)
    cmds = cli.cmds if cli.cmds is not None else config_cmds

    config_source = f"{reader.where} run-args"
    words: list[Word] = [
        *words_from(reader.string_list("run-args", allow_joined=True) or (), config_source)
    ]
    words += words_from(cli.run_args, f"{CLI_SOURCE} --run-arg")
    routed = route(words, dind=dind)
    specs = [*routed.ports, *(SourcedSpec(spec, f"{CLI_SOURCE} -p") for spec in cli.publish)]
    ports = build_port_set(
        specs,
        booth_port=port,
        default_host_ip=host_ip,
        dind=dind,
        allow_daemon_port=allow_daemon_port,
    )
    booth_options = _resolve_paths(routed.booth, code, env)
    return BoothConfig(
        code_dir=str(code),
        config_file=config_file,
        project_name=project_name,
        name=name,
        port=port,
        variant=variant,
        image=image,
        dind=dind,
        dind_image=dind_image,
        cmds=cmds,
        host_ip=host_ip,
        ready_timeout=ready_timeout,
        keep_dind_data=keep_dind_data,
        allow_daemon_port=allow_daemon_port,
        ports=ports,
        booth_options=booth_options,
        namespace=routed.namespace,
        warnings=(*warnings, *routed.warnings),
    )


def _non_empty(reader: _KeyReader, key: str, default: str) -> str:
    value = reader.string(key, default)
    if not value.strip():
        raise reader._fail(key, "a non-empty string")
    return value


def _resolve_paths(options: BoothOptions, code: Path, env: Mapping[str, str]) -> BoothOptions:
    """Relative bind sources resolve against the code dir (as Compose does), ``~`` to home;
    env files are read here so the rest of the pipeline sees plain ``KEY=VALUE`` pairs."""
    volumes = tuple(_resolve_volume(v, code) for v in options.volumes)
    env_pairs: list[str] = []
    for env_file in options.env_files:
        env_pairs += _read_env_file(code, env_file, env)
    for item in options.env:
        env_pairs += _env_item(item, env)
    return attrs.evolve(options, volumes=volumes, env=tuple(env_pairs), env_files=())


def _resolve_volume(spec: str, code: Path) -> str:
    source, sep, rest = spec.partition(":")
    if not sep:
        return spec  # anonymous volume: just a container path
    if source.startswith("~"):
        source = str(Path(source).expanduser())
    elif source == "." or source.startswith(("./", "../")) or source in ("..",):
        source = str((code / source).resolve())
    return f"{source}:{rest}"


def _env_item(item: str, env: Mapping[str, str]) -> list[str]:
    """``KEY=VALUE`` as given; a bare ``KEY`` takes the host's value, as docker run does."""
    if "=" in item:
        return [item]
    return [f"{item}={env[item]}"] if item in env else []


def _read_env_file(code: Path, name: str, env: Mapping[str, str]) -> list[str]:
    path = Path(name).expanduser()
    if not path.is_absolute():
        path = code / path
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"run-arg --env-file {name}: cannot read {path}: {err}") from None
    pairs: list[str] = []
    for line in lines:
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            pairs += _env_item(stripped, env)
    return pairs
