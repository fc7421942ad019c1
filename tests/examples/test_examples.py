"""The examples stay correct without Docker: configs plan, scripts parse and behave.

- every example config plans offline and publishes exactly the ports its README promises;
- every shell script passes ``bash -n`` (and ``sh -n``; ``shellcheck`` when installed);
- ``check-exposed-ports.py`` judges real plans: allowed, not allowed, wildcard, ranges;
- the CI workflow runs the plan command and the checker; ``drift-check.sh`` passes exit
  codes on;
- the dind-example's ``check-server.sh`` against a local HTTP server, and the scripts'
  refusals outside a booth;
- the kind-example's scripts against stand-in ``kind``/``kubectl``/``docker`` commands
  (no registry here, so no real cluster: see examples/kind-example/README.md).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import stat
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_support import free_port
from examples_support import (
    CI_EXAMPLE,
    DIND_EXAMPLE,
    KIND_EXAMPLE,
    CliResult,
    check_ports,
    example_dirs,
    example_scripts,
    plan_offline,
    run,
    sidecar_ports,
)

# What each example's README promises the host can reach. A new example must add itself.
EXPECTED_PORTS = {
    "dind-example": {
        "127.0.0.1:10000:10000/tcp",
        "127.0.0.1:8080:8080/tcp",
        "127.0.0.1:3000:3000/tcp",
    },
    "kind-example": {"127.0.0.1:10000:10000/tcp", "127.0.0.1:8080:8080/tcp"},
}
EXPECTED_SCRIPTS = {
    "dind-example/start-server.sh",
    "dind-example/stop-server.sh",
    "dind-example/check-server.sh",
    "kind-example/start-cluster.sh",
    "kind-example/check-cluster.sh",
    "kind-example/stop-cluster.sh",
    "ci/drift-check.sh",
}
PAGE_TEXT = "Hello from inside the booth"


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(p.parents[1])) for p in paths]


# -- configs --------------------------------------------------------------------------------


def test_every_example_is_listed() -> None:
    assert {d.name for d in example_dirs()} == set(EXPECTED_PORTS)


@pytest.mark.parametrize("directory", example_dirs(), ids=lambda p: p.name)
def test_example_config_plans_offline(directory: Path) -> None:
    rc, plan, text = plan_offline(directory)
    assert rc == 0, text
    assert plan is not None
    assert plan["format_version"] == 1
    assert plan["instance"] == directory.name
    actions = {c["resource"]: c["action"] for c in plan["changes"]}
    # An example with a .booth/Dockerfile has its booth image built first.
    built = {"image": "create"} if (directory / ".booth" / "Dockerfile").exists() else {}
    assert actions == {
        **built,
        "network": "create",
        "volume": "create",
        "sidecar": "create",
        "booth": "create",
    }
    # Everything is published by the sidecar, on 127.0.0.1; the booth publishes nothing.
    assert set(sidecar_ports(plan)) == EXPECTED_PORTS[directory.name]
    booth = next(c for c in plan["changes"] if c["resource"] == "booth")
    assert booth["desired"]["ports"] == []
    assert booth["desired"]["network_mode"] == f"container:{directory.name}-10000-dind"


def test_dind_example_keeps_codingbooth_settings() -> None:
    rc, plan, text = plan_offline(DIND_EXAMPLE)
    assert rc == 0 and plan is not None, text
    booth = next(c for c in plan["changes"] if c["resource"] == "booth")
    # Its .booth/Dockerfile (CodingBooth's shape) is built: the booth runs the local tag.
    assert booth["desired"]["image"] == "codingbooth-local:dind-example-desktop-xfce-0.13.0"
    image = next(c for c in plan["changes"] if c["resource"] == "image")
    assert image["desired"]["dockerfile"].endswith("examples/dind-example/.booth/Dockerfile")
    sidecar = next(c for c in plan["changes"] if c["resource"] == "sidecar")
    assert sidecar["desired"]["privileged"] is True


# -- shell scripts ---------------------------------------------------------------------------


def test_expected_scripts_exist_and_are_executable() -> None:
    found = {str(p.relative_to(p.parents[1])) for p in example_scripts()}
    assert found >= EXPECTED_SCRIPTS
    for script in example_scripts():
        assert script.stat().st_mode & stat.S_IXUSR, f"{script} is not executable"


@pytest.mark.parametrize("script", example_scripts(), ids=_ids(example_scripts()))
def test_script_parses_with_bash(script: Path) -> None:
    result = run(["bash", "-n", str(script)])
    assert result.rc == 0, result.explain()


@pytest.mark.parametrize("script", example_scripts(), ids=_ids(example_scripts()))
def test_script_parses_with_posix_sh(script: Path) -> None:
    # The scripts are POSIX sh: the booth may pipe them to `sh` (dash, busybox ash).
    assert script.read_text().startswith("#!/bin/sh\n"), f"{script}: not a #!/bin/sh script"
    result = run(["sh", "-n", str(script)])
    assert result.rc == 0, result.explain()


@pytest.mark.parametrize("script", example_scripts(), ids=_ids(example_scripts()))
def test_script_passes_shellcheck(script: Path) -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (Debian package: shellcheck)")
    result = run([shellcheck, str(script)])
    assert result.rc == 0, result.explain()


# -- check-exposed-ports.py ------------------------------------------------------------------


def _write_plan(tmp_path: Path, directory: Path, name: str = "plan.json") -> Path:
    rc, plan, text = plan_offline(directory)
    assert rc == 0 and plan is not None, text
    path = tmp_path / name
    path.write_text(text)
    return path


def _code_dir(tmp_path: Path, name: str, config: str) -> Path:
    code = tmp_path / name
    (code / ".booth").mkdir(parents=True)
    (code / ".booth" / "config.toml").write_text(config)
    return code


def _verdicts(result: CliResult) -> dict[str, str]:
    """``{canonical spec: OK | NOT ALLOWED}`` from the checker's output."""
    found = {}
    for line in result.stdout.splitlines():
        match = re.match(r"^(OK|NOT ALLOWED)\s+(\S+)\s", line)
        if match:
            found[match[2]] = match[1]
    return found


@pytest.fixture
def dind_plan(tmp_path: Path) -> Path:
    return _write_plan(tmp_path, DIND_EXAMPLE)


def test_check_ports_allows_the_dind_example(dind_plan: Path) -> None:
    result = check_ports(str(dind_plan), "--allow", "10000,8080", "--allow", "3000")
    assert result.rc == 0, result.explain()
    assert _verdicts(result) == dict.fromkeys(EXPECTED_PORTS["dind-example"], "OK")


def test_check_ports_names_a_port_not_allowed(dind_plan: Path) -> None:
    result = check_ports(str(dind_plan), "--allow", "10000", "--allow", "8080")
    assert result.rc == 1, result.explain()
    assert _verdicts(result) == {
        "127.0.0.1:10000:10000/tcp": "OK",
        "127.0.0.1:8080:8080/tcp": "OK",
        "127.0.0.1:3000:3000/tcp": "NOT ALLOWED",
    }
    line = next(x for x in result.stdout.splitlines() if x.startswith("NOT ALLOWED"))
    assert "host port 3000" in line and "dind-example-10000-dind" in line


def test_check_ports_reads_stdin_and_the_allow_file(dind_plan: Path) -> None:
    result = check_ports(
        "--allow-file", str(CI_EXAMPLE / "allowed-ports.txt"), stdin=dind_plan.read_text()
    )
    assert result.rc == 0, result.explain()
    assert len(_verdicts(result)) == 3


def test_check_ports_canonical_entries_are_exact(dind_plan: Path) -> None:
    exact = "127.0.0.1:10000:10000/tcp,127.0.0.1:8080:8080/tcp"
    assert check_ports(str(dind_plan), "--allow", exact, "--allow", "3000/tcp").rc == 0
    # Right port, wrong protocol or address: not the same mapping.
    result = check_ports(str(dind_plan), "--allow", exact, "--allow", "3000/udp")
    assert result.rc == 1 and _verdicts(result)["127.0.0.1:3000:3000/tcp"] == "NOT ALLOWED"
    result = check_ports(
        str(dind_plan), "--allow", "10000,3000", "--allow", "127.0.0.2:8080:8080/tcp"
    )
    assert result.rc == 1 and _verdicts(result)["127.0.0.1:8080:8080/tcp"] == "NOT ALLOWED"


def test_check_ports_flags_wildcard_bindings(tmp_path: Path) -> None:
    code = _code_dir(
        tmp_path, "wild", 'dind = true\nhost-ip = ""\nrun-args = ["-p", "8080:8080"]\n'
    )
    plan = _write_plan(tmp_path, code)
    result = check_ports(str(plan), "--allow", "10000,8080")
    assert result.rc == 1, result.explain()
    assert _verdicts(result) == {
        ":10000:10000/tcp": "NOT ALLOWED",
        ":8080:8080/tcp": "NOT ALLOWED",
    }
    assert "every interface (no address)" in result.stdout
    assert check_ports(str(plan), "--allow", "10000,8080", "--allow-wildcard").rc == 0
    # --allow-wildcard does not allow a port that is not listed.
    assert check_ports(str(plan), "--allow", "10000", "--allow-wildcard").rc == 1
    # Naming the wildcard mapping exactly is an explicit decision, and allowed.
    exact = ":10000:10000/tcp,:8080:8080/tcp"
    assert check_ports(str(plan), "--allow", exact).rc == 0


def test_check_ports_flags_one_wildcard_among_specific_bindings(tmp_path: Path) -> None:
    code = _code_dir(
        tmp_path,
        "mixed",
        'dind = true\nrun-args = ["-p", "0.0.0.0:8080:8080", "-p", "[::1]:9000:9000/udp"]\n',
    )
    plan = _write_plan(tmp_path, code)
    result = check_ports(str(plan), "--allow", "10000,8080,9000")
    assert result.rc == 1, result.explain()
    assert _verdicts(result) == {
        "127.0.0.1:10000:10000/tcp": "OK",
        "0.0.0.0:8080:8080/tcp": "NOT ALLOWED",
        "[::1]:9000:9000/udp": "OK",
    }


def test_check_ports_checks_folded_ranges_port_by_port(tmp_path: Path) -> None:
    code = _code_dir(
        tmp_path,
        "ranges",
        'dind = true\nrun-args = ["-p", "7000:7000", "-p", "7001:7001", "-p", "7002:7002"]\n',
    )
    plan = _write_plan(tmp_path, code)
    assert "127.0.0.1:7000-7002:7000-7002/tcp" in plan.read_text()
    result = check_ports(str(plan), "--allow", "10000,7000-7001")
    assert result.rc == 1 and "host port 7002" in result.stdout, result.explain()
    assert check_ports(str(plan), "--allow", "10000,7000-7002").rc == 0
    assert check_ports(str(plan), "--allow", "10000,7000,7001,7002").rc == 0


def test_check_ports_ephemeral_host_port_needs_an_exact_entry(tmp_path: Path) -> None:
    code = _code_dir(tmp_path, "ephemeral", 'dind = true\nrun-args = ["-p", "5000"]\n')
    plan = _write_plan(tmp_path, code)
    result = check_ports(str(plan), "--allow", "10000,1-65535")
    assert result.rc == 1 and "ephemeral" in result.stdout, result.explain()
    assert check_ports(str(plan), "--allow", "10000,127.0.0.1::5000/tcp").rc == 0


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--allow", "80"], "not json", "not JSON"),
        (["--allow", "80"], '{"hello": 1}', "not a booth plan"),
        (["--allow", "80"], '{"format_version": 9, "changes": []}', "format_version"),
        ([], '{"format_version": 1, "changes": []}', "no allow-list"),
        (["--allow", "99999"], '{"format_version": 1, "changes": []}', "1..65535"),
        (
            ["--allow", "10.0.0.300:80:80/tcp"],
            '{"format_version": 1, "changes": []}',
            "not an IP address",
        ),
    ],
)
def test_check_ports_unusable_input_exits_2(args: list[str], stdin: str, message: str) -> None:
    result = check_ports(*args, stdin=stdin)
    assert result.rc == 2, result.explain()
    assert message in result.stderr


def test_check_ports_ignores_resources_being_removed() -> None:
    plan = {
        "format_version": 1,
        "instance": "x-1",
        "changes": [
            {
                "resource": "sidecar",
                "name": "x-1-dind",
                "action": "remove",
                "reason": "not desired",
                "desired": {"ports": ["0.0.0.0:1:1/tcp"]},
            },
            {
                "resource": "booth",
                "name": "x-1",
                "action": "none",
                "reason": "",
                "desired": {"ports": ["127.0.0.1:1:10000/tcp"]},
            },
        ],
    }
    result = check_ports("--allow", "1", stdin=json.dumps(plan))
    assert result.rc == 0, result.explain()
    assert _verdicts(result) == {"127.0.0.1:1:10000/tcp": "OK"}


def test_check_ports_flags_capabilities_devices_and_writable_host_mounts(tmp_path: Path) -> None:
    code = _code_dir(
        tmp_path,
        "grants",
        'dind = true\nrun-args = ["--cap-add=NET_ADMIN", "--device=/dev/fuse", '
        '"-v", "/srv/data:/data", "-v", "/etc:/host-etc:ro"]\n',
    )
    plan = _write_plan(tmp_path, code)
    result = check_ports(str(plan), "--allow", "10000")
    assert result.rc == 1, result.explain()
    flagged = [x for x in result.stdout.splitlines() if x.startswith("NOT ALLOWED")]
    assert len(flagged) == 3, result.stdout
    assert any("capability NET_ADMIN" in x for x in flagged)
    assert any("device /dev/fuse:/dev/fuse:rwm" in x for x in flagged)
    assert any("writable-mount /srv/data -> /data" in x for x in flagged)
    assert "/host-etc" not in result.stdout  # read-only
    assert "/home/coder/code" not in result.stdout  # booth's own code mount
    allowed = check_ports(
        str(plan),
        "--allow",
        "10000",
        "--allow-cap",
        "cap_net_admin",
        "--allow-device",
        "/dev/fuse",
        "--allow-writable",
        "/srv/",
    )
    assert allowed.rc == 0, allowed.explain()


def test_check_ports_flags_a_privileged_booth(tmp_path: Path) -> None:
    code = _code_dir(tmp_path, "priv", 'dind = true\nrun-args = ["--privileged"]\n')
    plan = _write_plan(tmp_path, code)
    result = check_ports(str(plan), "--allow", "10000")
    assert result.rc == 1 and "privileged true" in result.stdout, result.explain()
    assert "sidecar" not in next(x for x in result.stdout.splitlines() if "privileged" in x)
    assert check_ports(str(plan), "--allow", "10000", "--allow-privileged").rc == 0


def test_check_ports_reads_plans_without_the_review_fields() -> None:
    plan = {
        "format_version": 1,
        "instance": "x-1",
        "changes": [
            {
                "resource": "booth",
                "name": "x-1",
                "action": "create",
                "desired": {"ports": ["127.0.0.1:1:10000/tcp"], "mounts": ["/a:/b"]},
            }
        ],
    }
    assert check_ports("--allow", "1", stdin=json.dumps(plan)).rc == 0


# -- the CI workflow and the drift check -------------------------------------------------------


WORKFLOW = CI_EXAMPLE / "booth-plan-review.yml"


def test_workflow_plans_offline_and_runs_the_checker() -> None:
    text = WORKFLOW.read_text()
    assert re.search(r"^on:\s*\n\s+pull_request:", text, re.MULTILINE)
    assert re.search(r"booth .*plan --offline --json > plan\.json", text)
    assert re.search(r"check-exposed-ports\.py\"? plan\.json", text)
    assert "--allow-file" in text and "allowed-ports.txt" in text
    assert "\t" not in text, "YAML must not contain tabs"


def test_workflow_is_yaml_when_pyyaml_is_available() -> None:
    yaml = pytest.importorskip("yaml")
    document: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text())
    steps = document["jobs"]["plan-review"]["steps"]
    scripts = "\n".join(step.get("run", "") for step in steps)
    assert "plan --offline --json" in scripts and "check-exposed-ports.py" in scripts


@pytest.fixture
def booth_command(tmp_path: Path) -> str:
    """A ``booth`` command for scripts: this interpreter running the package."""
    path = tmp_path / "booth"
    path.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m reconciler "$@"\n')
    path.chmod(0o755)
    return str(path)


def test_drift_check_reports_drift_with_exit_2(booth_command: str) -> None:
    # --offline plans against an empty state: everything is "to create", i.e. drift.
    result = run(
        ["sh", str(CI_EXAMPLE / "drift-check.sh"), "-C", str(DIND_EXAMPLE), "--offline"],
        env={"BOOTH": booth_command},
    )
    assert result.rc == 2, result.explain()
    assert "DRIFT" in result.stdout and "Plan: 5 to create" in result.stdout


def test_drift_check_reports_errors_with_exit_1(booth_command: str, tmp_path: Path) -> None:
    result = run(
        ["sh", str(CI_EXAMPLE / "drift-check.sh"), "-C", str(tmp_path / "nowhere")],
        env={"BOOTH": booth_command},
    )
    assert result.rc == 1, result.explain()
    assert "ERROR" in result.stdout and "booth: error:" in result.stdout


# -- dind-example scripts without Docker --------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def page_server() -> Iterator[int]:
    """The example's www/ served on a free 127.0.0.1 port, as the inner server would."""
    handler = functools.partial(_QuietHandler, directory=str(DIND_EXAMPLE / "www"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


CHECK_SERVER = str(DIND_EXAMPLE / "check-server.sh")


def _clients() -> list[Any]:
    return [
        pytest.param(
            c, marks=pytest.mark.skipif(shutil.which(c) is None, reason=f"{c} is not installed")
        )
        for c in ("curl", "wget")
    ]


@pytest.mark.parametrize("client", _clients())
def test_check_server_sees_a_server_up(page_server: int, client: str) -> None:
    url = f"http://127.0.0.1:{page_server}/"
    env = {"CHECK_SERVER_CLIENT": client}
    result = run(
        ["sh", CHECK_SERVER, "--expect=up", "--url", url, "--contains", PAGE_TEXT], env=env
    )
    assert result.rc == 0, result.explain()
    assert f"{url} is up" in result.stdout and PAGE_TEXT in result.stdout
    result = run(["sh", CHECK_SERVER, "--expect=down", f"--url={url}"], env=env)
    assert result.rc == 1 and "MISMATCH" in result.stdout, result.explain()
    # Something answers, but not our page: with --contains that is "down".
    result = run(["sh", CHECK_SERVER, "--expect=up", "--url", url, "--contains", "nope"], env=env)
    assert result.rc == 1 and "does not contain" in result.stdout, result.explain()
    # An HTTP error is "down" too.
    result = run(["sh", CHECK_SERVER, "--expect=down", "--url", url + "missing"], env=env)
    assert result.rc == 0, result.explain()


@pytest.mark.parametrize("client", _clients())
def test_check_server_sees_a_closed_port_down(client: str) -> None:
    url = f"http://127.0.0.1:{free_port()}/"
    env = {"CHECK_SERVER_CLIENT": client}
    result = run(["sh", CHECK_SERVER, "--expect", "down", "--url", url], env=env)
    assert result.rc == 0 and f"{url} is down" in result.stdout, result.explain()
    result = run(["sh", CHECK_SERVER, "--expect=up", "--url", url, "--wait", "1"], env=env)
    assert result.rc == 1 and "expected up: MISMATCH" in result.stdout, result.explain()


def test_check_server_ignores_proxy_settings(page_server: int) -> None:
    env = {"http_proxy": "http://127.0.0.1:9/", "HTTP_PROXY": "http://127.0.0.1:9/"}
    url = f"http://127.0.0.1:{page_server}/"
    result = run(["sh", CHECK_SERVER, "--expect=up", "--url", url], env=env)
    assert result.rc == 0, result.explain()


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--expect=maybe"],
        ["--expect=up", "--bogus"],
        ["--expect=up", "--wait", "soon"],
        ["--url"],
    ],
)
def test_check_server_usage_errors_exit_2(args: list[str]) -> None:
    result = run(["sh", CHECK_SERVER, *args])
    assert result.rc == 2, result.explain()
    assert "usage:" in result.stderr


def _host_env(tmp_path: Path, bindir: Path | None = None, **extra: str) -> dict[str, str]:
    """A clean environment like the host's: no DOCKER_HOST unless given."""
    path = "/usr/local/bin:/usr/bin:/bin"
    env = {"PATH": f"{bindir}:{path}" if bindir else path, "HOME": str(tmp_path), "LC_ALL": "C"}
    env.update(extra)
    return env


@pytest.mark.parametrize("script", ["start-server.sh", "stop-server.sh"])
def test_server_scripts_refuse_to_run_on_the_host(script: str, tmp_path: Path) -> None:
    result = run(["sh", str(DIND_EXAMPLE / script)], env=_host_env(tmp_path), replace_env=True)
    assert result.rc == 1, result.explain()
    assert "DOCKER_HOST is not set" in result.stderr and "docker exec" in result.stderr


# -- stand-in kind / kubectl / docker ---------------------------------------------------------

STUB_KIND = r"""#!/bin/sh
state=$STUB_STATE
echo "kind $*" >> "$state/calls"
cmd="$1 $2"; shift 2
name=kind; config=
while [ $# -gt 0 ]; do
    case $1 in --name) name=$2; shift ;; --config) config=$2; shift ;; esac
    shift
done
case $cmd in
    "get clusters") [ ! -f "$state/cluster" ] || cat "$state/cluster" ;;
    "get nodes") [ ! -f "$state/cluster" ] || echo "$(cat "$state/cluster")-control-plane" ;;
    "create cluster")
        [ -z "$config" ] || cp "$config" "$state/kind-config.yaml"
        if [ -f "$state/create_fails" ]; then
            echo 'ERROR: failed to create cluster: failed to pull image "kindest/node"' >&2
            exit 1
        fi
        echo "$name" > "$state/cluster" ;;
    "delete cluster") echo "Deleting cluster \"$name\" ..."; rm -f "$state/cluster" ;;
    *) echo "stub kind: unexpected: $cmd" >&2; exit 3 ;;
esac
"""

STUB_KUBECTL = r"""#!/bin/sh
state=$STUB_STATE
echo "kubectl $*" >> "$state/calls"
context=
while [ $# -gt 0 ]; do
    case $1 in --context) context=$2; shift ;; --context=*) context=${1#*=} ;; esac
    shift
done
if [ ! -f "$state/cluster" ] || [ "$context" != "kind-$(cat "$state/cluster")" ]; then
    echo "The connection to the server 127.0.0.1:6443 was refused" >&2
    exit 1
fi
n=$(($(cat "$state/polls" 2>/dev/null || echo 0) + 1))
echo "$n" > "$state/polls"
ready_after=$(cat "$state/ready_after" 2>/dev/null || echo 1)
if [ "$n" -ge "$ready_after" ]; then s=Ready; else s=NotReady; fi
echo "$(cat "$state/cluster")-control-plane   $s   control-plane   1m   v1.30.0"
"""

STUB_DOCKER = r"""#!/bin/sh
echo "docker $*" >> "$STUB_STATE/calls"
case $1 in
    version) exit 0 ;;
    start) echo "$2" ;;
    image) exit 1 ;;
    pull) echo "Error response from daemon: lookup registry-1.docker.io: no such host" >&2
          exit 1 ;;
esac
"""


class Stubs:
    def __init__(self, root: Path, tools: tuple[str, ...]) -> None:
        self.bin = root / "bin"
        self.state = root / "state"
        self.home = root
        self.bin.mkdir()
        self.state.mkdir()
        sources = {"kind": STUB_KIND, "kubectl": STUB_KUBECTL, "docker": STUB_DOCKER}
        for tool in tools:
            (self.bin / tool).write_text(sources[tool])
            (self.bin / tool).chmod(0o755)

    def env(self, **extra: str) -> dict[str, str]:
        return _host_env(
            self.home,
            self.bin,
            STUB_STATE=str(self.state),
            DOCKER_HOST="tcp://stub:2375",
            KIND_POLL_INTERVAL="0.2",
            **extra,
        )

    def run(self, script: str, *args: str, **extra: str) -> CliResult:
        return run(
            ["sh", str(KIND_EXAMPLE / script), *args], env=self.env(**extra), replace_env=True
        )

    def calls(self) -> list[str]:
        path = self.state / "calls"
        return path.read_text().splitlines() if path.exists() else []

    def set(self, name: str, value: str = "") -> None:
        (self.state / name).write_text(value + "\n")


@pytest.fixture
def stubs(tmp_path: Path) -> Stubs:
    return Stubs(tmp_path, ("kind", "kubectl", "docker"))


def test_start_cluster_creates_kind_with_the_api_on_loopback(stubs: Stubs) -> None:
    stubs.set("ready_after", "3")  # NotReady twice, then Ready
    result = stubs.run("start-cluster.sh")
    assert result.rc == 0, result.explain()
    config = (stubs.state / "kind-config.yaml").read_text()
    assert 'apiServerAddress: "127.0.0.1"' in config
    assert "apiServerPort: 6443" in config
    assert re.search(r"containerPort: 30080\s+hostPort: 8080\s+listenAddress: \"0.0.0.0\"", config)
    creates = [c for c in stubs.calls() if c.startswith("kind create cluster")]
    assert len(creates) == 1 and "--name booth-kind" in creates[0]
    assert "--image" not in creates[0]
    polls = [c for c in stubs.calls() if c.startswith("kubectl")]
    assert len(polls) == 3 and all("--context kind-booth-kind" in c for c in polls)
    assert "booth-kind-control-plane   Ready" in result.stdout
    assert "is Ready" in result.stdout


def test_start_cluster_passes_settings_on(stubs: Stubs) -> None:
    result = stubs.run(
        "start-cluster.sh",
        KIND_CLUSTER_NAME="lab",
        KIND_API_PORT="7443",
        KIND_NODE_IMAGE="kindest/node:v1.30.0",
        APP_HOST_PORT="8081",
        APP_NODE_PORT="30081",
    )
    assert result.rc == 0, result.explain()
    config = (stubs.state / "kind-config.yaml").read_text()
    assert "name: lab" in config and "apiServerPort: 7443" in config
    assert re.search(r"containerPort: 30081\s+hostPort: 8081", config)
    create = next(c for c in stubs.calls() if c.startswith("kind create cluster"))
    assert "--image kindest/node:v1.30.0" in create


def test_start_cluster_restarts_an_existing_cluster(stubs: Stubs) -> None:
    stubs.set("cluster", "booth-kind")
    result = stubs.run("start-cluster.sh")
    assert result.rc == 0, result.explain()
    assert not [c for c in stubs.calls() if c.startswith("kind create")]
    assert "docker start booth-kind-control-plane" in stubs.calls()


def test_start_cluster_explains_a_failed_create(stubs: Stubs) -> None:
    stubs.set("create_fails")
    result = stubs.run("start-cluster.sh")
    assert result.rc == 1, result.explain()
    assert "docker save kindest/node:<tag> | docker exec -i <booth> docker load" in result.stderr
    assert "KIND_NODE_IMAGE" in result.stderr


def test_start_cluster_gives_up_when_nodes_stay_not_ready(stubs: Stubs) -> None:
    stubs.set("ready_after", "1000000")
    result = stubs.run("start-cluster.sh", KIND_WAIT="1")
    assert result.rc == 1, result.explain()
    assert "not Ready after 1s" in result.stderr


def test_kind_scripts_refuse_to_run_on_the_host(stubs: Stubs) -> None:
    for script in ("start-cluster.sh", "stop-cluster.sh"):
        env = {k: v for k, v in stubs.env().items() if k != "DOCKER_HOST"}
        result = run(["sh", str(KIND_EXAMPLE / script)], env=env, replace_env=True)
        assert result.rc == 1, result.explain()
        assert "DOCKER_HOST is not set" in result.stderr
    assert not [c for c in stubs.calls() if c.startswith("kind")]


def test_start_cluster_names_missing_tools(tmp_path: Path) -> None:
    if shutil.which("kind", path="/usr/local/bin:/usr/bin:/bin"):
        pytest.skip("a real kind is installed on this machine")
    only_docker = Stubs(tmp_path, ("docker", "kubectl"))
    result = only_docker.run("start-cluster.sh")
    assert result.rc == 1, result.explain()
    assert "not installed in this booth: kind" in result.stderr


def test_check_cluster_up_down_and_not_ready(stubs: Stubs) -> None:
    result = stubs.run("check-cluster.sh", "--expect=down")
    assert result.rc == 0 and "is down (API server not answering" in result.stdout, result.explain()
    result = stubs.run("check-cluster.sh")  # --expect=up is the default
    assert result.rc == 1 and "MISMATCH" in result.stdout, result.explain()

    stubs.set("cluster", "booth-kind")
    result = stubs.run("check-cluster.sh", "--expect", "up")
    assert result.rc == 0 and "1 of 1 nodes Ready" in result.stdout, result.explain()
    assert "booth-kind-control-plane" in result.stdout

    stubs.set("polls", "0")
    stubs.set("ready_after", "1000000")
    result = stubs.run("check-cluster.sh", "--expect=up")
    assert result.rc == 1 and "1 of 1 nodes not Ready" in result.stdout, result.explain()

    # Another cluster name: a different kubectl context, which does not answer.
    result = stubs.run("check-cluster.sh", "--expect=down", "--name", "other")
    assert result.rc == 0, result.explain()


def test_check_cluster_waits_for_ready(stubs: Stubs) -> None:
    stubs.set("cluster", "booth-kind")
    stubs.set("ready_after", "2")
    result = stubs.run("check-cluster.sh", "--expect=up", "--wait", "10")
    assert result.rc == 0, result.explain()


@pytest.mark.parametrize("args", [["--expect=maybe"], ["--bogus"], ["--wait", "x"]])
def test_check_cluster_usage_errors_exit_2(stubs: Stubs, args: list[str]) -> None:
    result = stubs.run("check-cluster.sh", *args)
    assert result.rc == 2 and "usage:" in result.stderr, result.explain()


def test_stop_cluster_deletes_and_is_idempotent(stubs: Stubs) -> None:
    stubs.set("cluster", "booth-kind")
    result = stubs.run("stop-cluster.sh")
    assert result.rc == 0, result.explain()
    assert "kind delete cluster --name booth-kind" in stubs.calls()
    assert not (stubs.state / "cluster").exists()
    result = stubs.run("stop-cluster.sh")
    assert result.rc == 0 and "nothing to do" in result.stdout, result.explain()


# -- start-server.sh's advice when the base image is missing (stand-in docker) -----------------


def test_start_server_says_how_to_load_a_base_image(tmp_path: Path) -> None:
    stub = Stubs(tmp_path, ("docker",))
    env = stub.env()
    result = run(["sh", str(DIND_EXAMPLE / "start-server.sh")], env=env, replace_env=True)
    assert result.rc == 1, result.explain()
    assert (
        "docker save booth-test/busybox:latest | docker exec -i <booth> docker load"
        in result.stderr
    )
    assert "SERVER_BASE_IMAGE=booth-test/busybox:latest" in result.stderr
    pulls = [c for c in stub.calls() if c.startswith("docker pull")]
    assert pulls == ["docker pull busybox:latest"]
    assert not [c for c in stub.calls() if c.startswith(("docker build", "docker run"))]


def test_start_server_uses_the_base_image_it_is_given(tmp_path: Path) -> None:
    stub = Stubs(tmp_path, ("docker",))
    env = stub.env(SERVER_BASE_IMAGE="example.org/busybox:1")
    result = run(["sh", str(DIND_EXAMPLE / "start-server.sh")], env=env, replace_env=True)
    assert result.rc == 1, result.explain()
    assert "docker pull example.org/busybox:1" in stub.calls()


def test_readmes_exist() -> None:
    for directory in (DIND_EXAMPLE, KIND_EXAMPLE, CI_EXAMPLE):
        assert (directory / "README.md").is_file()
    assert os.access(CI_EXAMPLE / "check-exposed-ports.py", os.X_OK)
