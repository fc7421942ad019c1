"""A plan as a shell script of docker CLI commands that do the same (``booth plan --format
docker``, CodingBooth's ``--dryrun``): a dry run people can read, review and replay.

One command per plan step, in the plan's order, each word quoted with ``shlex.quote``
and each command on one line; names come from the plan's resources. Containers are made
with ``docker create`` and every spec field as its flag (``render/docker_args.py``), with
booth's labels, spec hashes included, so ``booth plan`` after the script says "No
changes". What booth does through the Engine API beyond a plain docker command is
written out too: the ``tls`` listener's certificates (made with openssl, copied with
``docker cp``) and the wait for the inner daemon (a loop of ``docker exec``).
Env values booth did not choose itself are never printed (``docker_args``).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence

import attrs

from reconciler.core.inner_daemon import (
    BOOTH_CERT_PATH,
    CLIENT_TLS_DIR,
    SERVER_TLS_DIR,
    InnerListener,
    ping_command,
)
from reconciler.core.model import Resource, Role
from reconciler.core.plan import Op, Plan, Step
from reconciler.render.docker_args import build_args, create_args, label_args

_TLS = InnerListener.TLS
STDIN_NOTE = (
    "# booth creates it with a stdin that stays open after an attached client leaves; "
    "docker create -i closes it then (StdinOnce), and no docker create flag keeps it open"
)
# booth's own stop timeout (execute.STOP_TIMEOUT), as `docker stop` spells it.
STOP_SECONDS = 10

HEADER = """\
#!/bin/sh
# booth's plan for instance {instance} as docker commands, one per step ({count} steps):
# running this script makes the changes booth would make.
set -e
"""

SECRETS = """\
# Values booth did not choose itself are not printed (they may be secrets): docker takes
# each -e NAME / --build-arg NAME below from this script's environment. Export them, with
# the values your configuration gives them, before running it.
for booth_var in {names}; do
  printenv "$booth_var" >/dev/null && continue
  echo "booth: export $booth_var first (its value is not printed)" >&2
  exit 1
done
"""

# booth makes these with the `cryptography` package and copies them in with the Engine
# API's archive upload (certificates.py); the docker CLI's equivalents are openssl and
# `docker cp`. The same files, subjects, extensions, key type and lifetime.
TLS_FUNCTIONS = """\
# The tls endpoint (daemon-endpoint = "tls"): for each new sidecar booth makes a CA, a
# server and a client certificate (P-256, 825 days), copies them into the created
# container before it starts (with the Engine API's archive upload) and forgets the CA
# key; each booth gets a copy of its sidecar's client files. These functions do the same
# with openssl and docker cp.
booth_tls=$(mktemp -d)
trap 'rm -rf "$booth_tls"' EXIT
booth_tls_sidecar() {  # CONTAINER INSTANCE
  c=$1 i=$2 d="$booth_tls/$1"
  mkdir -p "$d/etc-booth/tls/server" "$d/etc-booth/tls/client"
  cat >"$d/openssl.cnf" <<'EOF'
[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical,CA:TRUE,pathlen:0
[server]
basicConstraints = critical,CA:FALSE
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
[client]
basicConstraints = critical,CA:FALSE
extendedKeyUsage = clientAuth
EOF
  set -- -config "$d/openssl.cnf" -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes
  openssl req -x509 "$@" -extensions ca -days 825 -subj "/CN=booth CA $i" \\
    -keyout "$d/ca-key.pem" -out "$d/ca.pem" 2>/dev/null
  for side in server client; do
    if [ "$side" = client ]; then cn="booth $i"; else cn=localhost; fi
    openssl req -new "$@" -subj "/CN=$cn" -keyout "$d/etc-booth/tls/$side/key.pem" \\
      -out "$d/$side.csr" 2>/dev/null
    openssl x509 -req -in "$d/$side.csr" -CA "$d/ca.pem" -CAkey "$d/ca-key.pem" \\
      -CAcreateserial -CAserial "$d/ca.srl" -days 825 -extfile "$d/openssl.cnf" \\
      -extensions "$side" -out "$d/etc-booth/tls/$side/cert.pem" 2>/dev/null
    cp "$d/ca.pem" "$d/etc-booth/tls/$side/ca.pem"
  done
  rm -f "$d/ca-key.pem"
  chmod 755 "$d/etc-booth" "$d/etc-booth/tls" "$d/etc-booth/tls/server" "$d/etc-booth/tls/client"
  chmod 644 "$d"/etc-booth/tls/*/*.pem
  docker cp "$d/etc-booth/." "$c:/etc/booth"
}
booth_tls_present() {  # CONTAINER DIRECTORY
  for f in ca cert key; do docker cp "$1:$2/$f.pem" - >/dev/null 2>&1 || return 1; done
}
booth_tls_booth() {  # SIDECAR BOOTH
  d="$booth_tls/$2" && mkdir -p "$d/etc-booth/docker-tls"
  docker cp "$1:{client_dir}/." "$d/etc-booth/docker-tls"
  chmod 755 "$d/etc-booth" "$d/etc-booth/docker-tls" && chmod 644 "$d"/etc-booth/docker-tls/*.pem
  docker cp "$d/etc-booth/." "$2:/etc/booth"
}
""".replace("{client_dir}", CLIENT_TLS_DIR)


@attrs.define
class _State:
    """What the rendering of one script learns on the way."""

    created: set[Role] = attrs.field(factory=set)  # containers the script creates
    attach: bool = False  # the booth starts attached (a terminal session, ``docker run -it``)


def plan_docker(plan: Plan, *, attach_booth: bool = False, tail: Sequence[str] = ()) -> str:
    """The plan as a POSIX shell script (see the module's docstring). ``attach_booth``:
    the booth's ``docker start`` is attached to this terminal and sets ``booth_status``;
    ``tail``: lines after the plan's (a session's, ``render/session.py``)."""
    commands: list[str] = []
    hidden: list[str] = []
    state = _State(attach=attach_booth)
    for step in plan.steps:
        commands.append(f"# step {step.index}: {step.op} {step.role} {step.name} ({step.reason})")
        lines, names = _STEPS[step.op](step, plan.instance, state)
        commands += lines
        hidden += [name for name in names if name not in hidden]
    commands += tail
    parts = [HEADER.format(instance=plan.instance, count=len(plan.steps))]
    if not plan.steps:
        parts.append("# No changes. The booth matches the configuration.\n")
    if hidden:
        parts.append(SECRETS.format(names=" ".join(shlex.quote(n) for n in hidden)))
    if any(line.startswith("booth_tls_") for line in commands):
        parts.append(TLS_FUNCTIONS)
    return "\n".join([*parts, "\n".join(commands)]).rstrip("\n") + "\n"


Lines = tuple[list[str], list[str]]  # commands, env names left unprinted


def shell_line(*words: str) -> str:
    """One command: each word quoted with ``shlex.quote``."""
    return " ".join(shlex.quote(word) for word in words)


def _desired(step: Step) -> Resource:
    if step.desired is None:  # pragma: no cover - build-up steps always carry one
        raise ValueError(f"step {step.index} {step.op} has no desired {step.role}")
    return step.desired


def _build(step: Step, instance: str, _state: _State) -> Lines:
    words, hidden = build_args(_desired(step), instance)
    return [shell_line(*words)], hidden


def _create_network(step: Step, instance: str, _state: _State) -> Lines:
    resource = _desired(step)
    words = ["docker", "network", "create", "--driver", resource.spec["Driver"]]
    return [shell_line(*words, *label_args(resource.labels(instance)), resource.name)], []


def _create_volume(step: Step, instance: str, _state: _State) -> Lines:
    resource = _desired(step)
    words = ["docker", "volume", "create", "--driver", resource.spec["Driver"]]
    return [shell_line(*words, *label_args(resource.labels(instance)), resource.name)], []


def _create_container(step: Step, instance: str, state: _State) -> Lines:
    resource = _desired(step)
    words, hidden = create_args(resource, instance)
    lines = [shell_line(*words)]
    if resource.spec.get("OpenStdin") and not resource.spec.get("StdinOnce"):
        lines[:0] = [STDIN_NOTE]
    state.created.add(step.role)
    if resource.inner_listener == InnerListener.TLS:
        lines.append(_install_tls(step.role, resource, instance))
    return lines, hidden


def _install_tls(role: Role, resource: Resource, instance: str) -> str:
    if role == Role.SIDECAR:
        return shell_line("booth_tls_sidecar", resource.name, instance)
    sidecar = str(resource.spec["HostConfig"]["NetworkMode"]).removeprefix("container:")
    return shell_line("booth_tls_booth", sidecar, resource.name)


def _start(step: Step, instance: str, state: _State) -> Lines:
    """A tls container this script did not create may lack its files (a run stopped
    between its create and its copy): booth checks, and copies them if so."""
    lines = []
    resource = step.desired
    if step.role not in state.created and resource is not None and resource.inner_listener == _TLS:
        where = SERVER_TLS_DIR if step.role == Role.SIDECAR else BOOTH_CERT_PATH
        check = shell_line("booth_tls_present", step.name, where)
        lines.append(f"{check} || {_install_tls(step.role, resource, instance)}")
    if state.attach and step.role == Role.BOOTH:
        attached = shell_line("docker", "start", "--attach", "--interactive", step.name)
        return [*lines, f"{attached} || booth_status=$?"], []
    return [*lines, shell_line("docker", "start", step.name)], []


def _restart(step: Step, _instance: str, _state: _State) -> Lines:
    return [shell_line("docker", "restart", "-t", str(STOP_SECONDS), step.name)], []


def _stop(step: Step, _instance: str, _state: _State) -> Lines:
    return [shell_line("docker", "stop", "-t", str(STOP_SECONDS), step.name)], []


def _remove_container(step: Step, _instance: str, _state: _State) -> Lines:
    return [shell_line("docker", "rm", "--force", "--volumes", step.name)], []


def _remove_network(step: Step, _instance: str, _state: _State) -> Lines:
    return [shell_line("docker", "network", "rm", step.name)], []


def _remove_volume(step: Step, _instance: str, _state: _State) -> Lines:
    return [shell_line("docker", "volume", "rm", step.name)], []


def _wait(step: Step, _instance: str, _state: _State) -> Lines:
    """Until the inner daemon answers, as booth asks it (``apply/readiness.py``); stop when the
    sidecar does."""
    listener = step.desired.inner_listener if step.desired is not None else None
    probe = ping_command(listener or InnerListener.TCP)
    running = shell_line("docker", "inspect", "--format", "{{.State.Running}}", step.name)
    stopped = shell_line(
        "echo", f"booth: the sidecar {step.name} stopped before its daemon answered"
    )
    loop = (
        f"until {shell_line('docker', 'exec', step.name, *probe)} >/dev/null 2>&1; do "
        f"{running} | grep -qx true || {{ {stopped} >&2; exit 1; }}; sleep 0.2; done"
    )
    return [loop], []


_STEPS: dict[Op, Callable[[Step, str, _State], Lines]] = {
    Op.BUILD_IMAGE: _build,
    Op.CREATE_NETWORK: _create_network,
    Op.CREATE_VOLUME: _create_volume,
    Op.CREATE_CONTAINER: _create_container,
    Op.START_CONTAINER: _start,
    Op.RESTART_CONTAINER: _restart,
    Op.WAIT_READY: _wait,
    Op.STOP_CONTAINER: _stop,
    Op.REMOVE_CONTAINER: _remove_container,
    Op.REMOVE_NETWORK: _remove_network,
    Op.REMOVE_VOLUME: _remove_volume,
}
