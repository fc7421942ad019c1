"""BoothConfig → the desired resource graph: canonical specs, labels, spec hashes, edges.

Specs are written in the Engine API's own shape (``Image``, ``HostConfig`` …) so the
executor can send them as they are, and so the hash covers exactly what is sent.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from reconciler.config import CODE_MOUNT, BoothConfig
from reconciler.errors import RunArgError
from reconciler.ports import BOOTH_CONTAINER_PORT, DAEMON_PORT, PortSet
from reconciler.runargs import BoothOptions, NamespaceOptions

NETWORK, VOLUME, SIDECAR, BOOTH = "network", "volume", "sidecar", "booth"
ROLES = (NETWORK, VOLUME, SIDECAR, BOOTH)  # also the creation order
# Destroy is the exact reverse of "network, volume → sidecar → booth": the volume goes
# last, after the network, so a half-done destroy never strands a sidecar without data.
TEARDOWN_ORDER = (BOOTH, SIDECAR, NETWORK, VOLUME)
KIND_OF_ROLE = {NETWORK: "network", VOLUME: "volume", SIDECAR: "container", BOOTH: "container"}

LABEL_MANAGED = "io.codingbooth.managed"
LABEL_INSTANCE = "io.codingbooth.instance"
LABEL_ROLE = "io.codingbooth.role"
LABEL_SPEC_HASH = "io.codingbooth.spec-hash"
LABEL_SPEC_FIELDS = "io.codingbooth.spec-fields"

DOCKER_HOST_IN_BOOTH = f"tcp://localhost:{DAEMON_PORT}"
SIDECAR_COMMAND = (
    "dockerd",
    "--host=unix:///var/run/docker.sock",
    f"--host=tcp://127.0.0.1:{DAEMON_PORT}",
    "--tls=false",
)
# /run is a tmpfs in the sidecar, as on a real host: it is empty after every start. An
# unclean stop (engine restart, docker kill, OOM) otherwise leaves the inner daemon's pid
# files behind; docker:dind's entrypoint deletes only docker*.pid, and a stale
# /run/docker/containerd/containerd.pid whose number a new process happens to reuse makes
# dockerd wait for a containerd that is not there ("timeout waiting for containerd").
SIDECAR_TMPFS = (("/run", ""),)

# Edge kinds: "netns" (dst runs in src's network namespace: replacing or restarting
# src forces dst along), "attach" (dst is attached to network src: replacing src
# forces dst to be replaced), "mount" (plain ordering: never cascades).
NETNS, ATTACH, MOUNT = "netns", "attach", "mount"

# Friendlier names for the fields named in "spec changed: …" reasons.
_FIELD_NAMES = {
    "PortBindings": "ports",
    "ExposedPorts": "ports",
    "Env": "env",
    "Image": "image",
    "Cmd": "command",
    "Binds": "volumes",
    "NetworkMode": "network_mode",
}


@attrs.frozen
class Resource:
    """One desired Docker object. ``spec_json`` is the canonical spec (sorted JSON)."""

    role: str
    name: str
    spec_json: str
    spec_hash: str
    field_hashes: tuple[tuple[str, str], ...]
    summary_json: str

    @property
    def kind(self) -> str:
        return KIND_OF_ROLE[self.role]

    @property
    def spec(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.spec_json)
        return loaded

    @property
    def summary(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.summary_json)
        return loaded

    def labels(self, instance: str) -> dict[str, str]:
        """Ownership labels every object booth creates carries."""
        return {
            LABEL_MANAGED: "true",
            LABEL_INSTANCE: instance,
            LABEL_ROLE: self.role,
            LABEL_SPEC_HASH: self.spec_hash,
            LABEL_SPEC_FIELDS: json.dumps(
                dict(self.field_hashes), sort_keys=True, separators=(",", ":")
            ),
        }


@attrs.frozen
class Edge:
    """``dst`` depends on ``src``."""

    src: str
    dst: str
    kind: str


@attrs.frozen
class DesiredGraph:
    instance: str
    dind: bool
    resources: tuple[Resource, ...]
    edges: tuple[Edge, ...]

    def get(self, role: str) -> Resource | None:
        return next((r for r in self.resources if r.role == role), None)

    def __iter__(self) -> Iterator[Resource]:
        return iter(self.resources)


def canonical_json(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _short_hash(value: object) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()[:12]


def field_hashes(spec: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """Per-field hashes (HostConfig flattened), so a replacement can name what changed."""
    fields: dict[str, str] = {}
    for key, value in spec.items():
        if key == "HostConfig" and isinstance(value, dict):
            for sub, sub_value in value.items():
                fields[f"HostConfig.{sub}"] = _short_hash(sub_value)
        else:
            fields[key] = _short_hash(value)
    return tuple(sorted(fields.items()))


def changed_fields(old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    """Human names of the fields whose hashes differ (added or removed fields count)."""
    names = set()
    for key in set(old) | set(new):
        if old.get(key) != new.get(key):
            bare = key.removeprefix("HostConfig.")
            names.add(_FIELD_NAMES.get(bare, bare[:1].lower() + bare[1:]))
    return sorted(names)


def make_resource(role: str, name: str, spec: dict[str, Any], summary: dict[str, Any]) -> Resource:
    spec_json = canonical_json(spec)
    return Resource(
        role=role,
        name=name,
        spec_json=spec_json,
        spec_hash=hashlib.sha256(spec_json.encode()).hexdigest(),
        field_hashes=field_hashes(spec),
        summary_json=canonical_json(summary),
    )


def resource_names(name: str, port: int) -> dict[str, str]:
    base = f"{name}-{port}"
    return {
        NETWORK: f"{base}-net",
        VOLUME: f"{base}-dind-data",
        SIDECAR: f"{base}-dind",
        BOOTH: base,
    }


def build_desired(config: BoothConfig) -> DesiredGraph:
    """The resources and edges config asks for; DinD off means the booth alone."""
    names = resource_names(config.name, config.port)
    if not config.dind:
        booth = _booth(
            config,
            network_mode=config.booth_options.network or "default",
            ports=config.ports,
            namespace=config.namespace,
        )
        return DesiredGraph(
            config.instance, False, (make_resource(BOOTH, names[BOOTH], *booth),), ()
        )

    resources = [make_resource(NETWORK, names[NETWORK], {"Driver": "bridge"}, {"driver": "bridge"})]
    edges = [Edge(NETWORK, SIDECAR, ATTACH), Edge(SIDECAR, BOOTH, NETNS)]
    if config.keep_dind_data:
        resources.append(
            make_resource(VOLUME, names[VOLUME], {"Driver": "local"}, {"driver": "local"})
        )
        edges.append(Edge(VOLUME, SIDECAR, MOUNT))
    volume = names[VOLUME] if config.keep_dind_data else None
    resources.append(
        make_resource(SIDECAR, names[SIDECAR], *_sidecar(config, names[NETWORK], volume))
    )
    booth = _booth(config, network_mode=f"container:{names[SIDECAR]}", ports=None, namespace=None)
    resources.append(make_resource(BOOTH, names[BOOTH], *booth))
    return DesiredGraph(config.instance, True, tuple(resources), tuple(edges))


def _sidecar(
    config: BoothConfig, network: str, volume: str | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    host_config: dict[str, Any] = {
        "Privileged": True,
        "NetworkMode": network,
        "PortBindings": config.ports.docker_bindings(),
        "Binds": [f"{volume}:/var/lib/docker"] if volume else [],
        "Tmpfs": dict(SIDECAR_TMPFS),
    }
    spec: dict[str, Any] = {
        "Image": config.dind_image,
        "Cmd": list(SIDECAR_COMMAND),
        "Env": ["DOCKER_TLS_CERTDIR="],
        "ExposedPorts": {key: {} for key in config.ports.docker_bindings()},
    }
    _apply_namespace(spec, host_config, config.namespace)
    spec["HostConfig"] = host_config
    summary = _container_summary(spec, config.ports)
    return spec, summary


def _apply_namespace(
    spec: dict[str, Any], host_config: dict[str, Any], ns: NamespaceOptions
) -> None:
    if ns.hostname:
        spec["Hostname"] = ns.hostname
    for key, values in (
        ("Dns", ns.dns),
        ("DnsSearch", ns.dns_search),
        ("DnsOptions", ns.dns_options),
        ("ExtraHosts", ns.extra_hosts),
    ):
        if values:
            host_config[key] = list(values)


def _booth(
    config: BoothConfig,
    *,
    network_mode: str,
    ports: PortSet | None,
    namespace: NamespaceOptions | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    options = config.booth_options
    env = list(options.env)
    if config.dind:
        env.insert(0, f"DOCKER_HOST={DOCKER_HOST_IN_BOOTH}")
    host_config: dict[str, Any] = {
        "NetworkMode": network_mode,
        "Binds": [f"{config.code_dir}:{CODE_MOUNT}", *(v for v in options.volumes if ":" in v)],
        # An init reaps zombies and forwards SIGTERM, so `stop` does not wait out the
        # 10 s timeout when the booth's command ignores signals.
        "Init": True if options.init is None else options.init,
        "Privileged": options.privileged,
    }
    spec: dict[str, Any] = {"Image": config.image, "Env": _canonical_env(env)}
    if config.cmds is not None:
        spec["Cmd"] = list(config.cmds)
    if ports is not None:
        bindings = ports.docker_bindings()
        host_config["PortBindings"] = bindings
        spec["ExposedPorts"] = {key: {} for key in bindings}
    if namespace is not None:
        _apply_namespace(spec, host_config, namespace)
    _apply_options(spec, host_config, options)
    spec["HostConfig"] = host_config
    summary = _container_summary(spec, ports)
    return spec, summary


def _apply_options(
    spec: dict[str, Any], host_config: dict[str, Any], options: BoothOptions
) -> None:
    anonymous = [v for v in options.volumes if ":" not in v]
    if anonymous:
        spec["Volumes"] = {path: {} for path in anonymous}
    if options.working_dir:
        spec["WorkingDir"] = options.working_dir
    if options.user:
        spec["User"] = options.user
    if options.labels:
        spec["Labels"] = dict(options.labels)
    if options.entrypoint is not None:
        spec["Entrypoint"] = [options.entrypoint]
    if options.tty:
        spec["Tty"] = True
    if options.stdin_open:
        spec["OpenStdin"] = True
    for key, values in (
        ("CapAdd", options.cap_add),
        ("CapDrop", options.cap_drop),
        ("SecurityOpt", options.security_opt),
    ):
        if values:
            host_config[key] = list(values)
    if options.devices:
        host_config["Devices"] = [_device(d) for d in options.devices]
    if options.tmpfs:
        host_config["Tmpfs"] = dict(_tmpfs(t) for t in options.tmpfs)
    if options.mounts:
        host_config["Mounts"] = [_mount(m) for m in options.mounts]
    for key, number in (
        ("ShmSize", options.shm_size),
        ("Memory", options.memory),
        ("NanoCpus", options.nano_cpus),
    ):
        if number is not None:
            host_config[key] = number


def _canonical_env(env: list[str]) -> list[str]:
    """Later values win, as with docker run; then sorted, since order no longer matters."""
    by_key: dict[str, str] = {}
    for item in env:
        key, _, _ = item.partition("=")
        by_key[key] = item
    return [by_key[key] for key in sorted(by_key)]


def _device(text: str) -> dict[str, str]:
    parts = text.split(":")
    if len(parts) > 3 or not parts[0]:
        raise RunArgError(f"run-arg --device {text!r}: expected HOST[:CONTAINER[:PERMISSIONS]]")
    host = parts[0]
    container = parts[1] if len(parts) > 1 and parts[1] else host
    permissions = parts[2] if len(parts) > 2 else "rwm"
    return {"PathOnHost": host, "PathInContainer": container, "CgroupPermissions": permissions}


def _tmpfs(text: str) -> tuple[str, str]:
    path, _, options = text.partition(":")
    if not path.startswith("/"):
        raise RunArgError(f"run-arg --tmpfs {text!r}: expected an absolute container path")
    return path, options


_MOUNT_KEYS = {
    "type": "Type",
    "source": "Source",
    "src": "Source",
    "target": "Target",
    "destination": "Target",
    "dst": "Target",
    "readonly": "ReadOnly",
    "ro": "ReadOnly",
}


def _mount(text: str) -> dict[str, Any]:
    mount: dict[str, Any] = {"Type": "volume"}
    for item in text.split(","):
        key, has_value, value = item.partition("=")
        field = _MOUNT_KEYS.get(key.strip().lower())
        if field is None:
            raise RunArgError(
                f"run-arg --mount {text!r}: unsupported key {key!r} "
                "(supported: type, source, target, readonly)"
            )
        if field == "ReadOnly":
            mount[field] = not has_value or value.lower() in ("1", "true")
        else:
            mount[field] = value
    if "Target" not in mount:
        raise RunArgError(f"run-arg --mount {text!r}: target is required")
    if mount["Type"] not in ("bind", "volume", "tmpfs"):
        raise RunArgError(f"run-arg --mount {text!r}: type must be bind, volume or tmpfs")
    return mount


def _container_summary(spec: dict[str, Any], ports: PortSet | None) -> dict[str, Any]:
    """What a reviewer must see: image, privilege, namespace, exposure, env names."""
    host_config = spec["HostConfig"]
    return {
        "image": spec["Image"],
        "command": spec.get("Cmd"),
        "privileged": bool(host_config.get("Privileged")),
        "network_mode": host_config.get("NetworkMode"),
        "ports": ports.canonical() if ports is not None else [],
        "env": [item.partition("=")[0] for item in spec["Env"]],
        "mounts": sorted(host_config.get("Binds", [])),
        "init": bool(host_config.get("Init")),
    }


__all__ = [
    "BOOTH",
    "BOOTH_CONTAINER_PORT",
    "NETWORK",
    "SIDECAR",
    "VOLUME",
    "DesiredGraph",
    "Edge",
    "Resource",
    "build_desired",
]
