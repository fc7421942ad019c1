"""``.booth/config.toml`` + command line → one validated, frozen :class:`BoothConfig`.

This is the boundary: it reads the TOML (and, through the flag table, any
``--env-file``) and validates everything; after it, the pipeline handles valid values only.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import attrs

from reconciler.config.codingbooth import BuildSpec, Contract, contract_env, login_shell_command
from reconciler.config.image_reference import image_reference
from reconciler.config.parity import PARITY_KEYS, expanded_list, read_parity
from reconciler.config.reader import KeyReader
from reconciler.config.runargs.flags import ParseContext
from reconciler.config.runargs.routing import ContainerFields, Word, route, words_from
from reconciler.config.table import ConfigDocument, RunMode, read_document, read_run_mode
from reconciler.core import port_choice
from reconciler.core.inner_daemon import DEFAULT_INNER_LISTENER, InnerListener
from reconciler.core.ports import PortSet, SourcedSpec, build_port_set
from reconciler.errors import ConfigError
from reconciler.files import toml_text

# CodingBooth's default: a second project's booth takes the next free port (port_choice.py).
DEFAULT_PORT_SETTING = "NEXT"
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
# CodingBooth's keys of one invocation: `booth` with no command honours them (and a
# `dryrun` makes `apply` and `run` show the plan only); read by `run_mode_from`.
RUN_MODE_KEYS = ("dryrun", "verbose")
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
    "pull",
    *RUN_MODE_KEYS,
    *PARITY_KEYS,
)
# CodingBooth keys with no meaning in the file (set by the command line there too).
IGNORED_KEYS = ("code", "config")
# Docker's own rule for a container name (moby daemon/names): two characters at least.
_DOCKER_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
CLI_SOURCE = "command line"
MAX_NAME = 128  # leaves room for "-{port}-dind-data" in Docker's names


@attrs.frozen
class CliInputs:
    """What the command line adds to the config file."""

    publish: tuple[str, ...] = ()
    run_args: tuple[str, ...] = ()
    cmds: tuple[str, ...] | None = None
    # CodingBooth's flags (`booth` with no command): config keys the command line sets.
    overrides: tuple[tuple[str, object], ...] = ()
    build_args: tuple[str, ...] = ()
    # CodingBooth's command line (`booth` with no command): the booth's command, from
    # `--` or `cmds`, runs as CodingBooth runs it, `bash -lc '<words joined by spaces>'`.
    login_shell: bool = False


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
    daemon_endpoint: InnerListener = DEFAULT_INNER_LISTENER
    build: BuildSpec | None = None  # the image booth builds for the booth, if any
    silence_build: bool = False
    keep_alive: bool = False  # `booth run` leaves the booth running when it ends
    daemon: bool = False  # `booth` with no command applies instead of attaching
    contract_env: tuple[str, ...] = ()  # CodingBooth's image contract, before run-args
    timezone: str = ""  # TZ, after run-args (it wins, as in CodingBooth)
    # With common-args (or an env file): what run-args alone set in Env and WorkingDir,
    # which win over CodingBooth's contract, which wins over common-args.
    common_args: bool = False
    run_arg_env: tuple[str, ...] = ()
    run_arg_workdir: str | None = None
    # Pull the containers' images (and a build's base images) again before planning
    # `apply` and `run`, and replace what runs an older image (`booth plan --pull`).
    pull: bool = False
    dryrun: bool = False  # CodingBooth's `dryrun`: show what would be done, change nothing
    verbose: bool = False  # CodingBooth's `verbose`: `booth` with no command logs more
    # Every run-arg word with its source: a late failure names where its value came from.
    run_arg_words: tuple[Word, ...] = attrs.field(default=(), eq=False, repr=False)

    @property
    def instance(self) -> str:
        """The instance's identity: its name (the port is a setting of it)."""
        return self.name


@attrs.frozen
class InstanceRef:
    """What identifies an instance: enough for ``destroy`` and ``status`` of a booth
    whose config no longer parses as a whole (a bad port spec must not block clean-up)."""

    name: str
    port: int
    # The code directory it is loaded for ("": not known); not part of its identity.
    code_dir: str = attrs.field(default="", eq=False)

    @property
    def instance(self) -> str:
        return self.name


def derive_project_name(code_dir: str) -> str:
    """Basename with every non-alphanumeric char → ``-``, lower-cased; ``booth`` if empty.

    Leading dashes are dropped too, because Docker names must start with a letter or digit.
    """
    base = re.sub(r"[^a-zA-Z0-9]", "-", Path(code_dir).name).lower().lstrip("-")
    return base or "booth"


# (NEXT or RANDOM, the code directory, the instance name) → the booth port.
PortResolver = Callable[[str, Path, str], int]


def first_slot(_setting: str, _code: Path, _name: str) -> int:
    """The port of NEXT/RANDOM without an engine to ask (an offline plan, a rendering, a
    library call): the first slot. The workspace asks the engine instead."""
    return port_choice.FIRST_PORT


def load_config(
    code_dir: str,
    config_file: str | None = None,
    cli: CliInputs = CliInputs(),
    host_env: Mapping[str, str] | None = None,
    resolve_port: PortResolver = first_slot,
    *,
    walk_context: bool = True,
) -> BoothConfig:
    """Read, validate and combine config file and command line (:func:`config_from` of
    the config read here)."""
    env = os.environ if host_env is None else host_env
    document = read_document(code_dir, config_file, env)
    return config_from(document, cli, env, resolve_port, walk_context=walk_context)


def config_from(
    document: ConfigDocument,
    cli: CliInputs = CliInputs(),
    host_env: Mapping[str, str] | None = None,
    resolve_port: PortResolver = first_slot,
    *,
    walk_context: bool = True,
) -> BoothConfig:
    """Validate and combine the config read and the command line. ``walk_context=False``
    leaves a build's context hash to the caller (:func:`with_context_digest`)."""
    # Unknown keys are judged before the command line's keys join the table.
    warnings = document.reader().check_keys(KNOWN_KEYS, IGNORED_KEYS)
    return build_config(
        document.reader(dict(cli.overrides)),
        code=document.code,
        config_file=document.file,
        cli=cli,
        env=os.environ if host_env is None else host_env,
        warnings=warnings,
        resolve_port=resolve_port,
        walk_context=walk_context,
    )


def with_context_digest(config: BoothConfig, digest: str) -> BoothConfig:
    """``config`` with its build's fingerprint complete: ``digest`` is the hash of the
    context that ``config.build.inputs.walk`` describes."""
    build = config.build
    if build is None or build.inputs is None:
        raise ValueError("with_context_digest: the config builds no image")
    fingerprint = build.inputs.fingerprint(digest)
    return attrs.evolve(config, build=attrs.evolve(build, fingerprint=fingerprint))


def instance_ref_from(
    document: ConfigDocument, resolve_port: PortResolver = first_slot
) -> InstanceRef:
    """Only the keys that name the instance (``project-name``, ``name``, ``port``)."""
    reader = document.reader()
    name = _names(reader, document.code)[1]
    return InstanceRef(
        name, _port(reader, document.code, name, resolve_port)[0], str(document.code)
    )


def run_mode_from(document: ConfigDocument, cli: CliInputs) -> RunMode:
    """How ``booth`` with no command runs (``config_table.read_run_mode``)."""
    return read_run_mode(document, dict(cli.overrides))


def _port(reader: KeyReader, code: Path, name: str, resolve: PortResolver) -> tuple[int, str]:
    """The booth port and the setting it came from (as ``CB_PORT`` shows it)."""
    raw = reader.raw.get("port", DEFAULT_PORT_SETTING)
    try:
        setting = port_choice.parse_setting(raw, reader.at("port"))
    except ConfigError:
        raise reader.fail("port", "an integer in 1..65535, NEXT or RANDOM") from None
    if isinstance(setting, int):
        return setting, str(setting)
    return resolve(setting, code, name), setting


def build_config(
    reader: KeyReader,
    *,
    code: Path,
    config_file: str | None,
    cli: CliInputs,
    env: Mapping[str, str],
    warnings: Sequence[str],
    resolve_port: PortResolver = first_slot,
    walk_context: bool,
) -> BoothConfig:
    project_name, name = _names(reader, code)
    variant_raw = reader.string("variant", "base")
    variant = VARIANT_ALIASES.get(variant_raw, variant_raw)
    if variant not in VARIANTS:
        raise reader.fail("variant", f"one of {', '.join(VARIANTS)} (or an alias)")
    image_key = image_reference(reader, "image", "") if "image" in reader.raw else None
    parity = read_parity(
        reader,
        code=code,
        env=env,
        project=project_name,
        variant=variant,
        image_key=image_key,
        cli_build_args=cli.build_args,
        walk_context=walk_context,
    )
    dind = reader.boolean("dind", False)
    dind_image = image_reference(reader, "dind-image", DEFAULT_DIND_IMAGE)
    host_ip = reader.string("host-ip", DEFAULT_HOST_IP)
    if host_ip:
        try:
            host_ip = str(ipaddress.ip_address(host_ip))
        except ValueError:
            raise reader.fail("host-ip", 'an IP address or "" (all interfaces)') from None
    ready_timeout = reader.number("ready-timeout", DEFAULT_READY_TIMEOUT, 0, 86400)
    keep_dind_data = reader.boolean("keep-dind-data", True)
    allow_daemon_port = reader.boolean("allow-daemon-port", False)
    listener = reader.string("daemon-endpoint", DEFAULT_INNER_LISTENER.value)
    if listener not in tuple(InnerListener):
        raise reader.fail("daemon-endpoint", "one of tls, unix, tcp")
    config_cmds, cmd_warnings = expanded_list(reader, "cmds", env)
    cmds = cli.cmds if cli.cmds is not None else config_cmds
    if cli.login_shell and cmds is not None:
        cmds = login_shell_command(cmds)
    run_args, run_arg_warnings = expanded_list(reader, "run-args", env)

    context = ParseContext(code, env)
    config_source = f"{reader.where} run-args"
    late: list[Word] = [*words_from(run_args or (), config_source)]
    late += words_from(cli.run_args, f"{CLI_SOURCE} --run-arg")
    routed = route([*parity.words_before, *late], dind=dind, context=context)
    # CodingBooth's order: common-args, then its own -w, HOST_UID, CB_* (which win over
    # them), then run-args (which win over those): what run-args alone set is kept apart.
    late_fields = route(late, dind=dind, context=context).booth if parity.words_before else None
    # Only now: NEXT/RANDOM may ask the engine, which must not hide an error in what the
    # user wrote (or fail first when there is no engine to ask).
    port, port_setting = _port(reader, code, name, resolve_port)
    specs = routed.with_published_exposed(
        [*routed.ports, *(SourcedSpec(spec, f"{CLI_SOURCE} -p") for spec in cli.publish)]
    )
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
        image=parity.image,
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
        run_arg_words=(*parity.words_before, *late),
        warnings=(
            *warnings,
            *parity.warnings,
            *cmd_warnings,
            *run_arg_warnings,
            *routed.warnings,
        ),
        daemon_endpoint=InnerListener(listener),
        build=parity.build,
        silence_build=parity.silence_build,
        keep_alive=parity.keep_alive,
        daemon=parity.daemon,
        contract_env=tuple(
            contract_env(
                Contract(
                    name=name,
                    project=project_name,
                    port=port,
                    image=parity.image,
                    variant=variant,
                    version=parity.version,
                    code_dir=str(code),
                    config_file=config_file or "",
                    dind=dind,
                    dockerfile=parity.build.dockerfile if parity.build else "",
                    env_file=parity.env_file,
                    port_setting=port_setting,
                    host=parity.host,
                    startup=parity.startup,
                )
            )
        ),
        timezone=parity.host.timezone,
        run_arg_env=tuple(late_fields.get("Env", ())) if late_fields else (),
        run_arg_workdir=late_fields.get("WorkingDir") if late_fields else None,
        common_args=bool(parity.words_before),
        pull=reader.boolean("pull", False),
        dryrun=reader.boolean("dryrun", False),
        verbose=reader.boolean("verbose", False),
    )


def _names(reader: KeyReader, code: Path) -> tuple[str, str]:
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
            raise reader.fail(key, f"at most {MAX_NAME} characters (it has {len(value)})")
        if not _DOCKER_NAME.match(value):
            raise ConfigError(
                f"{reader.at(key)}: {key} {toml_text(value)} is not a valid Docker name "
                "(two or more letters, digits, '_', '.', '-'; starting with a letter or digit)"
            )
    return project_name, name
