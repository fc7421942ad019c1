"""``.booth/config.toml`` + command line → one validated, frozen :class:`BoothConfig`.

This is the boundary: it reads the TOML (and, through the flag table, any
``--env-file``) and validates everything; after it, the pipeline handles valid values only.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from reconciler.codingbooth import BuildSpec
from reconciler.configfile import (
    code_directory,
    config_location,
    parse_toml,
    read_config,
    toml_text,
)
from reconciler.endpoints import DEFAULT_ENDPOINT, DaemonEndpoint
from reconciler.errors import ConfigError
from reconciler.flags import ParseContext
from reconciler.model import instance_name
from reconciler.ports import PortSet, SourcedSpec, build_port_set
from reconciler.runargs import ContainerFields, Word, route, words_from

DEFAULT_PORT = 10000
DEFAULT_DIND_IMAGE = "docker:dind"
DEFAULT_HOST_IP = "127.0.0.1"
DEFAULT_READY_TIMEOUT = 120.0
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
    "daemon-endpoint",
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
MAX_NAME = 128  # leaves room for "-{port}-dind-data" in Docker's names


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
    booth_fields: ContainerFields
    namespace_fields: ContainerFields
    warnings: tuple[str, ...] = ()
    daemon_endpoint: DaemonEndpoint = DEFAULT_ENDPOINT
    build: BuildSpec | None = None  # the image booth builds for the booth, if any
    silence_build: bool = False

    @property
    def instance(self) -> str:
        return instance_name(self.name, self.port)


@attrs.frozen
class InstanceRef:
    """What identifies an instance: enough for ``destroy`` and ``status`` of a booth
    whose config no longer parses as a whole (a bad port spec must not block clean-up)."""

    name: str
    port: int

    @property
    def instance(self) -> str:
        return instance_name(self.name, self.port)


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
    code, reader = _open(code_dir, config_file)
    warnings = reader.check_keys()
    return build_config(
        reader,
        code=code,
        config_file=reader.where if reader.text or reader.raw else None,
        cli=cli,
        env=env,
        warnings=warnings,
    )


def load_instance_ref(code_dir: str, config_file: str | None = None) -> InstanceRef:
    """Only the keys that name the instance (``project-name``, ``name``, ``port``)."""
    code, reader = _open(code_dir, config_file)
    name = _names(reader, code)[1]
    return InstanceRef(name, reader.integer("port", DEFAULT_PORT, 1, 65535))


def _open(code_dir: str, config_file: str | None) -> tuple[Path, _KeyReader]:
    code = code_directory(code_dir)
    path, what = config_location(code, config_file)
    text = read_config(path, what, required=config_file is not None)
    raw = parse_toml(text, what) if text is not None else {}
    return code, _KeyReader(raw, text or "", str(path))


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
        shown = toml_text(self.raw[key])
        return ConfigError(f"{self._at(key)}: {key} must be {expected}, got {shown}")

    def string(self, key: str, default: str) -> str:
        value = self.raw.get(key, default)
        if not isinstance(value, str):
            raise self._fail(key, "a string")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.raw.get(key, default)
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
            return split_semicolons(value)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            joined = " or one ';'-separated string" if allow_joined else ""
            raise self._fail(key, f"an array of strings{joined}")
        return tuple(value)


# Go's unicode.IsSpace, which strings.TrimSpace trims (Python's str.strip also trims
# U+001C..U+001F, which Go keeps).
GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + ("\u2028\u2029\u202f\u205f\u3000")
)


def split_semicolons(value: str) -> tuple[str, ...]:
    """CodingBooth's ``;`` string form (``ilist.SemicolonStringList``): split on ``;``,
    trim each part, drop empty parts; each part is one argument."""
    parts = (part.strip(GO_SPACE) for part in value.split(";"))
    return tuple(part for part in parts if part)


def build_config(
    reader: _KeyReader,
    *,
    code: Path,
    config_file: str | None,
    cli: CliInputs,
    env: Mapping[str, str],
    warnings: Sequence[str],
) -> BoothConfig:
    project_name, name = _names(reader, code)
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
    endpoint = reader.string("daemon-endpoint", DEFAULT_ENDPOINT.value)
    if endpoint not in tuple(DaemonEndpoint):
        raise reader._fail("daemon-endpoint", "one of tls, unix, tcp")
    config_cmds = reader.string_list("cmds", allow_joined=False)
    cmds = cli.cmds if cli.cmds is not None else config_cmds

    context = ParseContext(code, env)
    config_source = f"{reader.where} run-args"
    words: list[Word] = [
        *words_from(reader.string_list("run-args", allow_joined=True) or (), config_source)
    ]
    words += words_from(cli.run_args, f"{CLI_SOURCE} --run-arg")
    routed = route(words, dind=dind, context=context)
    specs = [*routed.ports, *(SourcedSpec(spec, f"{CLI_SOURCE} -p") for spec in cli.publish)]
    ports = build_port_set(
        specs,
        booth_port=port,
        default_host_ip=host_ip,
        dind=dind,
        allow_daemon_port=allow_daemon_port,
    )
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
        booth_fields=routed.booth,
        namespace_fields=routed.namespace,
        warnings=(*warnings, *routed.warnings),
        daemon_endpoint=DaemonEndpoint(endpoint),
    )


def _names(reader: _KeyReader, code: Path) -> tuple[str, str]:
    """``project-name`` and ``name``, both valid Docker names."""
    derived = derive_project_name(str(code))
    project_name = reader.string("project-name", derived)
    name = reader.string("name", project_name)
    for key, value in (("project-name", project_name), ("name", name)):
        if key not in reader.raw and len(value) > MAX_NAME:
            raise ConfigError(
                f"-C {code}: the code directory's name ({len(code.name)} characters) gives a "
                f"{key} of {len(value)} characters, more than {MAX_NAME}; set project-name "
                f"in {reader.where}"
            )
        if len(value) > MAX_NAME:
            raise reader._fail(key, f"at most {MAX_NAME} characters (it has {len(value)})")
        if not _DOCKER_NAME.match(value):
            raise ConfigError(
                f"{reader._at(key)}: {key} {toml_text(value)} is not a valid Docker name "
                "(letters, digits, '_', '.', '-'; starting with a letter or digit)"
            )
    return project_name, name


def _non_empty(reader: _KeyReader, key: str, default: str) -> str:
    value = reader.string(key, default)
    if not value.strip():
        raise reader._fail(key, "a non-empty string")
    return value
