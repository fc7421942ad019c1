"""One Docker Engine API field value → its Kubernetes value, or a refusal naming it.

Each function handles one field and knows nothing of Pods: ``kubernetes_pod`` decides
where the result goes. ``role`` is passed only so that a refusal names the container.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from reconciler.core.model import Role
from reconciler.errors import ConfigError

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_QUALIFIED_NAME = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
_DOCKER_SIZE = re.compile(r"^([0-9]+)([bkmg]?)$", re.I)
_DOCKER_SIZE_UNITS = MappingProxyType({"": "", "b": "", "k": "Ki", "m": "Mi", "g": "Gi"})
_NO_EQUIVALENT = MappingProxyType(
    {"Devices": "a Pod gets host devices only through a cluster's device plugin"}
)


def is_dns_label(text: str) -> bool:
    """Hostnames and namespaces share this rule (RFC 1123 label)."""
    return bool(_DNS_LABEL.match(text)) and len(text) <= 63


def escape(text: str) -> str:
    """Kubernetes expands ``$(VAR)`` in command, args and env values, Docker does not;
    ``$$`` is its escape for ``$``, so every ``$`` is doubled."""
    return text.replace("$", "$$")


def env_var(role: Role, item: str) -> dict[str, str]:
    """Docker's ``NAME=VALUE``; Kubernetes checks names more strictly than Docker."""
    name, _, value = item.partition("=")
    if not _ENV_NAME.match(name):
        raise ConfigError(
            f"kubernetes: {role} Env {name!r} is not a valid Kubernetes variable name "
            "(letters, digits, '_', '-', '.'; not starting with a digit)"
        )
    return {"name": name, "value": escape(value)}


def pod_annotations(role: Role, labels: Mapping[str, str]) -> dict[str, str]:
    """Container labels (``-l``) become Pod annotations: Kubernetes containers have none,
    and annotation values, unlike label values, may be any string."""
    for key in labels:
        if not _QUALIFIED_NAME.match(key):
            raise ConfigError(
                f"kubernetes: {role} Labels key {key!r} is not a valid annotation key"
            )
    return dict(labels)


def refuse_leftovers(role: Role, fields: Mapping[str, Any], prefix: str) -> None:
    """A set field nobody mapped would be lost silently: refuse it, naming it."""
    left = sorted(key for key, value in fields.items() if value not in (None, False, "", [], {}))
    if left:
        why = _NO_EQUIVALENT.get(left[0], "no Kubernetes equivalent is rendered")
        raise ConfigError(
            f"kubernetes: {role} {prefix}{left[0]} is not rendered ({why}); "
            "remove the run-arg that sets it"
        )


def capability(name: str) -> str:
    """Docker accepts ``cap_net_admin``; Kubernetes wants ``NET_ADMIN``."""
    return name.upper().removeprefix("CAP_")


def security_opt(role: Role, option: str) -> dict[str, Any]:
    """The ``--security-opt`` values a securityContext can say; the rest are refused."""
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


def run_as(role: Role, user: str) -> dict[str, int]:
    """``-u UID[:GID]``; Kubernetes cannot look a user name up in the image."""
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


def resource_limits(host: dict[str, Any]) -> dict[str, str]:
    """``-m`` and ``--cpus``, popped from ``host`` so they are not refused as leftovers."""
    limits = {}
    memory = host.pop("Memory", None)
    if memory:
        limits["memory"] = str(memory)
    nano = host.pop("NanoCpus", None)
    if nano:
        limits["cpu"] = f"{nano // 1_000_000}m" if nano % 1_000_000 == 0 else f"{nano}n"
    return limits


def tmpfs_size(role: Role, path: str, options: str) -> str | None:
    """An emptyDir takes only a size, so every other tmpfs option is refused."""
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


def dns_option(option: str) -> dict[str, str]:
    """Docker's ``name[:value]``; Kubernetes omits the value of a bare option."""
    name, sep, value = option.partition(":")
    return {"name": name, "value": value} if sep else {"name": name}


def host_aliases(role: Role, extra_hosts: list[str]) -> list[dict[str, Any]]:
    """``--add-host`` entries grouped by address, as hostAliases wants them."""
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
    "capability",
    "dns_option",
    "env_var",
    "escape",
    "host_aliases",
    "is_dns_label",
    "pod_annotations",
    "refuse_leftovers",
    "resource_limits",
    "run_as",
    "security_opt",
    "tmpfs_size",
]
