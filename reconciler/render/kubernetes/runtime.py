"""The pass-through ``docker run`` flags (``--ipc``, ``--pid``, ``--group-add``,
``--sysctl``, ``--restart``, ``--rm``, ``--gpus``, ``--ulimit``) → Pod fields, or a
refusal naming the field.

A Pod shares these among its containers, so each maps to a Pod-level field (``hostIPC``,
``hostPID``, ``shareProcessNamespace``, ``securityContext.supplementalGroups`` and
``.sysctls``) or has no equivalent and is refused, like every other field nobody maps.
"""

from __future__ import annotations

from typing import Any

from reconciler.core.model import Role
from reconciler.errors import ConfigError

_NO_EQUIVALENT = {
    "Ulimits": "Kubernetes sets no per-container rlimits; the node's runtime defaults apply",
    "DeviceRequests": (
        "a Pod gets GPUs from a device plugin, as a resource limit such as nvidia.com/gpu"
    ),
    "AutoRemove": (
        "a StatefulSet's Pod is restarted when its command ends; nothing removes it then"
    ),
}


def map_runtime(
    role: Role, host: dict[str, Any], pod_fields: dict[str, Any], sidecar: str | None
) -> None:
    """Pop the fields this module maps from ``host`` into ``pod_fields``; refuse the rest."""
    for field, why in _NO_EQUIVALENT.items():
        if host.get(field):
            raise ConfigError(
                f"kubernetes: {role} HostConfig.{field} is not rendered ({why}); remove the "
                "run-arg that sets it"
            )
        host.pop(field, None)
    _ipc(role, host.pop("IpcMode", None) or "", pod_fields)
    _pid(role, host.pop("PidMode", None) or "", pod_fields, sidecar)
    _restart(role, host.pop("RestartPolicy", None) or {})
    security = pod_fields.setdefault("securityContext", {})
    groups = host.pop("GroupAdd", None) or []
    if groups:
        security["supplementalGroups"] = sorted(
            {*security.get("supplementalGroups", []), *(_gid(role, g) for g in groups)}
        )
    sysctls = host.pop("Sysctls", None) or {}
    if sysctls:
        merged = {item["name"]: item["value"] for item in security.get("sysctls", [])}
        merged.update(sysctls)
        security["sysctls"] = [{"name": k, "value": v} for k, v in sorted(merged.items())]
    if not security:
        pod_fields.pop("securityContext")
    if pod_fields.get("hostPID") and pod_fields.get("shareProcessNamespace"):
        raise ConfigError(
            f"kubernetes: {role} HostConfig.PidMode 'host' is not rendered with --init (a "
            "Pod cannot set both hostPID and shareProcessNamespace); add --init=false"
        )


def _ipc(role: Role, mode: str, pod_fields: dict[str, Any]) -> None:
    """``host`` is ``hostIPC``; ``shareable`` is what a Pod's containers already are."""
    if mode == "host":
        pod_fields["hostIPC"] = True
    elif mode not in ("", "shareable"):
        raise ConfigError(
            f"kubernetes: {role} HostConfig.IpcMode {mode!r} is not rendered (a Pod's "
            "containers share one IPC namespace; only host and shareable map)"
        )


def _pid(role: Role, mode: str, pod_fields: dict[str, Any], sidecar: str | None) -> None:
    """``host`` is ``hostPID``; joining the sidecar is ``shareProcessNamespace``."""
    if mode == "host":
        pod_fields["hostPID"] = True
    elif sidecar is not None and mode == f"container:{sidecar}":
        pod_fields["shareProcessNamespace"] = True
    elif mode:
        raise ConfigError(
            f"kubernetes: {role} HostConfig.PidMode {mode!r} is not rendered (only host, "
            "or the sidecar's namespace, has a Pod equivalent)"
        )


def _restart(role: Role, policy: dict[str, Any]) -> None:
    """A StatefulSet's Pod restarts always: on-failure cannot be said."""
    name = policy.get("Name") or "no"
    if name == "on-failure":
        raise ConfigError(
            f"kubernetes: {role} HostConfig.RestartPolicy on-failure is not rendered (a "
            "StatefulSet's Pod has restartPolicy Always); use --restart=always or none"
        )


def _gid(role: Role, group: str) -> int:
    if not group.isdigit():
        raise ConfigError(
            f"kubernetes: {role} HostConfig.GroupAdd {group!r}: Kubernetes takes numeric "
            "group ids only (supplementalGroups); use --group-add GID"
        )
    return int(group)
