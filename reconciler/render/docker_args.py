"""A desired resource as the docker CLI arguments that create it (``plan --format docker``).

The inverse of the flag table (``flags.FLAGS``): every field a container spec can hold
is written as the flag that fills it, so ``docker create`` with these words sends the
engine what booth sends, and a field this module cannot write is an error rather than a
script that silently does something else. Pure: words only, quoted by the caller.

Env values and build args are printed only when booth chose them itself
(``Resource.public_env``); any other one is written as ``-e NAME`` (``--build-arg
NAME``), which docker fills from the environment of the script, and its name is
returned so the script can insist it is set.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from reconciler.core.model import Resource
from reconciler.core.ports import PortMapping
from reconciler.engine.remote import code_dir_as_mount
from reconciler.errors import ConfigError

Words = list[str]


def _each(flag: str) -> Callable[[Any], Words]:
    return lambda values: [word for value in values for word in (flag, str(value))]


def _one(flag: str) -> Callable[[Any], Words]:
    return lambda value: [flag, str(value)]


def _switch(flag: str) -> Callable[[Any], Words]:
    """A boolean flag: given when true; ``--flag=false`` when false (the field is set)."""
    return lambda value: [flag] if value else [f"{flag}=false"]


def _cpus(nano: int) -> Words:
    """NanoCpus as the decimal ``--cpus`` reads back exactly (no float rounding)."""
    whole, fraction = divmod(int(nano), 10**9)
    return ["--cpus", f"{whole}.{fraction:09d}".rstrip("0").rstrip(".")]


def _devices(devices: list[dict[str, str]]) -> Words:
    return [
        word
        for d in devices
        for word in (
            "--device",
            f"{d['PathOnHost']}:{d['PathInContainer']}:{d['CgroupPermissions']}",
        )
    ]


def _tmpfs(tmpfs: Mapping[str, str]) -> Words:
    return [
        w for path, opts in tmpfs.items() for w in ("--tmpfs", f"{path}:{opts}" if opts else path)
    ]


def _mounts(mounts: list[dict[str, Any]]) -> Words:
    return [word for mount in mounts for word in ("--mount", mount_option(mount))]


def _anonymous_volumes(volumes: Mapping[str, Any]) -> Words:
    return [word for target in volumes for word in ("-v", target)]


def _ulimits(ulimits: list[dict[str, Any]]) -> Words:
    return [w for u in ulimits for w in ("--ulimit", f"{u['Name']}={u['Soft']}:{u['Hard']}")]


def _sysctls(sysctls: Mapping[str, str]) -> Words:
    return [w for key, value in sysctls.items() for w in ("--sysctl", f"{key}={value}")]


def _restart(policy: Mapping[str, Any]) -> Words:
    retries = policy.get("MaximumRetryCount") or 0
    return ["--restart", f"{policy['Name']}{f':{retries}' if retries else ''}"]


def _gpus(requests: list[dict[str, Any]]) -> Words:
    """Each ``DeviceRequest`` as the ``--gpus`` CSV record that reads back as it."""
    words: Words = []
    for request in requests:
        fields = []
        if request.get("DeviceIDs") is not None:
            fields.append(f"device={','.join(request['DeviceIDs'])}")
        if request.get("DeviceIDs") is None or request.get("Count"):
            count = request.get("Count", 0)
            fields.append(f"count={'all' if count == -1 else count}")
        if request.get("Driver"):
            fields.append(f"driver={request['Driver']}")
        groups = request.get("Capabilities") or [["gpu"]]
        if groups != [["gpu"]]:
            fields.append(f"capabilities={','.join(groups[0][:-1])}")
        if request.get("Options"):
            options = [f"{k}={v}" for k, v in request["Options"].items()]
            fields.append("options=" + ",".join(_csv_field(o) for o in options))
        words += ["--gpus", ",".join(_csv_field(field) for field in fields)]
    return words


# Container spec fields (``HostConfig.X`` for host fields) → their flag. ``Image``,
# ``Cmd``, ``Env``, ``Labels``, ``PortBindings`` and ``ExposedPorts`` are written apart.
FIELD_FLAGS: dict[str, Callable[[Any], Words]] = {
    "Hostname": _one("--hostname"),
    "User": _one("--user"),
    "WorkingDir": _one("--workdir"),
    "Entrypoint": lambda value: ["--entrypoint", *value[:1]],
    "Tty": _switch("--tty"),
    "OpenStdin": _switch("--interactive"),
    # `docker create -i` sets it too: no flag of its own (see render_docker's note).
    "StdinOnce": lambda _value: [],
    "Volumes": _anonymous_volumes,
    "HostConfig.NetworkMode": _one("--network"),
    "HostConfig.Init": _switch("--init"),
    "HostConfig.Privileged": _switch("--privileged"),
    "HostConfig.AutoRemove": _switch("--rm"),
    "HostConfig.Binds": _each("-v"),
    "HostConfig.Mounts": _mounts,
    "HostConfig.VolumesFrom": _each("--volumes-from"),
    "HostConfig.Tmpfs": _tmpfs,
    "HostConfig.CapAdd": _each("--cap-add"),
    "HostConfig.CapDrop": _each("--cap-drop"),
    "HostConfig.Devices": _devices,
    "HostConfig.SecurityOpt": _each("--security-opt"),
    "HostConfig.ShmSize": _one("--shm-size"),
    "HostConfig.Memory": _one("--memory"),
    "HostConfig.NanoCpus": _cpus,
    "HostConfig.Dns": _each("--dns"),
    "HostConfig.DnsSearch": _each("--dns-search"),
    "HostConfig.DnsOptions": _each("--dns-option"),
    "HostConfig.ExtraHosts": _each("--add-host"),
    "HostConfig.Ulimits": _ulimits,
    "HostConfig.Sysctls": _sysctls,
    "HostConfig.IpcMode": _one("--ipc"),
    "HostConfig.PidMode": _one("--pid"),
    "HostConfig.GroupAdd": _each("--group-add"),
    "HostConfig.DeviceRequests": _gpus,
    "HostConfig.RestartPolicy": _restart,
}
_APART = frozenset({"Image", "Cmd", "Env", "Labels", "ExposedPorts", "HostConfig.PortBindings"})
# Engine defaults: a false value of these sends nothing the engine would not assume.
_FALSE_IS_DEFAULT = frozenset(
    {"HostConfig.Privileged", "HostConfig.AutoRemove", "Tty", "OpenStdin", "StdinOnce"}
)


def create_args(resource: Resource, instance: str) -> tuple[Words, list[str]]:
    """``docker create`` words for a desired container, and the env names left unprinted."""
    spec = code_dir_as_mount(resource.spec)  # as booth sends it: the code dir a --mount
    words: Words = ["docker", "create", "--name", resource.name]
    for field, value in _fields(spec):
        if field in _APART or (value is False and field in _FALSE_IS_DEFAULT):
            continue
        if field not in FIELD_FLAGS:
            raise ConfigError(
                f"--format docker: the spec field {field} of {resource.name} has no docker "
                "flag booth can write"
            )
        words += FIELD_FLAGS[field](value)
    words += _ports(resource, spec)
    env_words, hidden = _env(spec.get("Env", []), resource.public_env, "-e")
    words += env_words
    words += label_args({**spec.get("Labels", {}), **resource.labels(instance)})
    words += [spec["Image"], *spec.get("Cmd", [])]
    return words, hidden


def build_args(resource: Resource, instance: str) -> tuple[Words, list[str]]:
    """``docker build`` words for the image booth builds, and the build args unprinted."""
    spec = resource.spec
    words: Words = ["docker", "build", "--force-rm", "--file", spec["DockerfilePath"]]
    words += ["--tag", resource.name]
    pairs = [f"{name}={value}" for name, value in spec["BuildArgs"].items()]
    arg_words, hidden = _env(pairs, resource.public_env, "--build-arg")
    words += arg_words
    words += label_args(resource.labels(instance))
    return [*words, spec["ContextDir"]], hidden


def label_args(labels: Mapping[str, str]) -> Words:
    return [word for key, value in labels.items() for word in ("--label", f"{key}={value}")]


def _fields(spec: Mapping[str, Any]) -> list[tuple[str, Any]]:
    fields = [(key, value) for key, value in spec.items() if key != "HostConfig"]
    host = spec.get("HostConfig", {})
    return fields + [(f"HostConfig.{key}", value) for key, value in host.items()]


def _env(pairs: list[str], public: tuple[str, ...], flag: str) -> tuple[Words, list[str]]:
    words: Words = []
    hidden: list[str] = []
    for pair in pairs:
        if pair in public:
            words += [flag, pair]
        else:
            name = pair.partition("=")[0]
            words += [flag, name]
            hidden.append(name)
    return words, hidden


def _ports(resource: Resource, spec: Mapping[str, Any]) -> Words:
    """``-p`` per mapping of the port set (as CodingBooth writes them, ``/tcp`` left out);
    ``--expose`` for an exposed port nothing publishes."""
    host = spec.get("HostConfig", {})
    bindings = host.get("PortBindings") or {}
    if bindings and resource.ports is None:
        raise ConfigError(f"--format docker: {resource.name} publishes ports of no port set")
    words: Words = []
    if bindings and resource.ports is not None:
        mappings = resource.ports.in_declared_order()  # as CodingBooth writes them
        words = [w for m in mappings for w in ("-p", publish_value(m))]
    for key in spec.get("ExposedPorts", {}):
        if key not in bindings:
            words += ["--expose", key]
    return words


def publish_value(mapping: PortMapping) -> str:
    """``docker run -p``'s own spelling: no address for Docker's default one, no ``/tcp``."""
    text = mapping.canonical().removesuffix("/tcp")
    if mapping.host_ip:
        return text
    text = text.removeprefix(":")
    return text.removeprefix(":")  # an ephemeral host port on the default address: `80`


# -- --mount, the inverse of mounts.parse_mount -------------------------------------------

_BIND_FLAGS = {
    "NonRecursive": "bind-recursive=disabled",
    "ReadOnlyNonRecursive": "bind-recursive=writable",
    "ReadOnlyForceRecursive": "bind-recursive=readonly",
}


def mount_option(mount: Mapping[str, Any]) -> str:
    """One ``--mount`` value: a CSV record, as the docker CLI reads it."""
    known = {"Type", "Source", "Target", "ReadOnly", "Consistency"}
    known |= {"BindOptions", "VolumeOptions", "TmpfsOptions", "ImageOptions"}
    unknown = set(mount) - known
    if unknown:
        raise ConfigError(f"--format docker: --mount field {sorted(unknown)[0]} cannot be written")
    fields = [f"type={mount.get('Type', 'volume')}"]
    if mount.get("Source"):
        fields.append(f"source={mount['Source']}")
    fields.append(f"target={mount['Target']}")
    if "ReadOnly" in mount:
        fields.append(f"readonly={str(bool(mount['ReadOnly'])).lower()}")
    if mount.get("Consistency"):
        fields.append(f"consistency={mount['Consistency']}")
    fields += _bind_fields(mount.get("BindOptions", {}))
    fields += _volume_fields(mount.get("VolumeOptions", {}))
    if "Subpath" in mount.get("ImageOptions", {}):
        fields.append(f"image-subpath={mount['ImageOptions']['Subpath']}")
    tmpfs = mount.get("TmpfsOptions", {})
    if "SizeBytes" in tmpfs:
        fields.append(f"tmpfs-size={tmpfs['SizeBytes']}")
    if "Mode" in tmpfs:
        fields.append(f"tmpfs-mode={tmpfs['Mode']:o}")
    return ",".join(_csv_field(field) for field in fields)


def _bind_fields(options: Mapping[str, Any]) -> list[str]:
    fields = []
    if "Propagation" in options:
        fields.append(f"bind-propagation={options['Propagation']}")
    fields += [text for key, text in _BIND_FLAGS.items() if options.get(key)]
    if "CreateMountpoint" in options:
        fields.append(f"bind-create-src={str(bool(options['CreateMountpoint'])).lower()}")
    return fields


def _volume_fields(options: Mapping[str, Any]) -> list[str]:
    fields = []
    if "NoCopy" in options:
        fields.append(f"volume-nocopy={str(bool(options['NoCopy'])).lower()}")
    if "Subpath" in options:
        fields.append(f"volume-subpath={options['Subpath']}")
    fields += [f"volume-label={k}={v}" for k, v in options.get("Labels", {}).items()]
    driver = options.get("DriverConfig", {})
    if "Name" in driver:
        fields.append(f"volume-driver={driver['Name']}")
    fields += [f"volume-opt={k}={v}" for k, v in driver.get("Options", {}).items()]
    return fields


def _csv_field(field: str) -> str:
    """Go's encoding/csv quoting: a field with a comma, a quote or a line break."""
    if any(c in field for c in ',"\r\n'):
        return '"' + field.replace('"', '""') + '"'
    return field
