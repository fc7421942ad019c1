"""The builder: a validated :class:`BoothConfig` → the desired resource graph.

Specs are written in the Engine API's own shape (``Image``, ``HostConfig`` …) so the
engine can send them as they are, and so the hash covers exactly what is sent. Nothing
here validates user input: the config and the flag table did that at the boundary.
"""

from __future__ import annotations

import copy
from typing import Any

import attrs

from reconciler.config.booth_config import BoothConfig
from reconciler.config.codingbooth import BuildSpec
from reconciler.config.runargs.routing import ContainerFields
from reconciler.core.inner_daemon import SOCKET_DIR, InnerListener, booth_env, sidecar_command
from reconciler.core.model import (
    CODE_MOUNT,
    DOCKER_DATA,
    LABEL_CODE_DIR,
    LABEL_PORT,
    DesiredGraph,
    Resource,
    Role,
    edges_between,
    make_resource,
    resource_names,
)
from reconciler.core.ports import PortSet
from reconciler.core.volumes import BINDS, VolumeSpec, split_volume

# The seed's endpoint (``daemon-endpoint = "tcp"``); ``core/inner_daemon.py`` has all three.
DOCKER_HOST_IN_BOOTH = booth_env(InnerListener.TCP)[0].partition("=")[2]
SIDECAR_COMMAND = tuple(sidecar_command(InnerListener.TCP))
# /run is a tmpfs in the sidecar, as on a real host: it is empty after every start. An
# unclean stop (engine restart, docker kill, OOM) otherwise leaves the inner daemon's pid
# files behind; docker:dind's entrypoint deletes only docker*.pid, and a stale
# /run/docker/containerd/containerd.pid whose number a new process happens to reuse makes
# dockerd wait for a containerd that is not there ("timeout waiting for containerd").
SIDECAR_TMPFS = (("/run", ""),)
# The build args booth gives every build itself (``codingbooth.build_spec``): no secrets.
OWN_BUILD_ARGS = ("CB_VARIANT_TAG", "CB_VERSION_TAG", "CB_SETUPS")
# docker:dind makes its own certificates unless this is empty; booth makes them.
SIDECAR_ENV = ["DOCKER_TLS_CERTDIR="]


def build_desired(config: BoothConfig) -> DesiredGraph:
    """The resources and edges config asks for; DinD off means the booth alone (with the
    image booth builds for it, if any)."""
    names = resource_names(config.name, config.port)
    image = [_image(config.build)] if config.build is not None else []
    if not config.dind:
        booth = _booth(config, network_mode="default", ports=config.ports, in_namespace=False)
        alone = _with_code_dir(
            make_resource(Role.BOOTH, names[Role.BOOTH], *booth, config.ports), config
        )
        alone = _with_public_env(alone, _booths_own_env(config))
        edges = edges_between({Role.BOOTH, *(r.role for r in image)})
        return DesiredGraph(config.instance, False, (*image, _with_port(alone, config)), edges)

    resources = [
        *image,
        make_resource(
            Role.NETWORK, names[Role.NETWORK], {"Driver": "bridge"}, {"driver": "bridge"}
        ),
    ]
    if config.keep_dind_data:
        resources.append(
            make_resource(Role.VOLUME, names[Role.VOLUME], {"Driver": "local"}, {"driver": "local"})
        )
    volume = names[Role.VOLUME] if config.keep_dind_data else None
    listener = config.daemon_endpoint
    sidecar = _sidecar(config, names[Role.NETWORK], volume)
    sidecar_resource = make_resource(
        Role.SIDECAR, names[Role.SIDECAR], *sidecar, config.ports, listener
    )
    resources.append(_with_public_env(sidecar_resource, SIDECAR_ENV))
    booth = _booth(
        config, network_mode=f"container:{names[Role.SIDECAR]}", ports=None, in_namespace=True
    )
    if listener == InnerListener.UNIX:
        # The socket's volume; read-only is enough to connect to a socket.
        host = booth[0]["HostConfig"]
        host["VolumesFrom"] = [*host.get("VolumesFrom", []), f"{names[Role.SIDECAR]}:ro"]
    booth_resource = make_resource(Role.BOOTH, names[Role.BOOTH], *booth, None, listener)
    booth_resource = _with_public_env(booth_resource, _booths_own_env(config))
    resources.append(_with_code_dir(booth_resource, config))
    edges = edges_between({r.role for r in resources})
    labelled = tuple(r if r.role == Role.IMAGE else _with_port(r, config) for r in resources)
    return DesiredGraph(config.instance, True, labelled, edges)


def build_cluster_desired(config: BoothConfig) -> DesiredGraph:
    """The graph ``render kubernetes`` renders. The Pod keeps the seed's ``tcp`` listener,
    since booth's certificates are made and copied when booth itself creates the
    containers, and nothing does that in a cluster. A cluster builds nothing: the Pod runs
    the image's tag, which must be pushed where the cluster pulls (docs/kubernetes.md).
    Host paths in CodingBooth's variables become the Pod's own."""
    cluster_env = tuple(_cluster_value(item) for item in config.contract_env)
    cluster = attrs.evolve(
        config, daemon_endpoint=InnerListener.TCP, build=None, contract_env=cluster_env
    )
    return build_desired(cluster)


_HOST_PATHS = {
    "CB_CODE_PATH": CODE_MOUNT,
    "CB_CONFIG_FILE": "",
    "CB_ENV_FILE": "",
    "CB_DOCKERFILE": "",
}


def _cluster_value(item: str) -> str:
    name, _, value = item.partition("=")
    return f"{name}={_HOST_PATHS[name]}" if name in _HOST_PATHS else f"{name}={value}"


def _with_public_env(resource: Resource, own: list[str]) -> Resource:
    """Mark the env entries booth set itself and the run-args did not override."""
    kept = frozenset(own)
    public = tuple(item for item in resource.spec.get("Env", []) if item in kept)
    return attrs.evolve(resource, public_env=public)


def _booths_own_env(config: BoothConfig) -> list[str]:
    """Every entry booth may give the booth's env (see ``_booth``)."""
    own = [*config.contract_env, *booth_env(config.daemon_endpoint)]
    return [*own, f"TZ={config.timezone}"] if config.timezone else own


def _with_code_dir(booth: Resource, config: BoothConfig) -> Resource:
    return attrs.evolve(booth, extra_labels=((LABEL_CODE_DIR, config.code_dir),))


def _with_port(resource: Resource, config: BoothConfig) -> Resource:
    """The instance's port as a label (outside the hash): ``port = "NEXT"`` reads it, and
    it tells today's objects from an earlier booth's (``model.is_owned``). A built image
    carries none: every instance of the project shares it."""
    labels = (*resource.extra_labels, (LABEL_PORT, str(config.port)))
    return attrs.evolve(resource, extra_labels=labels)


def _image(build: BuildSpec) -> Resource:
    """The image booth builds: its spec is what the build depends on, as hashes of the
    Dockerfile, the context (paths, sizes, mtimes) and the build args, so a plan rebuilds
    exactly when one of them changes and can say which."""
    fingerprint = build.fingerprint
    assert fingerprint is not None, "the config fingerprints every build"
    spec = {
        "Tag": build.tag,
        "DockerfilePath": build.dockerfile,
        "ContextDir": build.context,
        "BuildArgs": dict(build.build_args),
        "Dockerfile": fingerprint.dockerfile,
        "Context": fingerprint.context,
        "BuildArgsHash": fingerprint.build_args,
    }
    summary = {
        "tag": build.tag,
        "dockerfile": build.dockerfile,
        "context": build.context,
        "build_args": sorted(name for name, _ in build.build_args),  # names only
    }
    resource = make_resource(Role.IMAGE, build.tag, spec, summary)
    public = tuple(f"{k}={v}" for k, v in build.build_args if k in OWN_BUILD_ARGS)
    return attrs.evolve(resource, base_images=build.bases, public_env=public)


def _sidecar(
    config: BoothConfig, network: str, volume: str | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    bindings = config.ports.docker_bindings()
    spec: dict[str, Any] = {
        "Image": config.dind_image,
        "Cmd": sidecar_command(config.daemon_endpoint),
        "Env": list(SIDECAR_ENV),
        "ExposedPorts": {key: {} for key in bindings},
        "HostConfig": {
            "Privileged": True,
            "NetworkMode": network,
            "PortBindings": bindings,
            "Binds": [str(VolumeSpec(volume, DOCKER_DATA))] if volume else [],
            "Tmpfs": dict(SIDECAR_TMPFS),
        },
    }
    if config.daemon_endpoint == InnerListener.UNIX:
        spec["Volumes"] = {SOCKET_DIR: {}}
    _merge_fields(spec, config.namespace_fields)
    return spec, container_summary(spec, config.ports)


def _booth(
    config: BoothConfig, *, network_mode: str, ports: PortSet | None, in_namespace: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The booth: defaults, then every flag's field as the flag table filled it."""
    spec: dict[str, Any] = {
        "Image": config.image,
        # CodingBooth runs every booth with -w /home/coder/code; a run-arg -w wins.
        "WorkingDir": CODE_MOUNT,
        "HostConfig": {
            "NetworkMode": network_mode,
            # An init reaps zombies and forwards SIGTERM, so `stop` does not wait out the
            # 10 s timeout when the booth's command ignores signals.
            "Init": True,
            "Privileged": False,
        },
    }
    if config.cmds is not None:
        spec["Cmd"] = list(config.cmds)
    if config.daemon and not config.keep_alive:
        # CodingBooth's daemon booth runs with --rm: gone once its command ends
        # (`keep-alive` keeps it, stopped, as there).
        spec["HostConfig"]["AutoRemove"] = True
    if ports is not None:
        bindings = ports.docker_bindings()
        spec["HostConfig"]["PortBindings"] = bindings
        spec["ExposedPorts"] = {key: {} for key in bindings}
    if not in_namespace:
        _merge_fields(spec, config.namespace_fields)
    _merge_fields(spec, config.booth_fields)
    host = spec["HostConfig"]
    host["Binds"] = [str(VolumeSpec(config.code_dir, CODE_MOUNT)), *host.get("Binds", [])]
    # CodingBooth's order: common-args, then DOCKER_HOST and its contract (-w included),
    # then the run-args (a run-arg -e overrides them), TZ last (the timezone key wins).
    contract = [*(booth_env(config.daemon_endpoint) if config.dind else ()), *config.contract_env]
    if config.common_args:
        env = [*spec.get("Env", []), *contract, *config.run_arg_env]
        spec["WorkingDir"] = config.run_arg_workdir or CODE_MOUNT
    else:
        env = [*contract, *spec.get("Env", [])]
    if config.timezone:
        env.append(f"TZ={config.timezone}")
    spec["Env"] = _canonical_env(env)
    return spec, container_summary(spec, ports)


def _merge_fields(spec: dict[str, Any], fields: ContainerFields) -> None:
    """Copy flag-filled fields into ``spec``; ``HostConfig.X`` goes into ``HostConfig``.

    A boolean field that is false and has no default here is left out: false is the
    engine's own default, and leaving it out keeps the spec (and its hash) the same as
    a booth configured without the flag.
    """
    for field, value in fields.items():
        parent, _, key = field.rpartition(".")
        target = spec["HostConfig"] if parent == "HostConfig" else spec
        if value is False and key not in target:
            continue
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            # a mapping adds to what is there (--expose to the published ports,
            # the booth's --sysctl to the namespace's)
            target[key] = {**target[key], **copy.deepcopy(value)}
            continue
        target[key] = copy.deepcopy(value)


def _canonical_env(env: list[str]) -> list[str]:
    """Later values win, as with docker run; then sorted, since order no longer matters."""
    by_key: dict[str, str] = {}
    for item in env:
        key, _, _ = item.partition("=")
        by_key[key] = item
    return [by_key[key] for key in sorted(by_key)]


def container_summary(spec: dict[str, Any], ports: PortSet | None) -> dict[str, Any]:
    """What a reviewer must see: everything security- or resource-relevant.

    Env shows names only, never values. Absent limits are ``null``, absent lists empty.
    """
    host = spec["HostConfig"]
    nano_cpus = host.get("NanoCpus")
    return {
        "image": spec["Image"],
        "command": spec.get("Cmd"),
        "init": bool(host.get("Init")),
        "privileged": bool(host.get("Privileged")),
        "user": spec.get("User") or None,
        "cap_add": list(host.get("CapAdd", [])),
        "cap_drop": list(host.get("CapDrop", [])),
        "devices": [_device(device) for device in host.get("Devices", [])],
        "security_opt": list(host.get("SecurityOpt", [])),
        "mounts": _mounts(spec),
        "tmpfs": dict(sorted(host.get("Tmpfs", {}).items())),
        "memory": host.get("Memory") or None,
        "cpus": nano_cpus / 1e9 if nano_cpus else None,
        "shm_size": host.get("ShmSize") or None,
        "network_mode": host.get("NetworkMode"),
        "ports": ports.canonical() if ports is not None else [],
        "env": [item.partition("=")[0] for item in spec.get("Env", [])],
        "labels": dict(sorted(spec.get("Labels", {}).items())),
        **_runtime_summary(host),
    }


def _runtime_summary(host: dict[str, Any]) -> dict[str, Any]:
    """Namespaces shared with the host, extra groups, GPUs, limits, kernel settings and
    the lifecycle: what the flags CodingBooth passes through change."""
    policy = host.get("RestartPolicy") or {}
    retries = policy.get("MaximumRetryCount")
    restart = policy.get("Name") and f"{policy['Name']}{f':{retries}' if retries else ''}"
    return {
        "ipc_mode": host.get("IpcMode") or None,
        "pid_mode": host.get("PidMode") or None,
        "group_add": list(host.get("GroupAdd", [])),
        "gpus": [_gpus(request) for request in host.get("DeviceRequests", [])],
        "ulimits": [f"{u['Name']}={u['Soft']}:{u['Hard']}" for u in host.get("Ulimits", [])],
        "sysctls": dict(sorted(host.get("Sysctls", {}).items())),
        "restart": restart or None,
        "auto_remove": bool(host.get("AutoRemove")),
    }


def _gpus(request: dict[str, Any]) -> str:
    """A device request as ``--gpus`` would write it."""
    count = request.get("Count", 0)
    parts = [f"count={'all' if count == -1 else count}"] if count else []
    if request.get("DeviceIDs"):
        parts.append(f"device={','.join(request['DeviceIDs'])}")
    if request.get("Driver"):
        parts.append(f"driver={request['Driver']}")
    capabilities = [c for group in request.get("Capabilities", []) for c in group if c != "gpu"]
    if capabilities:
        parts.append(f"capabilities={','.join(capabilities)}")
    return " ".join(parts)


def _device(device: dict[str, str]) -> str:
    return f"{device['PathOnHost']}:{device['PathInContainer']}:{device['CgroupPermissions']}"


def _mounts(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Binds (``-v src:dst[:opts]``), ``--mount`` and anonymous volumes, in one shape."""
    host = spec["HostConfig"]
    mounts = [_bind(bind) for bind in host.get("Binds", [])]
    mounts += [
        _mount(m.get("Type", "volume"), m.get("Source"), m["Target"], bool(m.get("ReadOnly")))
        for m in host.get("Mounts", [])
    ]
    mounts += [_mount("volume", None, target, False) for target in spec.get("Volumes", {})]
    return sorted(mounts, key=lambda m: (m["target"], m["source"] or "", m["type"]))


def _bind(bind: str) -> dict[str, Any]:
    spec = split_volume(bind, BINDS)
    return _mount("bind" if spec.is_bind else "volume", spec.source, spec.target, spec.read_only)


def _mount(kind: str, source: str | None, target: str, read_only: bool) -> dict[str, Any]:
    return {"type": kind, "source": source or None, "target": target, "read_only": read_only}


__all__ = [
    "DOCKER_HOST_IN_BOOTH",
    "SIDECAR_COMMAND",
    "Resource",
    "build_cluster_desired",
    "build_desired",
]
