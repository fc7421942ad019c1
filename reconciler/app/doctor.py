"""``booth doctor``: what would stop a booth here, each with a one-line fix.

Every check reads; none creates or changes anything. A check that cannot tell says so
(``warn``) rather than guessing; only ``fail`` makes the exit code 1.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs

from reconciler.apply.preflight import CATATONIT, busy_host_ports
from reconciler.apply.readiness import probe_script
from reconciler.config.booth_config import BoothConfig
from reconciler.core.inner_daemon import InnerListener
from reconciler.core.model import ActualState, DesiredGraph, Kind, Role
from reconciler.engine.engine import Engine
from reconciler.engine.seam import EngineInfo
from reconciler.errors import BoothError, EngineError
from reconciler.ui import colour

OK, WARN, FAIL = "ok", "warn", "fail"
CAP_SYS_RESOURCE = 24


@attrs.frozen
class Check:
    name: str
    status: str
    detail: str
    fix: str = ""


@attrs.frozen
class HostFacts:
    """What doctor reads from the machine it runs on (a seam for tests)."""

    status_text: Callable[[], str] = lambda: Path("/proc/self/status").read_text()
    cgroup_v2: Callable[[], bool] = lambda: Path("/sys/fs/cgroup/cgroup.controllers").exists()
    catatonit: Callable[[], bool] = CATATONIT.exists


def run_checks(
    connect: Callable[[], Engine],
    config: BoothConfig,
    desired: DesiredGraph,
    host: HostFacts = HostFacts(),
) -> list[Check]:
    try:
        engine = connect()
        info = engine.identity()
    except BoothError as err:
        return [Check("engine", FAIL, str(err), "start the engine, or set DOCKER_HOST/--context")]
    checks = [
        Check(
            "engine", OK, f"{info.kind} {info.version} (API {info.api_version}) at {info.address}"
        )
    ]
    checks += _checks(engine, info, config, desired, host)
    return checks


def _checks(
    engine: Engine, info: EngineInfo, config: BoothConfig, desired: DesiredGraph, host: HostFacts
) -> Iterator[Check]:
    if desired.dind:
        yield _privileged(engine)
        if info.local:
            yield _capabilities(host)
    yield _cgroup(engine, host)
    yield from _images(engine, desired)
    actual = engine.observe(config.name, config.port)
    yield _ports(config, actual, info)
    if info.kind == "podman" and info.local:
        yield _catatonit(desired, host)
    if desired.dind:
        yield _inner_daemon(engine, actual)


def _privileged(engine: Engine) -> Check:
    allowed = engine.privileged_allowed()
    if allowed is False:
        return Check(
            "privileged",
            FAIL,
            "the engine runs rootless: the DinD sidecar needs a privileged container",
            "use a rootful engine (sudo podman / dockerd as root), or set dind = false",
        )
    return Check("privileged", OK, "the engine is not rootless")


def _capabilities(host: HostFacts) -> Check:
    try:
        lines = host.status_text().splitlines()
        line = next(text for text in lines if text.startswith("CapBnd:"))
        bounding = int(line.split()[1], 16)
    except (OSError, StopIteration, ValueError, IndexError):
        return Check("capabilities", WARN, "cannot read the capability bounding set")
    if bounding >> CAP_SYS_RESOURCE & 1:
        return Check("capabilities", OK, "CAP_SYS_RESOURCE is in the bounding set")
    return Check(
        "capabilities",
        WARN,
        "CAP_SYS_RESOURCE is missing from this machine's bounding set: privileged "
        "containers fail with 'unable to apply caps' unless the engine's runtime drops it",
        "run dockerd with a runc wrapper that removes CAP_SYS_RESOURCE (README, "
        "Troubleshooting, 'unable to apply caps'); .ci/docker-up.sh installs one",
    )


def _cgroup(engine: Engine, host: HostFacts) -> Check:
    try:
        version = str(engine.primitives.info().get("CgroupVersion") or "")
    except EngineError:
        version = ""
    if not version:
        version = "2" if host.cgroup_v2() else "1"
    return Check("cgroup", OK, f"cgroup v{version}")


def _images(engine: Engine, desired: DesiredGraph) -> Iterator[Check]:
    """Every image a booth needs, each missing one named with how to provide it: a
    newcomer without registry access learns all of them at once, not one per apply."""
    built = desired.get(Role.IMAGE)
    if built is not None:
        yield _built(engine, built.name)
        for base in sorted(set(built.base_images)):
            yield _image(engine, base, "a FROM of the booth's Dockerfile")
    for resource in sorted(desired, key=lambda r: r.name):
        image = resource.spec.get("Image")
        if resource.kind == Kind.CONTAINER and image and (built is None or image != built.name):
            yield _image(engine, str(image), IMAGE_KEYS[resource.role])


# Which config key names the image each container runs.
IMAGE_KEYS = {Role.SIDECAR: "dind-image", Role.BOOTH: "image"}
OFFLINE = "README, 'Without registry access'"


def _built(engine: Engine, tag: str) -> Check:
    if engine.image_present(tag):
        return Check(f"image {tag}", OK, "present (built by booth)")
    return Check(f"image {tag}", OK, "apply builds it from the booth's Dockerfile")


def _image(engine: Engine, image: str, named_by: str) -> Check:
    if engine.image_present(image):
        return Check(f"image {image}", OK, "present")
    return Check(
        f"image {image}",
        WARN,
        f"not present ({named_by}): apply will try to pull it",
        f"without registry access, load it: `docker save {image} -o image.tar` where it "
        f"exists, `docker load -i image.tar` here; or name an image this engine has ({OFFLINE})",
    )


def _ports(config: BoothConfig, actual: ActualState, info: EngineInfo) -> Check:
    if not info.local:
        return Check(
            "ports", WARN, "the engine is remote: its host ports cannot be probed from here"
        )
    ours = {int(p.rsplit(":", 2)[1]) for o in actual if o.owned and o.running for p in o.ports}
    busy = busy_host_ports([config.ports], skip=ours)
    if busy:
        taken = ", ".join(
            f"{b.ip}:{b.port}/{b.proto}" + (f" ({b.holder})" if b.holder else "") for b in busy
        )
        return Check("ports", FAIL, f"in use: {taken}", "free them, or change `port`/-p")
    return Check("ports", OK, f"free: {', '.join(config.ports.canonical())}")


def _catatonit(desired: DesiredGraph, host: HostFacts) -> Check:
    booth = desired.get(Role.BOOTH)
    wants_init = booth is not None and bool(booth.spec["HostConfig"].get("Init"))
    if not wants_init or host.catatonit():
        return Check("catatonit", OK, "present" if wants_init else "not needed (--init=false)")
    return Check(
        "catatonit",
        FAIL,
        f"Podman needs {CATATONIT} for the booth's --init",
        "apt-get install catatonit (or --run-arg=--init=false)",
    )


def _inner_daemon(engine: Engine, actual: ActualState) -> Check:
    sidecar = actual.owned_by_role(Role.SIDECAR)
    if sidecar is None:
        return Check("inner daemon", OK, "no sidecar yet: apply starts one")
    if not sidecar.running:
        return Check(
            "inner daemon", WARN, f"sidecar {sidecar.name} is {sidecar.state}", "booth apply"
        )
    # The daemon's own socket answers whichever listener the booth uses.
    script = probe_script(InnerListener.UNIX, 1)
    try:
        code, _ = engine.exec_output(sidecar.id, ["sh", "-c", script])
    except EngineError as err:
        code = None
        detail = str(err)
    else:
        detail = "does not answer /_ping"
    if code == 0:
        return Check("inner daemon", OK, f"answers in {sidecar.name}")
    return Check(
        "inner daemon",
        FAIL,
        f"{sidecar.name}: {detail}",
        "booth logs sidecar; booth destroy && booth apply recreates it",
    )


STATUS_COLOUR = {OK: colour.GREEN, WARN: colour.YELLOW, FAIL: colour.RED}


def render_text(checks: list[Check], *, coloured: bool = False) -> str:
    width = max(len(c.name) for c in checks)
    lines = []
    for check in checks:
        status = colour.paint(
            f"{check.status.upper():<4}", STATUS_COLOUR[check.status], on=coloured
        )
        lines.append(f"{status}  {check.name:<{width}}  {check.detail}")
        if check.fix and check.status != OK:
            lines.append(f"{'':<4}  {'':<{width}}  fix: {check.fix}")
    return "\n".join(lines) + "\n"


def render_json(checks: list[Check]) -> str:
    return json.dumps({"checks": [attrs.asdict(c) for c in checks]}, indent=2) + "\n"


def passed(checks: list[Check]) -> bool:
    return all(c.status != FAIL for c in checks)
