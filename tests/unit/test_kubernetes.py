"""``render_kubernetes``: schema-valid, faithful to the graph, deterministic, refuses loudly.

Every rendered document is validated offline against the Kubernetes OpenAPI schemas that
``kubernetes-validate`` ships (strict: unknown fields fail), for the oldest version with
native sidecars and the newest one shipped. The schemas check shape only, so names,
uniqueness and cross-references are checked here too. No cluster is involved.

Regenerate the golden file after an intended change with ``BOOTH_UPDATE_GOLDEN=1``.
"""

from __future__ import annotations

import enum
import os
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs
import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml
from booth_builders import HOST_IDENTITY
from kubernetes_validate.utils import latest_version  # type: ignore[import-untyped]

from reconciler.config.booth_config import BoothConfig, CliInputs, load_config
from reconciler.config.desired import DesiredGraph, build_cluster_desired
from reconciler.core import model
from reconciler.core.ports import DAEMON_PORT, PortSet, build_port_set
from reconciler.errors import ConfigError
from reconciler.render.kubernetes.manifests import (
    MIN_KUBERNETES,
    CodeVolume,
    kubernetes_documents,
    render_kubernetes,
)

ROOT = Path(__file__).resolve().parents[2]
DIND_EXAMPLE = ROOT / "examples" / "dind-example"
GOLDEN = ROOT / "tests" / "golden"
UPDATE = os.environ.get("BOOTH_UPDATE_GOLDEN") == "1"
VERSIONS = (MIN_KUBERNETES, latest_version())

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_IANA_SVC_NAME = re.compile(r"^(?=.{1,15}$)(?=.*[a-z])[a-z0-9]+(-[a-z0-9]+)*$")

OPTIONS_RUN_ARGS = (
    "-e", "GREETING=hello $(USER) $$",
    "-e", "EMPTY=",
    "--tmpfs", "/scratch:rw,size=64m",
    "--shm-size", "256m",
    "-m", "2g",
    "--cpus", "1.5",
    "--cap-add", "SYS_PTRACE",
    "--cap-drop", "CAP_NET_RAW",
    "--security-opt", "seccomp=unconfined",
    "-u", "1000:1000",
    "-w", "/home/coder/code",
    "-l", "com.example.team=tools",
    "--entrypoint", "/bin/sh",
    "-t", "-i",
    "-v", "/cache",
    "--mount", "type=tmpfs,target=/fast",
    "--hostname", "booth-host",
    "--dns", "10.0.0.53",
    "--dns-search", "example.internal",
    "--dns-option", "ndots:2",
    "--add-host", "db.local:10.1.2.3",
    "--add-host", "cache.local:10.1.2.3",
    "--ipc", "host",
    "--group-add", "44",
    "--sysctl", "net.ipv4.ip_forward=1",
    "--sysctl", "kernel.shmmax=65536",
    "--restart", "unless-stopped",
    "--expose", "8081", "-P",
    "-d",
)  # fmt: skip


@attrs.frozen
class Case:
    """One input of the matrix: config text, command-line additions, render options."""

    toml: str
    publish: tuple[str, ...] = ()
    run_args: tuple[str, ...] = ()
    cmds: tuple[str, ...] | None = None
    namespace: str | None = None
    code_volume: CodeVolume = "empty-dir"
    booth_privileged: bool = False


CASES = {
    "dind-example": Case(toml=""),  # the example's own directory and config
    "dind-example-namespaced": Case(toml="", namespace="team-a"),
    "dind-no-keep-data": Case(toml="dind = true\nkeep-dind-data = false\n"),
    "no-dind": Case(toml="dind = false\n", publish=("8080:8080",)),
    "no-dind-keep-data-namespaced": Case(
        toml="dind = false\nkeep-dind-data = true\n", namespace="dev"
    ),
    "extra-ports": Case(
        toml="dind = true\nport = 12000\n",
        publish=(
            "5000-5002:5000-5002/udp",
            "127.0.0.1:9000:90/sctp",
            "7000-7001",
            "8000-8010:80",
            "0.0.0.0:6000:6000",
            "[::1]:6001:6001/udp",
        ),
        namespace="ports",
    ),
    "daemon-port-allowed": Case(
        toml="dind = true\nallow-daemon-port = true\n", publish=("2375:2375",)
    ),
    "no-dind-publishes-2375": Case(toml="dind = false\n", publish=("2375:2375",)),
    "options-dind": Case(
        toml="dind = true\n",
        run_args=(*OPTIONS_RUN_ARGS, "--privileged"),
        cmds=("-c", "echo $HOME; sleep infinity"),
        booth_privileged=True,
    ),
    "options-no-dind": Case(toml="dind = false\n", run_args=OPTIONS_RUN_ARGS),
    "code-claim": Case(toml="dind = true\n", code_volume="claim"),
    "code-claim-no-data": Case(
        toml="dind = true\nkeep-dind-data = false\n", code_volume="claim", namespace="x"
    ),
}


def load(case: Case, tmp_path: Path, name: str) -> BoothConfig:
    cli = CliInputs(publish=case.publish, run_args=case.run_args, cmds=case.cmds)
    if name.startswith("dind-example"):
        return load_config(str(DIND_EXAMPLE), None, cli, host_env=HOST_IDENTITY)
    code = tmp_path / "app"
    code.mkdir(exist_ok=True)
    config_file = tmp_path / "config.toml"
    config_file.write_text(case.toml, encoding="utf-8")
    return load_config(str(code), str(config_file), cli, host_env=HOST_IDENTITY)


@pytest.fixture(params=sorted(CASES))
def rendered(
    request: pytest.FixtureRequest, tmp_path: Path
) -> tuple[Case, BoothConfig, DesiredGraph, str, list[dict[str, Any]]]:
    case = CASES[request.param]
    config = load(case, tmp_path, request.param)
    graph = build_cluster_desired(config)
    text = render_kubernetes(
        graph, ports=config.ports, namespace=case.namespace, code_volume=case.code_volume
    )
    documents = list(yaml.safe_load_all(text))
    return case, config, graph, text, documents


Rendered = tuple[Case, BoothConfig, DesiredGraph, str, list[dict[str, Any]]]


def pod_spec(documents: list[dict[str, Any]]) -> dict[str, Any]:
    (workload,) = [d for d in documents if d["kind"] == "StatefulSet"]
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def containers(documents: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    spec = pod_spec(documents)
    return {c["name"]: c for c in [*spec.get("initContainers", []), *spec["containers"]]}


def service(documents: list[dict[str, Any]]) -> dict[str, Any]:
    (svc,) = [d for d in documents if d["kind"] == "Service"]
    return svc


def unit_ports(ports: PortSet) -> set[tuple[int, str]]:
    return {(u.container_start, u.proto.upper()) for m in ports.mappings for u in m.units()}


# --- schema and shape -------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_every_document_validates_against_the_kubernetes_schema(
    rendered: Rendered, version: str
) -> None:
    *_, text, documents = rendered
    assert [d["kind"] for d in documents] == ["Service", "StatefulSet"]
    for document in documents:
        kubernetes_validate.validate(document, version, strict=True)
    assert "&id" not in text and "*id" not in text  # no YAML aliases


def test_names_and_references_are_what_the_api_server_would_accept(rendered: Rendered) -> None:
    *_, documents = rendered
    spec = pod_spec(documents)
    (workload,) = [d for d in documents if d["kind"] == "StatefulSet"]
    volumes = [v["name"] for v in spec.get("volumes", [])]
    claims = [c["metadata"]["name"] for c in workload["spec"].get("volumeClaimTemplates", [])]
    assert len(set(volumes + claims)) == len(volumes + claims)
    for name in volumes + claims + list(containers(documents)):
        assert _DNS_LABEL.match(name) and len(name) <= 63, name
    for container in containers(documents).values():
        mounted = [m["name"] for m in container.get("volumeMounts", [])]
        assert set(mounted) <= set(volumes + claims), container["name"]
        paths = [m["mountPath"] for m in container.get("volumeMounts", [])]
        assert len(paths) == len(set(paths))
        keys = [(p["containerPort"], p["protocol"]) for p in container.get("ports", [])]
        assert len(keys) == len(set(keys))
    svc_ports = service(documents)["spec"]["ports"]
    assert all(_IANA_SVC_NAME.match(p["name"]) for p in svc_ports)
    assert len({p["name"] for p in svc_ports}) == len(svc_ports)
    assert len({(p["port"], p["protocol"]) for p in svc_ports}) == len(svc_ports)
    assert workload["spec"]["serviceName"] == service(documents)["metadata"]["name"]
    assert workload["spec"]["replicas"] == 1


# --- invariants --------------------------------------------------------------------------


def test_service_exposes_exactly_the_port_set(rendered: Rendered) -> None:
    _, config, _, _, documents = rendered
    svc = service(documents)
    assert svc["spec"]["type"] == "ClusterIP"
    exposed = {(p["targetPort"], p["protocol"]) for p in svc["spec"]["ports"]}
    assert exposed == unit_ports(config.ports)
    for mapping in config.ports.mappings:
        for unit in mapping.units():
            port = unit.container_start if unit.host_start is None else unit.host_start
            assert {
                "name": f"{unit.proto}-{port}",
                "port": port,
                "protocol": unit.proto.upper(),
                "targetPort": unit.container_start,
            } in svc["spec"]["ports"]
    assert svc["metadata"]["annotations"]["io.codingbooth.ports"].split() == (
        config.ports.canonical()
    )
    owner = containers(documents)["dind" if config.dind else "booth"]
    assert {(p["containerPort"], p["protocol"]) for p in owner["ports"]} == unit_ports(config.ports)
    assert all("hostPort" not in p for p in owner["ports"])


def test_the_daemon_port_is_exposed_only_when_the_port_set_has_it(rendered: Rendered) -> None:
    _, config, _, _, documents = rendered
    in_set = any(m.covers_container_port(DAEMON_PORT) for m in config.ports.mappings)
    svc_ports = service(documents)["spec"]["ports"]
    in_service = any(DAEMON_PORT in (p["port"], p["targetPort"]) for p in svc_ports)
    assert in_service == in_set
    for container in containers(documents).values():
        container_ports = {p["containerPort"] for p in container.get("ports", [])}
        assert (DAEMON_PORT in container_ports) == (in_set and "ports" in container)


def test_the_daemon_port_case_is_in_the_matrix() -> None:
    assert any(str(DAEMON_PORT) in " ".join(case.publish) for case in CASES.values())


def test_privileged_only_where_the_graph_asks(rendered: Rendered) -> None:
    case, config, _, _, documents = rendered
    for name, container in containers(documents).items():
        privileged = container.get("securityContext", {}).get("privileged", False)
        expected = name == "dind" or (name == "booth" and case.booth_privileged)
        assert privileged is expected, name
    assert ("dind" in containers(documents)) == config.dind


def test_every_object_carries_the_ownership_labels(rendered: Rendered) -> None:
    _, _, graph, _, documents = rendered
    roles = {"network", "volume", "sidecar", "booth"}
    labelled = [d["metadata"] for d in documents]
    (workload,) = [d for d in documents if d["kind"] == "StatefulSet"]
    labelled.append(workload["spec"]["template"]["metadata"])
    labelled += [c["metadata"] for c in workload["spec"].get("volumeClaimTemplates", [])]
    for metadata in labelled:
        labels = metadata["labels"]
        assert labels["io.codingbooth.managed"] == "true"
        assert labels["io.codingbooth.instance"] == graph.instance
        assert labels["io.codingbooth.role"] in roles
    selector = service(documents)["spec"]["selector"]
    assert workload["spec"]["selector"]["matchLabels"] == selector
    assert selector.items() <= workload["spec"]["template"]["metadata"]["labels"].items()


def test_namespace_is_on_every_object_or_on_none(rendered: Rendered) -> None:
    case, *_, documents = rendered
    assert [d["metadata"].get("namespace") for d in documents] == [case.namespace] * 2


def test_sidecar_is_native_and_gates_the_booth_on_the_daemon(rendered: Rendered) -> None:
    _, config, graph, _, documents = rendered
    spec = pod_spec(documents)
    if not config.dind:
        assert "initContainers" not in spec
        return
    (dind,) = spec["initContainers"]
    assert dind["restartPolicy"] == "Always"
    probe = dind["startupProbe"]
    assert "127.0.0.1:2375/_ping" in " ".join(probe["exec"]["command"])
    assert probe["periodSeconds"] * probe["failureThreshold"] >= config.ready_timeout
    sidecar = graph.get("sidecar")
    assert sidecar is not None
    assert dind["image"] == sidecar.spec["Image"]
    assert dind["args"] == sidecar.spec["Cmd"]
    assert {"name": "DOCKER_HOST", "value": "tcp://localhost:2375"} in containers(documents)[
        "booth"
    ]["env"]


def test_env_names_and_values_are_the_specs(rendered: Rendered) -> None:
    _, _, graph, _, documents = rendered
    by_container = containers(documents)
    for resource in graph:
        if resource.role not in ("sidecar", "booth"):
            continue
        container = by_container["dind" if resource.role == "sidecar" else "booth"]
        env = [f"{e['name']}={e['value'].replace('$$', '$')}" for e in container.get("env", [])]
        assert env == resource.spec["Env"]


def test_data_claim_exactly_when_the_graph_has_a_volume(rendered: Rendered) -> None:
    case, _, graph, _, documents = rendered
    (workload,) = [d for d in documents if d["kind"] == "StatefulSet"]
    claims = {c["metadata"]["name"] for c in workload["spec"].get("volumeClaimTemplates", [])}
    assert ("dind-data" in claims) == (graph.get("volume") is not None)
    assert ("code" in claims) == (case.code_volume == "claim")
    if claims:
        assert workload["spec"]["persistentVolumeClaimRetentionPolicy"]["whenDeleted"] == "Retain"
    dind = containers(documents).get("dind")
    if dind is not None:
        data = [m for m in dind["volumeMounts"] if m["mountPath"] == "/var/lib/docker"]
        assert [m["name"] for m in data] == ["dind-data"]


def test_code_directory_is_mounted_and_the_host_path_is_not(rendered: Rendered) -> None:
    _, config, _, text, documents = rendered
    booth = containers(documents)["booth"]
    assert {"mountPath": model.CODE_MOUNT, "name": "code"} in booth["volumeMounts"]
    assert config.code_dir not in text
    assert "hostPath" not in text


# --- mappings of run-args ------------------------------------------------------------------


def test_run_args_map_to_their_kubernetes_fields(tmp_path: Path) -> None:
    config = load(CASES["options-dind"], tmp_path, "options-dind")
    documents = kubernetes_documents(build_cluster_desired(config), ports=config.ports)
    spec = pod_spec(documents)
    booth = containers(documents)["booth"]
    assert booth["command"] == ["/bin/sh"]
    assert booth["args"] == ["-c", "echo $$HOME; sleep infinity"]
    assert {"name": "GREETING", "value": "hello $$(USER) $$$$"} in booth["env"]
    assert booth["securityContext"] == {
        "capabilities": {"add": ["SYS_PTRACE"], "drop": ["NET_RAW"]},
        "privileged": True,
        "runAsGroup": 1000,
        "runAsUser": 1000,
        "seccompProfile": {"type": "Unconfined"},
    }
    assert booth["resources"] == {"limits": {"cpu": "1500m", "memory": str(2 * 1024**3)}}
    assert booth["workingDir"] == "/home/coder/code"
    assert booth["tty"] is True and booth["stdin"] is True
    mounts = {m["mountPath"]: m["name"] for m in booth["volumeMounts"]}
    volumes = {v["name"]: v["emptyDir"] for v in spec["volumes"]}
    assert volumes[mounts["/scratch"]] == {"medium": "Memory", "sizeLimit": "64Mi"}
    assert volumes[mounts["/dev/shm"]] == {"medium": "Memory", "sizeLimit": str(256 * 1024**2)}
    assert volumes[mounts["/cache"]] == {}
    assert volumes[mounts["/fast"]] == {"medium": "Memory"}
    assert spec["shareProcessNamespace"] is True
    assert spec["hostname"] == "booth-host"
    assert spec["dnsPolicy"] == "None"
    assert spec["dnsConfig"] == {
        "nameservers": ["10.0.0.53"],
        "options": [{"name": "ndots", "value": "2"}],
        "searches": ["example.internal"],
    }
    assert spec["hostAliases"] == [{"hostnames": ["db.local", "cache.local"], "ip": "10.1.2.3"}]
    assert spec["automountServiceAccountToken"] is False
    assert spec["enableServiceLinks"] is False
    assert spec["hostIPC"] is True
    assert "hostPID" not in spec
    assert spec["securityContext"] == {
        "supplementalGroups": [44],
        "sysctls": [
            {"name": "kernel.shmmax", "value": "65536"},
            {"name": "net.ipv4.ip_forward", "value": "1"},
        ],
    }
    assert {"containerPort": 8081, "protocol": "TCP"} in (containers(documents)["dind"]["ports"])
    template = documents[1]["spec"]["template"]["metadata"]
    assert template["annotations"] == {"com.example.team": "tools"}


REFUSED = {
    "host path bind": (("-v", "/etc:/host-etc"), "HostConfig.Binds '/etc:/host-etc'"),
    "named volume": (("-v", "cache:/cache"), "named volumes"),
    "device": (("--device", "/dev/fuse"), "HostConfig.Devices"),
    "user name": (("-u", "coder"), "User 'coder'"),
    "apparmor": (("--security-opt", "apparmor=unconfined"), "SecurityOpt"),
    "tmpfs mode": (("--tmpfs", "/tmp:mode=1777"), "Tmpfs '/tmp' option 'mode=1777'"),
    "bind mount": (("--mount", "type=bind,source=/x,target=/y"), "HostConfig.Mounts"),
    "host-gateway": (("--add-host", "host.docker.internal:host-gateway"), "ExtraHosts"),
    "env name": (("-e", "1BAD=x"), "Env '1BAD'"),
    "ulimit": (("--ulimit", "nofile=1024"), "HostConfig.Ulimits is not rendered"),
    "gpus": (("--gpus", "all"), "HostConfig.DeviceRequests is not rendered"),
    "rm": (("--rm",), "HostConfig.AutoRemove is not rendered"),
    "on-failure": (("--restart", "on-failure:3"), "RestartPolicy on-failure"),
    "group name": (("--group-add", "audio"), "GroupAdd 'audio'"),
    "ipc none": (("--ipc", "none"), "IpcMode 'none'"),
    "pid of another container": (("--pid", "container:other"), "PidMode 'container:other'"),
    "host pid with init": (("--pid", "host"), "hostPID and shareProcessNamespace"),
}


@pytest.mark.parametrize("dind", [True, False])
@pytest.mark.parametrize("what", sorted(REFUSED))
def test_what_has_no_kubernetes_equivalent_is_refused_in_one_line(
    tmp_path: Path, what: str, dind: bool
) -> None:
    run_args, message = REFUSED[what]
    case = Case(toml=f"dind = {str(dind).lower()}\n", run_args=run_args)
    config = load(case, tmp_path, what)
    with pytest.raises(ConfigError, match=re.escape(message)) as caught:
        render_kubernetes(build_cluster_desired(config), ports=config.ports)
    assert "\n" not in str(caught.value)


def test_host_pid_without_init_is_host_pid(tmp_path: Path) -> None:
    case = Case(toml="dind = true\n", run_args=("--pid", "host", "--init=false"))
    config = load(case, tmp_path, "pid")
    spec = pod_spec(kubernetes_documents(build_cluster_desired(config), ports=config.ports))
    assert spec["hostPID"] is True
    assert "shareProcessNamespace" not in spec


def test_host_network_is_refused(tmp_path: Path) -> None:
    config = load(Case(toml="", run_args=("--network", "host")), tmp_path, "net")
    with pytest.raises(ConfigError, match="NetworkMode 'host'"):
        render_kubernetes(build_cluster_desired(config), ports=config.ports)


def test_names_kubernetes_cannot_take_are_refused(tmp_path: Path) -> None:
    config = load(Case(toml='name = "My_App"\ndind = true\n'), tmp_path, "name")
    with pytest.raises(ConfigError, match="'My_App' is not a valid Kubernetes object"):
        render_kubernetes(build_cluster_desired(config), ports=config.ports)
    config = load(Case(toml="dind = true\n"), tmp_path, "ns")
    with pytest.raises(ConfigError, match="namespace 'Team_A'"):
        render_kubernetes(build_cluster_desired(config), ports=config.ports, namespace="Team_A")


def test_a_port_set_other_than_the_graphs_is_a_caller_error(tmp_path: Path) -> None:
    config = load(Case(toml="dind = true\n"), tmp_path, "ports")
    other = build_port_set(
        [], booth_port=11000, default_host_ip="127.0.0.1", dind=True, allow_daemon_port=False
    )
    with pytest.raises(ValueError, match="port set does not match"):
        render_kubernetes(build_cluster_desired(config), ports=other)


def test_one_service_port_cannot_target_two_container_ports(tmp_path: Path) -> None:
    case = Case(toml="dind = true\n", publish=("127.0.0.1:8080:80", "127.0.0.2:8080:81"))
    config = load(case, tmp_path, "clash")
    with pytest.raises(ConfigError, match="port 8080/tcp is published for two container ports"):
        render_kubernetes(build_cluster_desired(config), ports=config.ports)


# --- the graph is read through its documented attributes only -----------------------------


class Role(enum.StrEnum):
    NETWORK = "network"
    VOLUME = "volume"
    SIDECAR = "sidecar"
    BOOTH = "booth"


@attrs.frozen
class _EnumRoleResource:
    role: Role
    name: str
    spec: Mapping[str, Any]
    inner: Any

    def labels(self, instance: str) -> Mapping[str, str]:
        labels: Mapping[str, str] = self.inner.labels(instance)
        return labels


@attrs.frozen
class _EnumRoleGraph:
    instance: str
    dind: bool
    resources: tuple[_EnumRoleResource, ...]

    def __iter__(self) -> Iterator[_EnumRoleResource]:
        return iter(self.resources)


def _with_enum_roles(
    graph: DesiredGraph, extra_host_config: Mapping[str, Any] | None = None
) -> Any:
    resources = []
    for r in graph:
        spec = r.spec
        if r.role == "booth":
            spec["HostConfig"] = {**spec["HostConfig"], **dict(extra_host_config or {})}
        resources.append(_EnumRoleResource(Role(r.role), r.name, spec, r))
    return _EnumRoleGraph(graph.instance, graph.dind, tuple(resources))


def test_roles_as_a_str_enum_render_the_same(tmp_path: Path) -> None:
    config = load(CASES["options-dind"], tmp_path, "options-dind")
    graph = build_cluster_desired(config)
    assert render_kubernetes(_with_enum_roles(graph), ports=config.ports) == render_kubernetes(
        graph, ports=config.ports
    )


def test_a_spec_field_this_module_does_not_know_is_refused(tmp_path: Path) -> None:
    config = load(CASES["dind-example"], tmp_path, "dind-example")
    graph = _with_enum_roles(build_cluster_desired(config), {"CgroupParent": "/custom"})
    with pytest.raises(ConfigError, match=r"booth HostConfig\.CgroupParent is not rendered"):
        render_kubernetes(graph, ports=config.ports)


def test_constants_shared_with_the_pipeline_agree() -> None:
    from reconciler.core import model
    from reconciler.render.kubernetes import manifests as kubernetes

    assert kubernetes.CODE_MOUNT == model.CODE_MOUNT
    assert kubernetes.LABEL_MANAGED == model.LABEL_MANAGED
    assert kubernetes.LABEL_INSTANCE == model.LABEL_INSTANCE
    assert kubernetes.LABEL_ROLE == model.LABEL_ROLE


def _kubernetes_modules() -> list[str]:
    """Every module of reconciler/render/kubernetes/."""
    package = ROOT / "reconciler" / "render" / "kubernetes"
    return sorted(f"reconciler.render.kubernetes.{path.stem}" for path in package.glob("*.py"))


@pytest.mark.parametrize("module", _kubernetes_modules())
def test_the_module_imports_neither_docker_nor_the_config(module: str) -> None:
    script = (
        f"import sys, {module}; "
        "bad = [m for m in ('docker', 'reconciler.config.booth_config', "
        "'reconciler.config.desired') if m in sys.modules]; print(bad)"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True, cwd=ROOT
    ).stdout
    assert out.strip() == "[]"


# --- determinism ------------------------------------------------------------------------


_RENDER_SCRIPT = """
import sys
from reconciler.config.booth_config import CliInputs, load_config
HOST_IDENTITY = {"CB_HOST_UID": "1000", "CB_HOST_GID": "1000", "CB_TIMEZONE": "UTC"}
from reconciler.config.desired import build_cluster_desired
from reconciler.render.kubernetes.manifests import render_kubernetes
cli = CliInputs(publish=tuple(sys.argv[2:]), run_args=("-l", "b=2", "-l", "a=1"))
config = load_config(sys.argv[1], None, cli, host_env=HOST_IDENTITY)
graph = build_cluster_desired(config)
sys.stdout.write(render_kubernetes(graph, ports=config.ports, namespace="ns"))
"""


def test_output_is_the_same_bytes_every_time_and_under_any_hash_seed() -> None:
    publish = ("9000-9003:9000-9003/udp", "7000", "127.0.0.1:6000:6000/sctp")
    outputs = set()
    for seed in ("0", "1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run(
            [sys.executable, "-c", _RENDER_SCRIPT, str(DIND_EXAMPLE), *publish],
            check=True,
            capture_output=True,
            env=env,
            cwd=ROOT,
        )
        outputs.add(result.stdout)
    assert len(outputs) == 1
    cli = CliInputs(publish=publish, run_args=("-l", "b=2", "-l", "a=1"))
    config = load_config(str(DIND_EXAMPLE), None, cli, host_env=HOST_IDENTITY)
    first = render_kubernetes(build_cluster_desired(config), ports=config.ports, namespace="ns")
    second = render_kubernetes(build_cluster_desired(config), ports=config.ports, namespace="ns")
    assert first == second
    assert outputs == {first.encode()}


def test_dind_example_matches_the_golden_file() -> None:
    config = load_config(str(DIND_EXAMPLE), None, CliInputs(), host_env=HOST_IDENTITY)
    text = render_kubernetes(build_cluster_desired(config), ports=config.ports)
    golden = GOLDEN / "kubernetes_dind_example.yaml"
    if UPDATE:
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


def test_the_schema_check_is_strict_enough_to_see_native_sidecars() -> None:
    """Kubernetes 1.27's schema has no container restartPolicy: the check is not vacuous."""
    config = load_config(str(DIND_EXAMPLE), None, CliInputs(), host_env=HOST_IDENTITY)
    _, workload = kubernetes_documents(build_cluster_desired(config), ports=config.ports)
    with pytest.raises(kubernetes_validate.ValidationError, match="restartPolicy"):
        kubernetes_validate.validate(workload, "1.27", strict=True)


@pytest.mark.parametrize(("pull", "policy"), [("true", "Always"), ("false", "IfNotPresent")])
def test_pull_true_renders_as_pulling_on_every_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], pull: str, policy: str
) -> None:
    """``pull = true`` has booth pull before every apply; the cluster's equivalent is the
    kubelet pulling whenever it starts the container."""
    from reconciler.cli.main import main

    (tmp_path / ".booth").mkdir()
    (tmp_path / ".booth" / "config.toml").write_text(
        f'dind = true\nport = 10000\nimage = "booth-test/booth:latest"\npull = {pull}\n'
    )
    assert main(["-C", str(tmp_path), "render", "kubernetes"]) == 0
    documents = list(yaml.safe_load_all(capsys.readouterr().out))
    pod = documents[1]["spec"]["template"]["spec"]
    containers = pod["containers"] + pod["initContainers"]
    assert len(containers) == 2
    assert {c["imagePullPolicy"] for c in containers} == {policy}
