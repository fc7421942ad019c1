"""A container spec of the Docker Engine API → a Kubernetes container and its Pod fields.

A Docker container owns things a Kubernetes container cannot: volumes, DNS, hostname,
labels, ``--init``. :class:`Pod` maps one container at a time and collects those at the
Pod level. Each field is popped as it is mapped, so whatever is left afterwards is a
field nobody mapped, and is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.core.model import CODE_MOUNT, DOCKER_DATA, Role
from reconciler.core.ports import PortSet
from reconciler.core.volumes import BINDS, VolumeSpec, split_volume
from reconciler.errors import ConfigError
from reconciler.render.kubernetes import fields
from reconciler.render.kubernetes.graph import ResourceLike
from reconciler.render.kubernetes.ports import container_ports
from reconciler.render.kubernetes.runtime import map_runtime

DATA_CLAIM, CODE_VOLUME = "dind-data", "code"


class Pod:
    """Collects what containers add at the Pod level: volumes, DNS, hostname, annotations.

    Mutable on purpose, and short-lived: one is made per rendering and dropped after it.
    """

    def __init__(
        self,
        *,
        network: ResourceLike | None,
        sidecar_name: str | None,
        volume_name: str | None,
        code_claim: bool,
        pull_policy: str = "IfNotPresent",  # booth pulls only what is missing
    ) -> None:
        self.pull_policy = pull_policy
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
        """Add an emptyDir volume and return the mount of it at ``path``."""
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
        role = Role(resource.role)
        spec = dict(resource.spec)
        host = dict(spec.pop("HostConfig", None) or {})
        container: dict[str, Any] = {
            "name": name,
            "image": spec.pop("Image"),
            "imagePullPolicy": self.pull_policy,
            "volumeMounts": [],
            **_process(role, spec),
        }
        if spec.get("Labels"):
            self.annotations.update(fields.pod_annotations(role, spec.pop("Labels")))
        self._network(role, host.pop("NetworkMode", None), owner)
        if _publishes(role, spec, host, owner=owner):
            container["ports"] = container_ports(ports)
            self._namespace(role, spec, host)
        security = self._security(role, spec, host)
        if security:
            container["securityContext"] = security
        resources = fields.resource_limits(host)
        if resources:
            container["resources"] = {"limits": resources}
        if host.pop("Init", None):
            # The pause process is PID 1 and reaps zombies; the program, no longer PID 1,
            # gets SIGTERM's default action: what `docker run --init` gives.
            self.pod_fields["shareProcessNamespace"] = True
        container["volumeMounts"] += self._mounts(name, role, spec, host)
        map_runtime(role, host, self.pod_fields, self.sidecar_name)
        fields.refuse_leftovers(role, spec, "")
        fields.refuse_leftovers(role, host, "HostConfig.")
        return container

    def _network(self, role: Role, mode: str | None, owner: bool) -> None:
        if owner:
            allowed = {"default", "bridge", self.network_name}
        else:
            allowed = {f"container:{self.sidecar_name}"}
        if mode is not None and mode not in allowed:
            raise ConfigError(
                f"kubernetes: {role} HostConfig.NetworkMode {mode!r} has no Kubernetes "
                "equivalent (a Pod has its own network namespace only)"
            )

    def _namespace(self, role: Role, spec: dict[str, Any], host: dict[str, Any]) -> None:
        """Hostname, DNS and extra hosts belong to the shared namespace: Pod fields."""
        hostname = spec.pop("Hostname", None)
        if hostname:
            if not fields.is_dns_label(hostname):
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
            dns_config["options"] = [fields.dns_option(o) for o in host.pop("DnsOptions")]
        if dns_config:
            self.pod_fields["dnsConfig"] = dns_config
        if host.get("ExtraHosts"):
            self.pod_fields["hostAliases"] = fields.host_aliases(role, host.pop("ExtraHosts"))

    def _security(self, role: Role, spec: dict[str, Any], host: dict[str, Any]) -> dict[str, Any]:
        security: dict[str, Any] = {}
        if host.get("Privileged"):
            security["privileged"] = bool(host.pop("Privileged"))
        capabilities = {
            key: sorted({fields.capability(c) for c in host.pop(docker_key)})
            for docker_key, key in (("CapAdd", "add"), ("CapDrop", "drop"))
            if host.get(docker_key)
        }
        if capabilities:
            security["capabilities"] = capabilities
        for option in host.pop("SecurityOpt", None) or []:
            security.update(fields.security_opt(role, option))
        if security.get("privileged") and security.get("allowPrivilegeEscalation") is False:
            raise ConfigError(
                f"kubernetes: {role} is privileged with no-new-privileges, which Kubernetes refuses"
            )
        user = spec.pop("User", None)
        if user:
            security.update(fields.run_as(role, user))
        return security

    def _mounts(
        self, container: str, role: Role, spec: dict[str, Any], host: dict[str, Any]
    ) -> list[dict[str, Any]]:
        mounts = [self._bind(role, bind) for bind in host.pop("Binds", None) or []]
        for index, path in enumerate(sorted(spec.pop("Volumes", None) or {})):
            mounts.append(self.empty_dir(f"{container}-anon-{index}", path))
        for index, (path, options) in enumerate(sorted((host.pop("Tmpfs", None) or {}).items())):
            size = fields.tmpfs_size(role, path, options)
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

    def _bind(self, role: Role, bind: str) -> dict[str, Any]:
        spec = split_volume(bind, BINDS)
        unmapped = spec.options - {"rw", "ro"}
        if unmapped:
            raise ConfigError(
                f"kubernetes: {role} HostConfig.Binds {bind!r}: options "
                f"{','.join(sorted(unmapped))} have no Kubernetes equivalent"
            )
        mount = self._bound_volume(role, bind, spec)
        if spec.read_only:
            mount["readOnly"] = True
        return mount

    def _bound_volume(self, role: Role, bind: str, spec: VolumeSpec) -> dict[str, Any]:
        """Only the code directory and booth's data volume have a Kubernetes home."""
        if spec.is_bind and spec.target == CODE_MOUNT and role == Role.BOOTH:
            return self._code()
        if spec.source and spec.source == self.volume_name and spec.target == DOCKER_DATA:
            self.uses_data_claim = True
            return {"name": DATA_CLAIM, "mountPath": DOCKER_DATA}
        if spec.is_bind:
            raise ConfigError(
                f"kubernetes: {role} HostConfig.Binds {bind!r}: host paths are not rendered "
                "(a hostPath volume gives the node's files to the Pod); remove the -v"
            )
        raise ConfigError(
            f"kubernetes: {role} HostConfig.Binds {bind!r}: named volumes other than "
            "booth's data volume are not rendered yet; remove the -v"
        )

    def _code(self) -> dict[str, Any]:
        if self.code_claim:
            return {"name": CODE_VOLUME, "mountPath": CODE_MOUNT}
        return self.empty_dir(CODE_VOLUME, CODE_MOUNT)

    def _mount(
        self, container: str, role: Role, index: int, mount: Mapping[str, Any]
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


def _process(role: Role, spec: dict[str, Any]) -> dict[str, Any]:
    """The fields that say what runs and how: command, arguments, environment, terminal."""
    process: dict[str, Any] = {}
    if spec.get("Entrypoint"):
        process["command"] = [fields.escape(word) for word in spec.pop("Entrypoint")]
    if spec.get("Cmd"):
        process["args"] = [fields.escape(word) for word in spec.pop("Cmd")]
    if spec.get("Env"):
        process["env"] = [fields.env_var(role, item) for item in spec.pop("Env")]
    if spec.get("WorkingDir"):
        process["workingDir"] = spec.pop("WorkingDir")
    for docker_key, key in (("Tty", "tty"), ("OpenStdin", "stdin")):
        if spec.get(docker_key):
            process[key] = bool(spec.pop(docker_key))
    return process


def _publishes(role: Role, spec: dict[str, Any], host: dict[str, Any], *, owner: bool) -> bool:
    """Whether this container lists the ports: only the owner of the network namespace
    may, as under Docker only it publishes them."""
    exposed = spec.pop("ExposedPorts", None)
    bindings = host.pop("PortBindings", None)
    if not owner and (exposed or bindings):
        raise ConfigError(f"kubernetes: {role} publishes ports, but the sidecar owns them")
    return owner


def sort_mounts(container: dict[str, Any]) -> None:
    """Mounts in path order, so the output does not depend on the order fields were mapped;
    two at one path would make the Pod invalid, so that is refused here."""
    mounts = sorted(container.pop("volumeMounts"), key=lambda m: (m["mountPath"], m["name"]))
    paths = [m["mountPath"] for m in mounts]
    duplicate = next((p for p in paths if paths.count(p) > 1), None)
    if duplicate is not None:
        raise ConfigError(f"kubernetes: {container['name']} mounts two volumes at {duplicate}")
    if mounts:
        container["volumeMounts"] = mounts


__all__ = ["CODE_VOLUME", "DATA_CLAIM", "DOCKER_DATA", "Pod", "sort_mounts"]
