"""The desired graph → Kubernetes manifests, for ``booth render kubernetes``.

One StatefulSet of one Pod runs what the Docker graph runs: the DinD sidecar as a native
sidecar (an init container with ``restartPolicy: Always``, so the booth starts only once
the inner daemon answers) and the booth container, which shares the Pod's network
namespace as it shares the sidecar's under Docker. A ClusterIP Service exposes exactly
the port set. Choices and their reasons are in ``docs/kubernetes.md``.

This module assembles the objects; the container mapping is in ``kubernetes_pod`` (with
one-field conversions in ``kubernetes_fields``), the ports in ``kubernetes_ports`` and
the YAML in ``kubernetes_yaml``.

Pure: the same graph and options give the same bytes. It reads the graph only through
the protocols of ``kubernetes_graph``, so it imports neither Docker nor the config.
Every spec field is either mapped or refused with a :class:`ConfigError` naming it: a
field this module does not know (say, one added to ``config/desired.py`` later) is refused too.
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal

import attrs

from reconciler.core.inner_daemon import InnerListener, ping_command
from reconciler.core.model import CODE_MOUNT, LABEL_INSTANCE, LABEL_MANAGED, LABEL_ROLE, Role
from reconciler.core.ports import PortSet
from reconciler.errors import ConfigError
from reconciler.render.kubernetes.fields import is_dns_label
from reconciler.render.kubernetes.graph import GraphLike, ResourceLike
from reconciler.render.kubernetes.pod import CODE_VOLUME, DATA_CLAIM, DOCKER_DATA, Pod, sort_mounts
from reconciler.render.kubernetes.ports import check_ports, service_ports
from reconciler.render.kubernetes.yaml_text import dump_documents

# The oldest Kubernetes whose API has native sidecars on by default.
MIN_KUBERNETES = "1.29"
SIDECAR_CONTAINER, BOOTH_CONTAINER = "dind", "booth"
OWNERSHIP_LABELS = (LABEL_INSTANCE, LABEL_MANAGED, LABEL_ROLE)
PORTS_ANNOTATION = "io.codingbooth.ports"
# The ping booth's own readiness wait runs in the sidecar (``endpoints.ping_command``).
# exec, not tcpSocket: the daemon listens on 127.0.0.1 only, and kubelet probes the Pod IP.
READY_COMMAND = tuple(ping_command(InnerListener.TCP))
PROBE_PERIOD_SECONDS = 1

CodeVolume = Literal["empty-dir", "claim"]

_OBJECT_NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
# A StatefulSet's pods carry "<name>-<10-char hash>" as a label value (at most 63).
_MAX_OBJECT_NAME = 52
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")


def render_kubernetes(graph: GraphLike, **options: Any) -> str:
    """Multi-document YAML (a Service, then a StatefulSet) for ``graph``; ``options`` are
    those of :func:`kubernetes_documents`. Raises :class:`ConfigError` for what has no
    Kubernetes equivalent."""
    documents = kubernetes_documents(graph, **options)
    return dump_documents(documents, header=_header(documents, options.get("namespace")))


def kubernetes_documents(
    graph: GraphLike,
    *,
    ports: PortSet,
    namespace: str | None = None,
    ready_timeout: float = 120.0,
    code_volume: CodeVolume = "empty-dir",
    data_size: str = "20Gi",
    code_size: str = "5Gi",
    pull: bool = False,
) -> list[dict[str, Any]]:
    """The objects :func:`render_kubernetes` prints, as plain data.

    ``ports`` is the graph's port set (``BoothConfig.ports``); it must be the one the
    graph's port-owning container publishes. ``ready_timeout`` bounds the sidecar's
    startup probe. ``code_volume`` says what holds the code directory: an emptyDir
    (lost with the Pod) or a claim kept like the data claim; either is filled with
    ``kubectl cp``. ``pull`` (the config's ``pull = true``): the kubelet pulls the images
    whenever it starts a container (``imagePullPolicy: Always``), as booth pulls them
    before every apply.
    """
    roles = {Role(resource.role): resource for resource in graph}
    booth, sidecar = _booth_and_sidecar(graph, roles)
    owner = sidecar or booth
    check_ports(owner, ports)
    name = _object_name(booth.name)
    options = _Options(
        namespace=namespace,
        data_size=data_size,
        code_size=code_size,
        code_volume=code_volume,
        ready_timeout=ready_timeout,
    )
    volume = roles.get(Role.VOLUME)
    pod = Pod(
        network=roles.get(Role.NETWORK),
        sidecar_name=sidecar.name if sidecar else None,
        volume_name=volume.name if volume else None,
        code_claim=options.code_volume == "claim",
        pull_policy="Always" if pull else "IfNotPresent",
    )
    init_containers = [] if sidecar is None else [_sidecar(pod, sidecar, ports, options)]
    main = pod.container(BOOTH_CONTAINER, booth, owner=sidecar is None, ports=ports)
    sort_mounts(main)
    claims = _claims(pod, graph.instance, volume=volume, booth=booth, options=options)
    booth_labels = _labels(booth, graph.instance)
    selector = {key: booth_labels[key] for key in (LABEL_INSTANCE, LABEL_MANAGED)}
    service = _service(name, namespace, _labels(owner, graph.instance), selector, ports)
    template = _template(pod, booth_labels, main, init_containers)
    statefulset = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": _metadata(name, namespace, booth_labels, None),
        "spec": _workload_spec(name, selector, template, claims),
    }
    return [service, statefulset]


def _check_namespace(_: object, __: attrs.Attribute[str | None], namespace: str | None) -> None:
    if namespace is not None and not is_dns_label(namespace):
        raise ConfigError(
            f"kubernetes: namespace {namespace!r} is not a DNS label "
            "(lower-case letters, digits and '-', at most 63 characters)"
        )


def _check_size(_: object, attribute: attrs.Attribute[str], size: str) -> None:
    if not _QUANTITY.match(size):
        what = attribute.name.replace("_", " ")
        raise ConfigError(f"kubernetes: {what} {size!r} is not a quantity like 20Gi")


def _check_code_volume(_: object, __: attrs.Attribute[str], code_volume: str) -> None:
    if code_volume not in ("empty-dir", "claim"):
        raise ValueError(f"code_volume must be 'empty-dir' or 'claim', not {code_volume!r}")


@attrs.frozen
class _Options:
    """The rendering options, checked once (in this order) so the builders can trust them."""

    namespace: str | None = attrs.field(validator=_check_namespace)
    data_size: str = attrs.field(validator=_check_size)
    code_size: str = attrs.field(validator=_check_size)
    code_volume: CodeVolume = attrs.field(validator=_check_code_volume)
    ready_timeout: float


def _booth_and_sidecar(
    graph: GraphLike, roles: dict[Role, ResourceLike]
) -> tuple[ResourceLike, ResourceLike | None]:
    """The two containers; a graph without them is a bug upstream, not a user mistake."""
    booth = roles.get(Role.BOOTH)
    if booth is None:
        raise ValueError(f"desired graph of {graph.instance!r} has no booth resource")
    sidecar = roles.get(Role.SIDECAR) if graph.dind else None
    if graph.dind and sidecar is None:
        raise ValueError(f"desired graph of {graph.instance!r} is dind but has no sidecar")
    return booth, sidecar


def _sidecar(pod: Pod, sidecar: ResourceLike, ports: PortSet, options: _Options) -> dict[str, Any]:
    """The DinD container as a native sidecar, started before the booth once it answers."""
    dind = pod.container(SIDECAR_CONTAINER, sidecar, owner=True, ports=ports)
    dind["restartPolicy"] = "Always"
    dind["startupProbe"] = {
        "exec": {"command": list(READY_COMMAND)},
        "periodSeconds": PROBE_PERIOD_SECONDS,
        "failureThreshold": max(1, math.ceil(options.ready_timeout / PROBE_PERIOD_SECONDS)),
    }
    if not any(m["mountPath"] == DOCKER_DATA for m in dind["volumeMounts"]):
        # docker:dind declares VOLUME /var/lib/docker, which Kubernetes ignores; without
        # a volume the inner daemon would run overlayfs on the container's overlayfs.
        dind["volumeMounts"].append(pod.empty_dir(DATA_CLAIM, DOCKER_DATA))
    sort_mounts(dind)
    return dind


def _claims(
    pod: Pod,
    instance: str,
    *,
    volume: ResourceLike | None,
    booth: ResourceLike,
    options: _Options,
) -> list[dict[str, Any]]:
    """The claims the mapped containers mount, labelled as the resources they stand for."""
    claims = []
    if pod.uses_data_claim:
        assert volume is not None
        claims.append(_claim(DATA_CLAIM, options.data_size, _labels(volume, instance)))
    if pod.code_claim:
        claims.append(_claim(CODE_VOLUME, options.code_size, _labels(booth, instance)))
    return claims


def _template(
    pod: Pod,
    labels: dict[str, str],
    main: dict[str, Any],
    init_containers: list[dict[str, Any]],
) -> dict[str, Any]:
    """The Pod template: the containers and what they collected at the Pod level."""
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
    metadata: dict[str, Any] = {"labels": labels}
    if pod.annotations:
        metadata["annotations"] = pod.annotations
    return {"metadata": metadata, "spec": pod_spec}


def _service(
    name: str,
    namespace: str | None,
    labels: dict[str, str],
    selector: dict[str, str],
    ports: PortSet,
) -> dict[str, Any]:
    """ClusterIP, never wider: Docker binds to 127.0.0.1 by default (docs/kubernetes.md)."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(
            name, namespace, labels, {PORTS_ANNOTATION: " ".join(ports.canonical())}
        ),
        "spec": {"type": "ClusterIP", "selector": selector, "ports": service_ports(ports)},
    }


def _workload_spec(
    name: str,
    selector: dict[str, str],
    template: dict[str, Any],
    claims: list[dict[str, Any]],
) -> dict[str, Any]:
    """One replica: a booth is one workspace, and its claims are its own."""
    spec: dict[str, Any] = {
        "replicas": 1,
        "serviceName": name,
        "selector": {"matchLabels": selector},
        "template": template,
    }
    if claims:
        spec["volumeClaimTemplates"] = claims
        # Deleting the StatefulSet keeps the data, as `booth destroy` without --volumes.
        spec["persistentVolumeClaimRetentionPolicy"] = {
            "whenDeleted": "Retain",
            "whenScaled": "Retain",
        }
    return spec


def _header(documents: list[dict[str, Any]], namespace: str | None) -> str:
    name = documents[-1]["metadata"]["name"]
    ns = f" -n {namespace}" if namespace else ""
    return (
        f"# booth {name}: apply with `kubectl apply --server-side -f -`.\n"
        f"# The code directory {CODE_MOUNT} starts empty: fill it with\n"
        f"# `kubectl cp{ns} DIR {name}-0:{CODE_MOUNT} -c {BOOTH_CONTAINER}`.\n"
    )


def _object_name(name: str) -> str:
    if not _OBJECT_NAME.match(name) or len(name) > _MAX_OBJECT_NAME:
        raise ConfigError(
            f"kubernetes: name {name!r} is not a valid Kubernetes object name (lower-case "
            f"letters, digits and '-', starting with a letter, at most {_MAX_OBJECT_NAME} "
            "characters); set `name` in the config"
        )
    return name


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


__all__ = [
    "MIN_KUBERNETES",
    "CodeVolume",
    "GraphLike",
    "ResourceLike",
    "kubernetes_documents",
    "render_kubernetes",
]
