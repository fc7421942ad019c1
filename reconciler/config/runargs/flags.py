"""The one table of supported ``docker run`` flags.

Each flag is declared once: its spellings, its value grammar, where it goes (the booth,
the shared network namespace, the port set, or nowhere) and the Engine API field it
fills. The tokenizer (``config/runargs/routing.py``) reads spellings from here, the router reads
routes, and the builder merges the filled fields into the container spec as they are.
Adding a flag is one entry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

import attrs

from reconciler.config.runargs import mounts, runtime_values, values
from reconciler.core import volumes
from reconciler.core.model import RESERVED_LABEL_PREFIX
from reconciler.errors import RunArgError, fail
from reconciler.files import read_small_text, user_path


class Route(StrEnum):
    """Where a flag's value goes."""

    BOOTH = "booth"  # the booth container's spec
    NAMESPACE = "namespace"  # the network namespace's owner: the sidecar in DinD mode
    PORT = "port"  # the instance's port set (the sidecar's in DinD mode)
    BOOTH_UNLESS_DIND = "booth-unless-dind"  # dropped with a warning in DinD mode
    REJECTED = "rejected"  # an error naming why
    IGNORED = "ignored"  # accepted, changes nothing that runs; a warning says why


class Merge(StrEnum):
    """How repeated values of one field combine."""

    SET = "set"  # the last one wins
    APPEND = "append"  # one list item per use
    EXTEND = "extend"  # the parser returns a list of items
    EXTEND_FIRST = "extend-first"  # as EXTEND, but before every EXTEND item (env files)
    UPDATE = "update"  # the parser returns one (key, value) pair of a mapping
    UPDATE_MANY = "update-many"  # the parser returns a list of (key, value) pairs
    KEYED = "keyed"  # a (key, item) pair; the field is the items, last per key, by key


@attrs.frozen
class ParseContext:
    """What value grammars may depend on besides the text: where relative paths start,
    and the host environment (``-e KEY`` takes the host's value, as docker run does)."""

    code_dir: Path
    host_env: Mapping[str, str]


@attrs.frozen
class Placed:
    """A value whose field depends on the value itself (``-v /data`` is an anonymous
    volume in ``Volumes``; ``-v src:/data`` a bind in ``HostConfig.Binds``)."""

    field: str
    merge: Merge
    value: Any
    namespace: bool = False  # the namespace owner's (``--sysctl net.*``)


Parser = Callable[[str, str, ParseContext], Any]


def _context_free(parse: Callable[[str, str], Any]) -> Parser:
    """A value parser that needs no context (the code dir, the environment), as a flag's."""
    return lambda value, where, _context: parse(value, where)


MIN_MEMORY = 6 * 1024 * 1024  # moby daemon_unix.go linuxMinMemory
DETACH_WHY = (
    "booth always creates and starts the booth detached (`apply`), and `booth run` "
    "attaches to it afterwards; use `--daemon` for a session that stays in the background"
)


def _text(value: str, _where: str, _context: ParseContext) -> str:
    return value


def _flag_bool(value: str, where: str, _context: ParseContext) -> bool:
    return values.parse_bool(value, where)


# Grammars that need no context, adapted to the parser signature. Plain functions, not a
# wrapper built while the table is: code that runs only at import is code mutation
# testing (tools/mutation.sh) cannot check.
def _device(value: str, where: str, _context: ParseContext) -> dict[str, str]:
    return values.parse_device(value, where)


def _tmpfs(value: str, where: str, _context: ParseContext) -> tuple[str, str]:
    return values.parse_tmpfs(value, where)


def _size(value: str, where: str, _context: ParseContext) -> int:
    return values.parse_size(value, where)


def _memory(value: str, where: str, _context: ParseContext) -> int:
    """``-m``: the daemon refuses a limit below 6 MiB (0 means none)."""
    size = values.parse_size(value, where)
    if 0 < size < MIN_MEMORY:
        raise fail(where, f"memory limit {value!r} is below Docker's minimum of 6 MiB (6m)")
    return size


def _cpus(value: str, where: str, _context: ParseContext) -> int:
    return values.parse_cpus(value, where)


@attrs.frozen
class FlagSpec:
    name: str
    short: str | None = None
    route: Route = Route.BOOTH
    field: str = ""
    merge: Merge = Merge.SET
    parse: Parser = _text
    boolean: bool = False  # takes no value word; `--flag=false` is allowed
    why: str = ""  # Route.REJECTED: the reason shown

    @property
    def takes_value(self) -> bool:
        return not self.boolean


# -- value grammars that need the context -------------------------------------------------


def _with_host_values(entries: list[tuple[str, str | None]], context: ParseContext) -> list[str]:
    """``NAME=value`` as given; a bare ``NAME`` takes the host's value, as docker run does
    (and is left out when the host has none)."""
    pairs = []
    for name, given in entries:
        value = context.host_env.get(name) if given is None else given
        if value is not None:
            pairs.append(f"{name}={value}")
    return pairs


def _env(value: str, where: str, context: ParseContext) -> list[str]:
    return _with_host_values([values.parse_env(value, where)], context)


def _env_file(value: str, where: str, context: ParseContext) -> list[str]:
    path = user_path(value, where)
    if not path.is_absolute():
        path = context.code_dir / path
    text = read_small_text(path, f"{where}: {path}")  # not a FIFO, not /dev/zero
    return _with_host_values(values.parse_env_file(text, f"{where} {path}"), context)


def _volume(value: str, where: str, context: ParseContext) -> Placed | str:
    """Checked as the CLI and then the daemon read it (``core/volumes.py``); relative bind
    sources resolve against the code dir (as Compose does), ``~`` to home."""
    if "\0" in value:
        raise RunArgError(f"{where}: a path cannot contain a NUL byte")
    spec = volumes.split_volume(value, where)
    if spec.source is None:
        return Placed("Volumes", Merge.UPDATE, (spec.target, {}))
    resolved = attrs.evolve(spec, source=_host_path(spec.source, where, context))
    volumes.check_source(resolved, where)
    return str(resolved)


def _host_path(source: str, where: str, context: ParseContext) -> str:
    """``~`` to home; a path starting with ``.`` (``.``, ``./x``, ``../x``, ``.cache``)
    against the code directory (the docker CLI makes every such source absolute, against
    its working directory; Compose against the project's); anything else (an absolute
    path, a volume name) as it is."""
    if source.startswith("~"):
        return str(user_path(source, where))
    if source.startswith("."):
        try:
            return str((context.code_dir / source).resolve())
        except RuntimeError:  # Python 3.11's resolve() on a symlink loop
            raise RunArgError(f"{where}: {source} is a symlink loop") from None
    return source


def _mount(value: str, where: str, context: ParseContext) -> dict[str, Any]:
    """``--mount``; a relative bind source resolves as ``-v``'s does (the docker CLI
    makes it absolute too, against its own working directory)."""
    if "\0" in value:
        raise RunArgError(f"{where}: a path cannot contain a NUL byte")
    mount = mounts.parse_mount(value, where)
    if mount.get("Type") == "bind" and "Source" in mount:
        mount["Source"] = _host_path(str(mount["Source"]), where, context)
    return mount


def _label(value: str, where: str, _context: ParseContext) -> tuple[str, str]:
    key, label_value = values.parse_label(value, where)
    if key.startswith(RESERVED_LABEL_PREFIX):
        raise RunArgError(
            f"{where}: labels under {RESERVED_LABEL_PREFIX}* are reserved for booth's "
            "ownership tracking"
        )
    return key, label_value


def _entrypoint(value: str, _where: str, _context: ParseContext) -> list[str]:
    return [value]


def _sysctl(value: str, where: str, _context: ParseContext) -> Placed:
    """``net.*`` goes to the namespace owner, which Docker requires of a container that
    joins another's network namespace; the IPC ones stay with the booth."""
    pair = runtime_values.parse_sysctl(value, where)
    owner = runtime_values.sysctl_in_network_namespace(value)
    return Placed("HostConfig.Sysctls", Merge.UPDATE, pair, namespace=owner)


PLATFORM_WHY = (
    "the platform is a parameter of the pull and the create, not of the container; booth "
    "runs the image the engine has (pull or build it for that platform first)"
)

FLAGS = (
    FlagSpec("env", "e", field="Env", merge=Merge.EXTEND, parse=_env),
    FlagSpec("env-file", field="Env", merge=Merge.EXTEND_FIRST, parse=_env_file),
    FlagSpec("volume", "v", field="HostConfig.Binds", merge=Merge.APPEND, parse=_volume),
    FlagSpec(
        "mount",
        field="HostConfig.Mounts",
        merge=Merge.APPEND,
        parse=_mount,
    ),
    FlagSpec("workdir", "w", field="WorkingDir", parse=_context_free(values.parse_workdir)),
    FlagSpec("user", "u", field="User"),
    FlagSpec("label", "l", field="Labels", merge=Merge.UPDATE, parse=_label),
    FlagSpec(
        "cap-add",
        field="HostConfig.CapAdd",
        merge=Merge.APPEND,
        parse=_context_free(values.parse_capability),
    ),
    FlagSpec(
        "cap-drop",
        field="HostConfig.CapDrop",
        merge=Merge.APPEND,
        parse=_context_free(values.parse_capability),
    ),
    FlagSpec(
        "device",
        field="HostConfig.Devices",
        merge=Merge.APPEND,
        parse=_device,
    ),
    FlagSpec("privileged", field="HostConfig.Privileged", parse=_flag_bool, boolean=True),
    FlagSpec(
        "security-opt",
        field="HostConfig.SecurityOpt",
        merge=Merge.APPEND,
        parse=_context_free(values.parse_security_opt),
    ),
    FlagSpec(
        "tmpfs",
        field="HostConfig.Tmpfs",
        merge=Merge.UPDATE,
        parse=_tmpfs,
    ),
    FlagSpec("shm-size", field="HostConfig.ShmSize", parse=_size),
    FlagSpec("memory", "m", field="HostConfig.Memory", parse=_memory),
    FlagSpec("cpus", field="HostConfig.NanoCpus", parse=_cpus),
    FlagSpec("init", field="HostConfig.Init", parse=_flag_bool, boolean=True),
    FlagSpec("entrypoint", field="Entrypoint", parse=_entrypoint),
    FlagSpec("tty", "t", field="Tty", parse=_flag_bool, boolean=True),
    FlagSpec("interactive", "i", field="OpenStdin", parse=_flag_bool, boolean=True),
    FlagSpec(
        "ulimit",
        field="HostConfig.Ulimits",
        merge=Merge.KEYED,
        parse=_context_free(runtime_values.parse_ulimit),
    ),
    FlagSpec("sysctl", field="HostConfig.Sysctls", merge=Merge.UPDATE, parse=_sysctl),
    FlagSpec("ipc", field="HostConfig.IpcMode", parse=_context_free(runtime_values.parse_ipc)),
    FlagSpec("pid", field="HostConfig.PidMode", parse=_context_free(runtime_values.parse_pid)),
    FlagSpec(
        "group-add",
        field="HostConfig.GroupAdd",
        merge=Merge.APPEND,
        parse=_context_free(runtime_values.parse_group),
    ),
    FlagSpec(
        "gpus",
        field="HostConfig.DeviceRequests",
        merge=Merge.APPEND,
        parse=_context_free(runtime_values.parse_gpus),
    ),
    FlagSpec(
        "restart",
        field="HostConfig.RestartPolicy",
        parse=_context_free(runtime_values.parse_restart),
    ),
    # The engine removes the booth when its command ends, as `docker run --rm` does; the
    # next apply creates it again (docs/design.md §2, "Lifecycle flags").
    FlagSpec("rm", field="HostConfig.AutoRemove", parse=_flag_bool, boolean=True),
    # booth always creates and starts detached; `booth run` attaches afterwards.
    FlagSpec("detach", "d", route=Route.IGNORED, boolean=True, why=DETACH_WHY),
    FlagSpec("publish", "p", route=Route.PORT),
    # -P publishes the --expose ports through the port set (the sidecar's in DinD mode).
    FlagSpec("publish-all", "P", route=Route.PORT, boolean=True),
    FlagSpec(
        "expose",
        route=Route.NAMESPACE,
        field="ExposedPorts",
        merge=Merge.UPDATE_MANY,
        parse=_context_free(runtime_values.parse_expose),
    ),
    FlagSpec("platform", route=Route.REJECTED, why=PLATFORM_WHY),
    FlagSpec("network", route=Route.BOOTH_UNLESS_DIND, field="HostConfig.NetworkMode"),
    FlagSpec("hostname", "h", route=Route.NAMESPACE, field="Hostname"),
    FlagSpec(
        "dns",
        route=Route.NAMESPACE,
        field="HostConfig.Dns",
        merge=Merge.APPEND,
        parse=_context_free(values.parse_ip),
    ),
    FlagSpec("dns-search", route=Route.NAMESPACE, field="HostConfig.DnsSearch", merge=Merge.APPEND),
    FlagSpec(
        "dns-option", route=Route.NAMESPACE, field="HostConfig.DnsOptions", merge=Merge.APPEND
    ),
    FlagSpec(
        "add-host",
        route=Route.NAMESPACE,
        field="HostConfig.ExtraHosts",
        merge=Merge.APPEND,
        parse=_context_free(values.parse_extra_host),
    ),
)
# Flags booth refuses outright: it owns what they control.
MANAGED_FLAGS = (
    FlagSpec(
        "name", route=Route.REJECTED, why="the container name is derived from `name` and `port`"
    ),
)
ALIASES = {"net": "network", "dns-opt": "dns-option"}

LONG = {f.name: f for f in (*FLAGS, *MANAGED_FLAGS)} | {
    alias: next(f for f in FLAGS if f.name == name) for alias, name in ALIASES.items()
}
SHORT = {f.short: f for f in (*FLAGS, *MANAGED_FLAGS) if f.short}


def supported() -> str:
    return ", ".join(f"--{f.name}" for f in FLAGS)
