"""The desired graph → Kubernetes manifests, for ``booth render kubernetes``.

One StatefulSet of one Pod runs what the Docker graph runs: the DinD sidecar as a native
sidecar (an init container with ``restartPolicy: Always``, so the booth starts only once
the inner daemon answers) and the booth container, which shares the Pod's network
namespace as it shares the sidecar's under Docker. A ClusterIP Service exposes exactly
the port set. Choices and their reasons are in ``docs/kubernetes.md``.

Pure: the same graph and options give the same bytes. It reads the graph only through
the attributes the two protocols below name, so it imports neither Docker nor the config.
Every spec field is either mapped or refused with a :class:`ConfigError` naming it: a
field this module does not know (say, one added to ``desired.py`` later) is refused too.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Iterator, Mapping
from typing import Any, Literal, Protocol

import yaml

from reconciler.errors import ConfigError
from reconciler.model import CODE_MOUNT, LABEL_INSTANCE, LABEL_MANAGED, LABEL_ROLE
from reconciler.ports import DAEMON_PORT, PortMapping, PortSet

# The oldest Kubernetes whose API has native sidecars on by default.
MIN_KUBERNETES = "1.29"
DOCKER_DATA = "/var/lib/docker"
SIDECAR_CONTAINER, BOOTH_CONTAINER = "dind", "booth"
DATA_CLAIM, CODE_VOLUME = "dind-data", "code"
OWNERSHIP_LABELS = (LABEL_INSTANCE, LABEL_MANAGED, LABEL_ROLE)
PORTS_ANNOTATION = "io.codingbooth.ports"
# The same check booth's own readiness wait runs in the sidecar (execute.READY_SCRIPT).
# exec, not tcpSocket: the daemon listens on 127.0.0.1 only, and kubelet probes the Pod IP.
PING = f"http://127.0.0.1:{DAEMON_PORT}/_ping"
READY_COMMAND = ("sh", "-c", f"wget -q -O- {PING} || busybox wget -q -O- {PING}")
PROBE_PERIOD_SECONDS = 1

CodeVolume = Literal["empty-dir", "claim"]

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_OBJECT_NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
# A StatefulSet's pods carry "<name>-<10-char hash>" as a label value (at most 63).
_MAX_OBJECT_NAME = 52
_QUALIFIED_NAME = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")
_DOCKER_SIZE = re.compile(r"^([0-9]+)([bkmg]?)$", re.I)
_DOCKER_SIZE_UNITS = {"": "", "b": "", "k": "Ki", "m": "Mi", "g": "Gi"}


class ResourceLike(Protocol):
    """What this module reads of a desired resource (``reconciler.desired.Resource``)."""

    @property
    def role(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def spec(self) -> Mapping[str, Any]: ...
    def labels(self, instance: str) -> Mapping[str, str]: ...


class GraphLike(Protocol):
    """What this module reads of the desired graph (``reconciler.desired.DesiredGraph``)."""

    @property
    def instance(self) -> str: ...
    @property
    def dind(self) -> bool: ...
    def __iter__(self) -> Iterator[ResourceLike]: ...


def render_kubernetes(
    graph: GraphLike,
    *,
    ports: PortSet,
    namespace: str | None = None,
    ready_timeout: float = 120.0,
    code_volume: CodeVolume = "empty-dir",
    data_size: str = "20Gi",
    code_size: str = "5Gi",
) -> str:
    """Multi-document YAML (a Service, then a StatefulSet) for ``graph``.

    ``ports`` is the graph's port set (``BoothConfig.ports``); it must be the one the
    graph's port-owning container publishes. ``ready_timeout`` bounds the sidecar's
    startup probe. ``code_volume`` says what holds the code directory: an emptyDir
    (lost with the Pod) or a claim kept like the data claim; either is filled with
    ``kubectl cp``. Raises :class:`ConfigError` for what has no Kubernetes equivalent.
    """
    documents = kubernetes_documents(
        graph,
        ports=ports,
        namespace=namespace,
        ready_timeout=ready_timeout,
        code_volume=code_volume,
        data_size=data_size,
        code_size=code_size,
    )
    return dump_documents(documents, header=_header(documents, namespace))


def kubernetes_documents(
    graph: GraphLike,
    *,
    ports: PortSet,
    namespace: str | None = None,
    ready_timeout: float = 120.0,
    code_volume: CodeVolume = "empty-dir",
    data_size: str = "20Gi",
    code_size: str = "5Gi",
) -> list[dict[str, Any]]:
    """The objects :func:`render_kubernetes` prints, as plain data."""
    roles = {str(resource.role): resource for resource in graph}
    booth = roles.get("booth")
    if booth is None:
        raise ValueError(f"desired graph of {graph.instance!r} has no booth resource")
    sidecar = roles.get("sidecar") if graph.dind else None
    if graph.dind and sidecar is None:
        raise ValueError(f"desired graph of {graph.instance!r} is dind but has no sidecar")
    owner = sidecar or booth
    _check_ports(owner, ports)
    name = _object_name(booth.name)
    if namespace is not None:
        _check_namespace(namespace)
    for size, what in ((data_size, "data size"), (code_size, "code size")):
        if not _QUANTITY.match(size):
            raise ConfigError(f"kubernetes: {what} {size!r} is not a quantity like 20Gi")
    if code_volume not in ("empty-dir", "claim"):
        raise ValueError(f"code_volume must be 'empty-dir' or 'claim', not {code_volume!r}")

    volume = roles.get("volume")
    pod = _Pod(
        network=roles.get("network"),
        sidecar_name=sidecar.name if sidecar else None,
        volume_name=volume.name if volume else None,
        code_claim=code_volume == "claim",
    )
    init_containers = []
    if sidecar is not None:
        dind = pod.container(SIDECAR_CONTAINER, sidecar, owner=True, ports=ports)
        dind["restartPolicy"] = "Always"
        dind["startupProbe"] = {
            "exec": {"command": list(READY_COMMAND)},
            "periodSeconds": PROBE_PERIOD_SECONDS,
            "failureThreshold": max(1, math.ceil(ready_timeout / PROBE_PERIOD_SECONDS)),
        }
        if not any(m["mountPath"] == DOCKER_DATA for m in dind["volumeMounts"]):
            # docker:dind declares VOLUME /var/lib/docker, which Kubernetes ignores; without
            # a volume the inner daemon would run overlayfs on the container's overlayfs.
            dind["volumeMounts"].append(pod.empty_dir(DATA_CLAIM, DOCKER_DATA))
        _sort_mounts(dind)
        init_containers.append(dind)
    main = pod.container(BOOTH_CONTAINER, booth, owner=sidecar is None, ports=ports)
    _sort_mounts(main)

    claims = []
    if pod.uses_data_claim:
        assert volume is not None
        claims.append(_claim(DATA_CLAIM, data_size, _labels(volume, graph.instance)))
    if pod.code_claim:
        claims.append(_claim(CODE_VOLUME, code_size, _labels(booth, graph.instance)))

    pod_spec: dict[str, Any] = {
        # booth gives the workspace no cluster credentials, as Docker gives it none.
        "automountServiceAccountToken": False,
        # Service links would add *_SERVICE_HOST variables the spec does not have.
        "enableServiceLinks": False,
        "containers": [main],
        **pod.pod_fields,
    }
    if init_containers:
        pod_spec["initContainers"] = init_containers
    if pod.volumes:
        pod_spec["volumes"] = [pod.volumes[key] for key in sorted(pod.volumes)]

    booth_labels = _labels(booth, graph.instance)
    selector = {key: booth_labels[key] for key in (LABEL_INSTANCE, LABEL_MANAGED)}
    template_metadata: dict[str, Any] = {"labels": booth_labels}
    if pod.annotations:
        template_metadata["annotations"] = pod.annotations
    workload_spec: dict[str, Any] = {
        "replicas": 1,
        "serviceName": name,
        "selector": {"matchLabels": selector},
        "template": {"metadata": template_metadata, "spec": pod_spec},
    }
    if claims:
        workload_spec["volumeClaimTemplates"] = claims
        # Deleting the StatefulSet keeps the data, as `booth destroy` without --volumes.
        workload_spec["persistentVolumeClaimRetentionPolicy"] = {
            "whenDeleted": "Retain",
            "whenScaled": "Retain",
        }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(
            name,
            namespace,
            _labels(owner, graph.instance),
            {PORTS_ANNOTATION: " ".join(ports.canonical())},
        ),
        "spec": {"type": "ClusterIP", "selector": selector, "ports": service_ports(ports)},
    }
    statefulset = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": _metadata(name, namespace, booth_labels, None),
        "spec": workload_spec,
    }
    return [service, statefulset]


def dump_documents(documents: list[dict[str, Any]], *, header: str = "") -> str:
    """Multi-document YAML, keys sorted, no anchors: the same data gives the same bytes."""
    body = yaml.dump_all(
        documents,
        Dumper=_Dumper,
        sort_keys=True,
        default_flow_style=False,
        explicit_start=True,
        allow_unicode=False,
        width=1_000_000,
    )
    return header + body


class _Dumper(yaml.SafeDumper):
    """SafeDumper without aliases: a dict used twice is printed twice, not as ``*id001``."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _header(documents: list[dict[str, Any]], namespace: str | None) -> str:
    name = documents[-1]["metadata"]["name"]
    ns = f" -n {namespace}" if namespace else ""
    return (
        f"# booth {name}: apply with `kubectl apply --server-side -f -`.\n"
        f"# The code directory {CODE_MOUNT} starts empty: fill it with\n"
        f"# `kubectl cp{ns} DIR {name}-0:{CODE_MOUNT} -c {BOOTH_CONTAINER}`.\n"
    )


def service_ports(ports: PortSet) -> list[dict[str, Any]]:
    """One ServicePort per (port, protocol): the host port clients use → the container port.

    Kubernetes has no port ranges, so ranges are expanded. An ephemeral host port becomes
    the container port; a pick-from-range host span becomes its first port.
    """
    by_key: dict[tuple[int, str], tuple[int, PortMapping]] = {}
    for mapping in ports.mappings:
        for unit in mapping.units():
            port = unit.container_start if unit.host_start is None else unit.host_start
            key = (port, unit.proto)
            seen = by_key.setdefault(key, (unit.container_start, unit))
            if seen[0] != unit.container_start:
                raise ConfigError(
                    f"kubernetes: port {port}/{unit.proto} is published for two container "
                    f"ports ({seen[1].canonical()} and {unit.canonical()}); a Service port "
                    "has one target"
                )
    return [
        {
            "name": f"{proto}-{port}",
            "port": port,
            "protocol": proto.upper(),
            "targetPort": target,
        }
        for (port, proto), (target, _) in sorted(by_key.items())
    ]


def container_ports(ports: PortSet) -> list[dict[str, Any]]:
    units = {(u.container_start, u.proto) for m in ports.mappings for u in m.units()}
    return [{"containerPort": p, "protocol": proto.upper()} for p, proto in sorted(units)]


class _Pod:
    """Collects what containers add at the Pod level: volumes, DNS, hostname, annotations."""

    def __init__(
        self,
        *,
        network: ResourceLike | None,
        sidecar_name: str | None,
        volume_name: str | None,
        code_claim: bool,
    ) -> None:
        self.network_name = network.name if network is not None else None
        self.sidecar_name = sidecar_name
        self.volume_name = volume_name
        self.code_claim = code_claim
        self.uses_data_claim = False
        self.volumes: dict[str, dict[str, Any]] = {}
        self.pod_fields: dict[str, Any] = {}
        self.annotations: dict[str, str] = {}

    def empty_dir(
        self, name: str, path: str, *, memory: bool = False, size: str | None = None
    ) -> dict[str, Any]:
        source: dict[str, Any] = {}
        if memory:
            source["medium"] = "Memory"
        if size is not None:
            source["sizeLimit"] = size
        self.volumes[name] = {"name": name, "emptyDir": source}
        return {"name": name, "mountPath": path}

    def container(
        self, name: str, resource: ResourceLike, *, owner: bool, ports: PortSet
    ) -> dict[str, Any]:
        """Map one container spec; every field left over afterwards is refused."""
        role = str(resource.role)
        spec = dict(resource.spec)
        host = dict(spec.pop("HostConfig", None) or {})
        container: dict[str, Any] = {
            "name": name,
            "image": spec.pop("Image"),
            "imagePullPolicy": "IfNotPresent",  # booth pulls only what is missing
            "volumeMounts": [],
        }
        if spec.get("Entrypoint"):
            container["command"] = [_escape(word) for word in spec.pop("Entrypoint")]
        if spec.get("Cmd"):
            container["args"] = [_escape(word) for word in spec.pop("Cmd")]
        if spec.get("Env"):
            container["env"] = [_env(role, item) for item in spec.pop("Env")]
        if spec.get("WorkingDir"):
            container["workingDir"] = spec.pop("WorkingDir")
        for docker_key, key in (("Tty", "tty"), ("OpenStdin", "stdin")):
            if spec.get(docker_key):
                container[key] = bool(spec.pop(docker_key))
        if spec.get("Labels"):
            self.annotations.update(_annotations(role, spec.pop("Labels")))
        self._network(role, host.pop("NetworkMode", None), owner)
        exposed = spec.pop("ExposedPorts", None)
        bindings = host.pop("PortBindings", None)
        if owner:
            container["ports"] = container_ports(ports)
        elif exposed or bindings:
            raise ConfigError(f"kubernetes: {role} publishes ports, but the sidecar owns them")
        if owner:
            self._namespace(role, spec, host)
        security = self._security(role, spec, host)
        if security:
            container["securityContext"] = security
        resources = _resources(host)
        if resources:
            container["resources"] = {"limits": resources}
        if host.get("Init"):
            host.pop("Init")
            # The pause process is PID 1 and reaps zombies; the program, no longer PID 1,
            # gets SIGTERM's default action: what `docker run --init` gives.
            self.pod_fields["shareProcessNamespace"] = True
        container["volumeMounts"] += self._mounts(name, role, spec, host)
        _refuse_leftovers(role, spec, "")
        _refuse_leftovers(role, host, "HostConfig.")
        return container

    def _network(self, role: str, mode: str | None, owner: bool) -> None:
        if owner:
            allowed = {"default", "bridge", self.network_name}
        else:
            allowed = {f"container:{self.sidecar_name}"}
        if mode is not None and mode not in allowed:
            raise ConfigError(
                f"kubernetes: {role} HostConfig.NetworkMode {mode!r} has no Kubernetes "
                "equivalent (a Pod has its own network namespace only)"
            )

    def _namespace(self, role: str, spec: dict[str, Any], host: dict[str, Any]) -> None:
        """Hostname, DNS and extra hosts belong to the shared namespace: Pod fields."""
        hostname = spec.pop("Hostname", None)
        if hostname:
            if not _DNS_LABEL.match(hostname) or len(hostname) > 63:
                raise ConfigError(
                    f"kubernetes: {role} Hostname {hostname!r} is not a DNS label "
                    "(lower-case letters, digits, '-')"
                )
            self.pod_fields["hostname"] = hostname
        dns_config: dict[str, Any] = {}
        if host.get("Dns"):
            dns_config["nameservers"] = list(host.pop("Dns"))
            # --dns replaces the resolver's servers; so does dnsPolicy None.
            self.pod_fields["dnsPolicy"] = "None"
        if host.get("DnsSearch"):
            dns_config["searches"] = list(host.pop("DnsSearch"))
        if host.get("DnsOptions"):
            dns_config["options"] = [_dns_option(o) for o in host.pop("DnsOptions")]
        if dns_config:
            self.pod_fields["dnsConfig"] = dns_config
        if host.get("ExtraHosts"):
            self.pod_fields["hostAliases"] = _host_aliases(role, host.pop("ExtraHosts"))

    def _security(self, role: str, spec: dict[str, Any], host: dict[str, Any]) -> dict[str, Any]:
        security: dict[str, Any] = {}
        if host.get("Privileged"):
            security["privileged"] = bool(host.pop("Privileged"))
        capabilities = {
            key: sorted({_capability(c) for c in host.pop(docker_key)})
            for docker_key, key in (("CapAdd", "add"), ("CapDrop", "drop"))
            if host.get(docker_key)
        }
        if capabilities:
            security["capabilities"] = capabilities
        for option in host.pop("SecurityOpt", None) or []:
            security.update(_security_opt(role, option))
        if security.get("privileged") and security.get("allowPrivilegeEscalation") is False:
            raise ConfigError(
                f"kubernetes: {role} is privileged with no-new-privileges, which Kubernetes refuses"
            )
        user = spec.pop("User", None)
        if user:
            security.update(_user(role, user))
        return security

    def _mounts(
        self, container: str, role: str, spec: dict[str, Any], host: dict[str, Any]
    ) -> list[dict[str, Any]]:
        mounts = [self._bind(role, bind) for bind in host.pop("Binds", None) or []]
        for index, path in enumerate(sorted(spec.pop("Volumes", None) or {})):
            mounts.append(self.empty_dir(f"{container}-anon-{index}", path))
        for index, (path, options) in enumerate(sorted((host.pop("Tmpfs", None) or {}).items())):
            size = _tmpfs_size(role, path, options)
            mounts.append(
                self.empty_dir(f"{container}-tmpfs-{index}", path, memory=True, size=size)
            )
        for index, mount in enumerate(host.pop("Mounts", None) or []):
            mounts.append(self._mount(container, role, index, mount))
        shm = host.pop("ShmSize", None)
        if shm:
            mounts.append(
                self.empty_dir(f"{container}-shm", "/dev/shm", memory=True, size=str(shm))
            )
        return mounts

    def _bind(self, role: str, bind: str) -> dict[str, Any]:
        source, _, rest = bind.partition(":")
        target, _, mode = rest.partition(":")
        options = {o for o in mode.split(",") if o} - {"rw"}
        if options - {"ro"}:
            raise ConfigError(
                f"kubernetes: {role} HostConfig.Binds {bind!r}: options "
                f"{','.join(sorted(options - {'ro'}))} have no Kubernetes equivalent"
            )
        if source.startswith("/") and target == CODE_MOUNT and role == "booth":
            mount = self._code()
        elif source and source == self.volume_name and target == DOCKER_DATA:
            self.uses_data_claim = True
            mount = {"name": DATA_CLAIM, "mountPath": DOCKER_DATA}
        elif source.startswith("/"):
            raise ConfigError(
                f"kubernetes: {role} HostConfig.Binds {bind!r}: host paths are not rendered "
                "(a hostPath volume gives the node's files to the Pod); remove the -v"
            )
        else:
            raise ConfigError(
                f"kubernetes: {role} HostConfig.Binds {bind!r}: named volumes other than "
                "booth's data volume are not rendered yet; remove the -v"
            )
        if "ro" in options:
            mount["readOnly"] = True
        return mount

    def _code(self) -> dict[str, Any]:
        if self.code_claim:
            return {"name": CODE_VOLUME, "mountPath": CODE_MOUNT}
        return self.empty_dir(CODE_VOLUME, CODE_MOUNT)

    def _mount(
        self, container: str, role: str, index: int, mount: Mapping[str, Any]
    ) -> dict[str, Any]:
        kind, target = mount.get("Type"), str(mount["Target"])
        if kind == "tmpfs" and not mount.get("Source"):
            result = self.empty_dir(f"{container}-mount-{index}", target, memory=True)
        elif kind == "volume" and not mount.get("Source"):
            result = self.empty_dir(f"{container}-mount-{index}", target)
        else:
            raise ConfigError(
                f"kubernetes: {role} HostConfig.Mounts type={kind} "
                f"source={mount.get('Source')!r}: only anonymous volumes and tmpfs are "
                "rendered (host paths and named volumes are not); remove the --mount"
            )
        if mount.get("ReadOnly"):
            result["readOnly"] = True
        return result


def _check_ports(owner: ResourceLike, ports: PortSet) -> None:
    host = owner.spec.get("HostConfig") or {}
    if (host.get("PortBindings") or {}) != ports.docker_bindings():
        raise ValueError(
            f"the port set does not match what {owner.name!r} publishes in the desired graph"
        )


def _object_name(name: str) -> str:
    if not _OBJECT_NAME.match(name) or len(name) > _MAX_OBJECT_NAME:
        raise ConfigError(
            f"kubernetes: name {name!r} is not a valid Kubernetes object name (lower-case "
            f"letters, digits and '-', starting with a letter, at most {_MAX_OBJECT_NAME} "
            "characters); set `name` in the config"
        )
    return name


def _check_namespace(namespace: str) -> None:
    if not _DNS_LABEL.match(namespace) or len(namespace) > 63:
        raise ConfigError(
            f"kubernetes: namespace {namespace!r} is not a DNS label "
            "(lower-case letters, digits and '-', at most 63 characters)"
        )


def _labels(resource: ResourceLike, instance: str) -> dict[str, str]:
    """The ownership labels; booth's other labels (spec hashes) describe Docker specs."""
    labels = resource.labels(instance)
    result = {}
    for key in OWNERSHIP_LABELS:
        value = str(labels[key])
        if not _LABEL_VALUE.match(value):
            raise ConfigError(f"kubernetes: label {key}={value!r} is not a valid label value")
        result[key] = value
    return result


def _metadata(
    name: str, namespace: str | None, labels: dict[str, str], annotations: dict[str, str] | None
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "labels": labels}
    if namespace is not None:
        metadata["namespace"] = namespace
    if annotations:
        metadata["annotations"] = annotations
    return metadata


def _claim(name: str, size: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": labels},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}},
    }


def _sort_mounts(container: dict[str, Any]) -> None:
    mounts = sorted(container.pop("volumeMounts"), key=lambda m: (m["mountPath"], m["name"]))
    paths = [m["mountPath"] for m in mounts]
    duplicate = next((p for p in paths if paths.count(p) > 1), None)
    if duplicate is not None:
        raise ConfigError(f"kubernetes: {container['name']} mounts two volumes at {duplicate}")
    if mounts:
        container["volumeMounts"] = mounts


def _escape(text: str) -> str:
    """Kubernetes expands ``$(VAR)`` in command, args and env values, Docker does not;
    ``$$`` is its escape for ``$``, so every ``$`` is doubled."""
    return text.replace("$", "$$")


def _env(role: str, item: str) -> dict[str, str]:
    name, _, value = item.partition("=")
    if not _ENV_NAME.match(name):
        raise ConfigError(
            f"kubernetes: {role} Env {name!r} is not a valid Kubernetes variable name "
            "(letters, digits, '_', '-', '.'; not starting with a digit)"
        )
    return {"name": name, "value": _escape(value)}


def _annotations(role: str, labels: Mapping[str, str]) -> dict[str, str]:
    """Container labels (``-l``) become Pod annotations: Kubernetes containers have none,
    and annotation values, unlike label values, may be any string."""
    for key in labels:
        if not _QUALIFIED_NAME.match(key):
            raise ConfigError(
                f"kubernetes: {role} Labels key {key!r} is not a valid annotation key"
            )
    return dict(labels)


_NO_EQUIVALENT = {
    "Devices": "a Pod gets host devices only through a cluster's device plugin",
}


def _refuse_leftovers(role: str, fields: Mapping[str, Any], prefix: str) -> None:
    left = sorted(key for key, value in fields.items() if value not in (None, False, "", [], {}))
    if left:
        why = _NO_EQUIVALENT.get(left[0], "no Kubernetes equivalent is rendered")
        raise ConfigError(
            f"kubernetes: {role} {prefix}{left[0]} is not rendered ({why}); "
            "remove the run-arg that sets it"
        )


def _capability(name: str) -> str:
    return name.upper().removeprefix("CAP_")


def _security_opt(role: str, option: str) -> dict[str, Any]:
    key, _, value = option.replace("=", ":", 1).partition(":")
    if key == "no-new-privileges" and value in ("", "true"):
        return {"allowPrivilegeEscalation": False}
    if key == "no-new-privileges" and value == "false":
        return {}
    if key == "seccomp" and value == "unconfined":
        return {"seccompProfile": {"type": "Unconfined"}}
    raise ConfigError(
        f"kubernetes: {role} HostConfig.SecurityOpt {option!r} is not rendered "
        "(only no-new-privileges and seccomp=unconfined are)"
    )


def _user(role: str, user: str) -> dict[str, int]:
    uid, _, gid = user.partition(":")
    if not uid.isdigit() or (gid and not gid.isdigit()):
        raise ConfigError(
            f"kubernetes: {role} User {user!r}: Kubernetes takes numeric ids only "
            "(runAsUser[:runAsGroup]); use -u UID[:GID]"
        )
    security = {"runAsUser": int(uid)}
    if gid:
        security["runAsGroup"] = int(gid)
    return security


def _resources(host: dict[str, Any]) -> dict[str, str]:
    limits = {}
    memory = host.pop("Memory", None)
    if memory:
        limits["memory"] = str(memory)
    nano = host.pop("NanoCpus", None)
    if nano:
        limits["cpu"] = f"{nano // 1_000_000}m" if nano % 1_000_000 == 0 else f"{nano}n"
    return limits


def _tmpfs_size(role: str, path: str, options: str) -> str | None:
    size = None
    for option in (o.strip() for o in options.split(",") if o.strip()):
        key, _, value = option.partition("=")
        match = _DOCKER_SIZE.match(value) if key == "size" else None
        if match:
            size = match.group(1) + _DOCKER_SIZE_UNITS[match.group(2).lower()]
        elif option != "rw":
            raise ConfigError(
                f"kubernetes: {role} HostConfig.Tmpfs {path!r} option {option!r} has no "
                "Kubernetes equivalent (an emptyDir takes only a size)"
            )
    return size


def _dns_option(option: str) -> dict[str, str]:
    name, sep, value = option.partition(":")
    return {"name": name, "value": value} if sep else {"name": name}


def _host_aliases(role: str, extra_hosts: list[str]) -> list[dict[str, Any]]:
    by_ip: dict[str, list[str]] = {}
    for entry in extra_hosts:
        separator = "=" if "=" in entry else ":"
        hostname, _, ip = entry.partition(separator)
        try:
            address = str(ipaddress.ip_address(ip.strip("[]")))
        except ValueError:
            raise ConfigError(
                f"kubernetes: {role} HostConfig.ExtraHosts {entry!r}: only IP addresses "
                "can be rendered (host-gateway has no Kubernetes equivalent)"
            ) from None
        by_ip.setdefault(address, []).append(hostname)
    return [{"ip": ip, "hostnames": names} for ip, names in sorted(by_ip.items())]


__all__ = [
    "MIN_KUBERNETES",
    "CodeVolume",
    "GraphLike",
    "ResourceLike",
    "kubernetes_documents",
    "render_kubernetes",
]
