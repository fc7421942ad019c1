"""One contract for every engine booth drives: the in-memory one and the real ones.

:class:`ContractCases` holds the assertions; a test module subclasses it and provides a
``bench`` fixture (:class:`Bench`): ``tests/unit/test_engine_contract_memory.py`` runs them
on :class:`reconciler.engine.memory.engine.MemoryEngine`, ``tests/integration/
test_engine_contract.py`` on the local Docker and, in CI, on every engine of
``BOOTH_TEST_ENGINES`` (Podman included). So what the unit tests learn from the
in-memory engine holds for the real ones: when Docker and the fake disagree, a case
here fails on one of them.

Only what booth relies on is asserted, through the :class:`~reconciler.engine.engine.Engine`
calls booth makes and the :class:`~reconciler.engine.observe.Lookups` a snapshot takes. The
in-memory engine follows Docker; where Podman (4.3, CI's) answers otherwise, the case
asserts Podman's own answer under ``bench.kind == "podman"``, so a change on either
side shows. The differences (docs/engine-contract.md says what each means for booth):

P1  a create with a name in use (container, network) is a 500, not a 409;
P2  a running container's unforced removal is a 500, not a 409;
P3  a paused container cannot be stopped ("running or paused, refusing to clean up");
P4  several ``label`` filters of a volume list match any of them, not all;
P5  a ``name`` filter is matched against the name without its ``/``;
P6  starting a container that joins a stopped one's namespace starts that one too;
P7  a create joining a missing container (or network) is refused at once (500);
P8  a container removed by AutoRemove answers inspects with a 500 for a moment;
P9  a network is removed though a running container uses it;
P10 a container whose namespace another joins is not removed, even by force;
P11 a container in another's namespace lists that namespace's published ports;
P12 a stopped container still lists the ports it publishes when it runs;
P13 a one-character container name is taken (Docker refuses it).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Protocol

import pytest

from reconciler.core.model import (
    LABEL_INSTANCE,
    LABEL_MANAGED,
    LABEL_PORT,
    LABEL_ROLE,
    LABEL_SPEC_HASH,
    Kind,
    Role,
    resource_names,
)
from reconciler.engine.engine import Engine
from reconciler.engine.observe import Lookups, listed_container
from reconciler.engine.seam import BuildRequest, Stream
from reconciler.errors import EngineConflict, EngineError, EngineNotFound

STOP = 0  # seconds before SIGKILL: the test containers' sleep ignores SIGTERM
PORT_IN_USE = ("port is already allocated", "address already in use")


class Bench(Protocol):
    """An engine under contract and what a test does to it beyond booth's calls."""

    engine: Engine
    lookups: Lookups
    image: str  # a local image whose default command runs for a long time
    kind: str  # "memory", "docker" or "podman"

    def unique(self, what: str) -> str:
        """A name nothing else uses; what carries it is removed after the test."""
        ...

    def free_port(self) -> int: ...
    def remove_unforced(self, container: str) -> None: ...
    def pause(self, container: str) -> None: ...
    def unpause(self, container: str) -> None: ...
    def gone(self, container: str) -> bool:
        """Whether the container disappears (the engine may take a moment)."""
        ...

    def say(self, container: str, *lines: str) -> None:
        """The running container's main process writes ``lines`` to its log."""
        ...

    def built(self, tag: str) -> None:
        """An image tagged ``tag`` was built: remove it after the test."""
        ...


def sleeper(bench: Bench, **host: Any) -> dict[str, Any]:
    """A container that sleeps; ``host``: its HostConfig (and ``Labels``). Published
    ports are exposed too, as booth exposes them (Docker publishes no other)."""
    labels = host.pop("Labels", {})
    exposed = {key: {} for key in host.get("PortBindings", {})}
    return {
        "Image": bench.image,
        "Cmd": ["sleep", "600"],
        "Labels": labels,
        "ExposedPorts": exposed,
        "HostConfig": host,
    }


def owned(instance: str, port: int, role: Role) -> dict[str, str]:
    """The labels booth puts on an object of ``instance`` (``Resource.labels``)."""
    return {
        LABEL_MANAGED: "true",
        LABEL_INSTANCE: instance,
        LABEL_ROLE: role.value,
        LABEL_SPEC_HASH: f"hash-{role.value}",
        LABEL_PORT: str(port),
    }


def names_of(documents: list[Any]) -> set[str]:
    return {str((d.get("Names") or [d.get("Name")])[0]).lstrip("/") for d in documents}


class ContractCases:
    """The cases; subclasses provide the ``bench`` fixture."""

    def test_a_created_container_is_listed_and_inspected(self, bench: Bench) -> None:
        name = bench.unique("c")
        created = bench.engine.create_container(name, sleeper(bench, Labels={"k": name}))
        container_id, labels = bench.engine.container(name)
        assert container_id == created
        assert labels["k"] == name
        assert bench.engine.container_state(name)["Status"] == "created"
        (listed,) = bench.lookups.containers({"label": f"k={name}"})
        assert (listed["Id"], listed["Names"]) == (created, [f"/{name}"])
        assert listed["State"] == "created"
        assert listed["Labels"]["k"] == name
        by_prefix = bench.lookups.inspect(Kind.CONTAINER, created[:12])
        assert by_prefix is not None and by_prefix["Id"] == created
        assert bench.lookups.inspect(Kind.CONTAINER, bench.unique("missing")) is None

    def test_names_are_unique_per_kind(self, bench: Bench) -> None:
        name = bench.unique("same")
        bench.engine.create_container(name, sleeper(bench))
        podman = bench.kind == "podman"
        with pytest.raises(EngineError if podman else EngineConflict, match="already in use") as e:
            bench.engine.create_container(name, sleeper(bench))
        assert podman or e.type is EngineConflict  # P1: Podman's is a 500
        bench.engine.primitives.create_network(name, "bridge", {"first": "yes"})
        with pytest.raises(EngineError, match="already") as e:
            bench.engine.primitives.create_network(name, "bridge", {"second": "yes"})
        assert podman or e.type is EngineConflict  # P1
        assert bench.engine.network(name)[1] == {"first": "yes"}
        # A volume of an existing name is the existing volume, unchanged (no conflict).
        assert bench.engine.create_volume(name, "local", {"first": "yes"}) == {"first": "yes"}
        assert bench.engine.create_volume(name, "local", {"second": "yes"}) == {"first": "yes"}

    def test_a_container_name_is_two_characters_or_more(self, bench: Bench) -> None:
        """Docker's rule (booth's config refuses ``name = "a"`` first, for this reason).
        P13: Podman takes a one-character name (checked by hand: a name that short cannot
        be made unique, so the case does not create one on a shared engine)."""
        if bench.kind != "podman":
            with pytest.raises(EngineError, match="Invalid container name"):
                bench.engine.create_container("a", sleeper(bench))
        with pytest.raises(EngineError, match=r"Invalid container name|names must match"):
            bench.engine.create_container(f"-{bench.unique('dash')}", sleeper(bench))

    def test_states_follow_the_calls(self, bench: Bench) -> None:
        name = bench.unique("life")
        bench.engine.create_container(name, sleeper(bench))
        bench.engine.primitives.start(name)
        assert bench.engine.container_state(name)["Status"] == "running"
        bench.pause(name)
        assert bench.engine.container_state(name)["Status"] == "paused"
        if bench.kind == "podman":  # P3: Podman stops no paused container
            with pytest.raises(EngineError, match="running or paused"):
                bench.engine.primitives.stop(name, STOP)
            bench.unpause(name)
        bench.engine.primitives.stop(name, STOP)
        assert bench.engine.container_state(name)["Status"] == "exited"
        bench.engine.primitives.restart(name, STOP)
        assert bench.engine.container_state(name)["Status"] == "running"
        bench.engine.primitives.remove_container(name)  # booth's removal forces
        with pytest.raises(EngineNotFound):
            bench.engine.container_state(name)
        with pytest.raises(EngineNotFound):
            bench.engine.primitives.stop(name, STOP)
        with pytest.raises(EngineNotFound):
            bench.engine.primitives.remove_container(name)

    def test_a_running_container_is_removed_only_by_force(self, bench: Bench) -> None:
        name = bench.unique("run")
        bench.engine.create_container(name, sleeper(bench))
        bench.engine.primitives.start(name)
        with pytest.raises(EngineError, match="running") as refused:
            bench.remove_unforced(name)
        assert bench.kind == "podman" or refused.type is EngineConflict  # P2
        assert bench.engine.container_state(name)["Status"] == "running"
        bench.engine.primitives.stop(name, STOP)
        bench.remove_unforced(name)
        assert bench.lookups.inspect(Kind.CONTAINER, name) is None

    def test_label_filters_match_every_label_exactly(self, bench: Bench) -> None:
        tag = bench.unique("tag")
        made = {}
        for value in ("1", "2", "10"):
            made[value] = bench.unique(f"l{value}")
            labels = {tag: value, f"{tag}-extra": "x"} if value == "1" else {tag: value}
            bench.engine.create_container(made[value], sleeper(bench, Labels=labels))
            bench.engine.primitives.create_network(made[value], "bridge", labels)
            bench.engine.create_volume(made[value], "local", labels)
        for lookup in (bench.lookups.containers, bench.lookups.networks, bench.lookups.volumes):
            assert names_of(lookup({"label": f"{tag}=1"})) == {made["1"]}
            assert names_of(lookup({"label": [tag]})) == set(made.values())
            both = [f"{tag}=1", f"{tag}-extra=x"]
            assert names_of(lookup({"label": both})) == {made["1"]}
            either = names_of(lookup({"label": [f"{tag}=2", f"{tag}-extra=x"]}))
            anded = bench.kind != "podman" or lookup != bench.lookups.volumes  # P4
            assert either == (set() if anded else {made["1"], made["2"]})

    def test_name_filters_are_unanchored_patterns(self, bench: Bench) -> None:
        base = bench.unique("nm")
        short, longer = f"{base}-alpha", f"{base}-alphabet"
        for name in (short, longer):
            bench.engine.create_container(name, sleeper(bench))
            bench.engine.primitives.create_network(name, "bridge", {})
            bench.engine.create_volume(name, "local", {})
        for lookup in (bench.lookups.containers, bench.lookups.networks, bench.lookups.volumes):
            assert names_of(lookup({"name": [short]})) == {short, longer}
            assert names_of(lookup({"name": [f"{short}$"]})) == {short}
            assert names_of(lookup({"name": [f"^{short}$"]})) == {short}
        slashed = names_of(bench.lookups.containers({"name": [f"^/{short}$"]}))
        assert slashed == (set() if bench.kind == "podman" else {short})  # P5

    def test_joining_a_namespace_needs_the_target_running(self, bench: Bench) -> None:
        target, joiner = bench.unique("target"), bench.unique("joiner")
        target_id = bench.engine.create_container(target, sleeper(bench))
        bench.engine.create_container(joiner, sleeper(bench, NetworkMode=f"container:{target}"))
        joined = bench.lookups.inspect(Kind.CONTAINER, joiner)
        assert joined is not None
        assert joined["HostConfig"]["NetworkMode"] == f"container:{target_id}"
        if bench.kind == "podman":  # P6: Podman starts the target first
            bench.engine.primitives.start(joiner)
            assert bench.engine.container_state(target)["Status"] == "running"
        else:
            with pytest.raises(EngineError, match="non running container"):
                bench.engine.primitives.start(joiner)
            bench.engine.primitives.start(target)
            bench.engine.primitives.start(joiner)
        assert bench.engine.container_state(joiner)["Status"] == "running"
        bench.engine.primitives.stop(target, STOP)  # the joiner keeps running, in a dead namespace
        assert bench.engine.container_state(joiner)["Status"] == "running"

    def test_joining_a_missing_container_fails(self, bench: Bench) -> None:
        joiner, missing = bench.unique("orphan"), bench.unique("missing")
        mode = f"container:{missing}"
        if bench.kind == "podman":  # P7: refused at create
            with pytest.raises(EngineError, match="no such container"):
                bench.engine.create_container(joiner, sleeper(bench, NetworkMode=mode))
            return
        bench.engine.create_container(joiner, sleeper(bench, NetworkMode=mode))
        with pytest.raises(EngineNotFound):  # Docker 20.10: created, its start fails
            bench.engine.primitives.start(joiner)

    def test_a_host_port_is_held_by_one_running_container(self, bench: Bench) -> None:
        port = bench.free_port()
        first, second = bench.unique("p1"), bench.unique("p2")
        binding = {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(port)}]}
        for name in (first, second):
            bench.engine.create_container(name, sleeper(bench, PortBindings=binding))
        bench.engine.primitives.start(first)
        with pytest.raises(EngineError) as failed:
            bench.engine.primitives.start(second)
        assert any(text in str(failed.value) for text in PORT_IN_USE)
        assert bench.engine.container_state(second)["Status"] == "created"
        published = f"127.0.0.1:{port}:80/tcp"
        (listed,) = bench.lookups.containers({"name": [f"^{first}$"]})
        assert listed_container(listed, "x").ports == (published,)
        assert bench.engine.published_ports()[port] == f"container {first}"
        bench.engine.primitives.stop(first, STOP)
        (listed,) = bench.lookups.containers({"name": [f"^{first}$"]})
        held = (published,) if bench.kind == "podman" else ()  # P12
        assert listed_container(listed, "x").ports == held
        bench.engine.primitives.start(second)
        assert bench.engine.container_state(second)["Status"] == "running"

    def test_auto_remove_removes_a_stopped_container(self, bench: Bench) -> None:
        name = bench.unique("auto")
        bench.engine.create_container(name, sleeper(bench, AutoRemove=True))
        bench.engine.primitives.start(name)
        bench.engine.primitives.stop(name, STOP)
        assert bench.gone(name)

    def test_a_network_in_use_is_not_removed(self, bench: Bench) -> None:
        network, user = bench.unique("net"), bench.unique("user")
        bench.engine.primitives.create_network(network, "bridge", {"mine": "yes"})
        network_id, labels = bench.engine.network(network)
        assert labels == {"mine": "yes"}
        bench.engine.create_container(user, sleeper(bench, NetworkMode=network))
        bench.engine.primitives.start(user)
        if bench.kind != "podman":  # P9: Podman removes it all the same
            with pytest.raises(EngineError, match="active endpoints"):
                bench.engine.primitives.remove_network(network_id)
            bench.engine.primitives.stop(user, STOP)
        bench.engine.primitives.remove_network(network_id)
        with pytest.raises(EngineNotFound):
            bench.engine.network(network)
        orphan = bench.unique("orphan")
        if bench.kind == "podman":  # P7: refused at create
            with pytest.raises(EngineError, match="unable to find network"):
                bench.engine.create_container(orphan, sleeper(bench, NetworkMode=network))
            return
        bench.engine.create_container(orphan, sleeper(bench, NetworkMode=network))
        with pytest.raises(EngineNotFound):  # Docker 20.10: created, its start fails
            bench.engine.primitives.start(orphan)

    def test_a_volume_in_use_is_not_removed(self, bench: Bench) -> None:
        volume, user = bench.unique("vol"), bench.unique("user")
        bench.engine.create_container(user, sleeper(bench, Binds=[f"{volume}:/data"]))
        # A named volume a container mounts is made for it, without labels.
        assert bench.engine.volume_labels(volume) == {}
        with pytest.raises(EngineConflict, match=r"in use|being used"):
            bench.engine.primitives.remove_volume(volume)
        bench.engine.primitives.remove_container(user)
        bench.engine.primitives.remove_volume(volume)
        with pytest.raises(EngineNotFound):
            bench.engine.volume_labels(volume)

    def test_images_are_present_or_missing(self, bench: Bench) -> None:
        assert bench.engine.image_present(bench.image)
        assert str(bench.engine.image_id(bench.image)).startswith("sha256:")
        missing = f"booth-test/{bench.unique('absent')}:latest"
        assert not bench.engine.image_present(missing)
        assert bench.engine.image_id(missing) is None
        with pytest.raises(EngineNotFound):
            bench.engine.create_container(bench.unique("c"), {"Image": missing})

    def test_exec_runs_only_in_a_running_container(self, bench: Bench) -> None:
        name = bench.unique("exec")
        bench.engine.create_container(name, sleeper(bench))
        with pytest.raises(EngineError):
            bench.engine.exec_output(name, ["sh", "-c", "echo ready"])
        bench.engine.primitives.start(name)
        assert bench.engine.exec_output(name, ["sh", "-c", "echo ready"]) == (0, "ready\n")

    def test_files_go_into_a_created_container(self, bench: Bench) -> None:
        name = bench.unique("files")
        bench.engine.create_container(name, sleeper(bench))
        with pytest.raises(EngineNotFound):
            bench.engine.read_files(name, "/etc/booth-contract")
        files = {"/etc/booth-contract/a.pem": b"A", "/etc/booth-contract/sub/b.pem": b"B"}
        bench.engine.put_files(name, files)
        assert bench.engine.read_files(name, "/etc/booth-contract") == {"a.pem": b"A"}

    def test_a_snapshot_sees_an_instance_as_booth_made_it(self, bench: Bench) -> None:
        instance, port, published = bench.unique("inst"), bench.free_port(), bench.free_port()
        names = resource_names(instance, port)
        label = {r: owned(instance, port, r) for r in Role}
        bench.engine.primitives.create_network(names[Role.NETWORK], "bridge", label[Role.NETWORK])
        bench.engine.create_volume(names[Role.VOLUME], "local", label[Role.VOLUME])
        binding = {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(published)}]}
        sidecar = sleeper(
            bench,
            Labels=label[Role.SIDECAR],
            NetworkMode=names[Role.NETWORK],
            Binds=[f"{names[Role.VOLUME]}:/data"],
            PortBindings=binding,
        )
        bench.engine.create_container(names[Role.SIDECAR], sidecar)
        mode = f"container:{names[Role.SIDECAR]}"
        booth = sleeper(bench, Labels=label[Role.BOOTH], NetworkMode=mode)
        bench.engine.create_container(names[Role.BOOTH], booth)
        # Not booth's: no managed label, though it claims the instance.
        foreign = bench.unique("foreign")
        claims = {LABEL_INSTANCE: instance}
        bench.engine.create_container(foreign, sleeper(bench, Labels=claims))
        bench.engine.primitives.start(names[Role.SIDECAR])
        bench.engine.primitives.start(names[Role.BOOTH])
        ports = (f"127.0.0.1:{published}:80/tcp",)
        sidecar_name = names[Role.SIDECAR]
        joined = ports if bench.kind == "podman" else ()  # P11
        assert view(bench, instance, port) == {
            ("container", names[Role.BOOTH], True, Role.BOOTH, "hash-booth", "running", joined),
            ("container", sidecar_name, True, Role.SIDECAR, "hash-sidecar", "running", ports),
            ("container", foreign, False, None, None, "created", ()),
            ("network", names[Role.NETWORK], True, Role.NETWORK, "hash-network", None, ()),
            ("volume", names[Role.VOLUME], True, Role.VOLUME, "hash-volume", None, ()),
        }
        bench.engine.primitives.stop(names[Role.SIDECAR], STOP)
        stopped = {o[1]: o[5:] for o in view(bench, instance, port)}
        held = ports if bench.kind == "podman" else ()  # P11, P12
        assert stopped[names[Role.SIDECAR]] == ("exited", held)
        assert stopped[names[Role.BOOTH]] == ("running", held)

    # -- every primitive, and what booth builds on them ------------------------------------

    def test_who_the_engine_is(self, bench: Bench) -> None:
        info = bench.engine.identity()
        assert info.kind == ("podman" if bench.kind == "podman" else "docker")
        assert info.api_version.count(".") == 1 and info.address == bench.engine.address
        # The local socket's engine knows it from connecting; the primitive asks again.
        assert bench.engine.primitives.version()["ApiVersion"] == info.api_version
        assert isinstance(bench.engine.primitives.info().get("SecurityOptions") or [], list)
        assert bench.engine.privileged_allowed() in (None, False)

    def test_logs_are_read_whole_tailed_and_followed(self, bench: Bench) -> None:
        name = bench.unique("log")
        bench.engine.create_container(name, sleeper(bench))
        bench.engine.primitives.start(name)
        bench.say(name, "one", "two")
        assert bench.engine.logs(name, 1) == "two\n"
        whole = bench.engine.primitives.log_stream(name, follow=False, tail=None)
        assert b"".join(out or err or b"" for out, err in whole) == b"one\ntwo\n"
        followed = bench.engine.primitives.log_stream(name, follow=True, tail=1)
        bench.engine.primitives.kill(name, "SIGKILL")  # the followed log ends with it
        assert list(followed) == [(b"two\n", None)]
        followed.close()

    def test_a_kill_ends_a_container_and_wait_reports_it(self, bench: Bench) -> None:
        name = bench.unique("kill")
        bench.engine.create_container(name, sleeper(bench))
        bench.engine.primitives.start(name)
        bench.engine.primitives.kill(name, "SIGKILL")
        assert bench.engine.primitives.wait(name) == 137
        assert bench.engine.container_state(name)["ExitCode"] == 137
        if bench.kind == "podman":  # P14: a 500, "container state improper"
            with pytest.raises(EngineError, match="can only kill running containers"):
                bench.engine.primitives.kill(name, "SIGKILL")
        else:
            with pytest.raises(EngineConflict, match="is not running"):
                bench.engine.primitives.kill(name, "SIGKILL")

    def test_stop_until_logged_stops_a_container_that_never_logs_the_line(
        self, bench: Bench
    ) -> None:
        name = bench.unique("quiet")
        bench.engine.create_container(name, sleeper(bench))
        bench.engine.primitives.start(name)
        started = time.monotonic()
        bench.engine.stop_until_logged(name, STOP, b"never said")
        assert bench.engine.container_state(name)["Status"] == "exited"
        assert time.monotonic() - started < 5

    def test_a_tty_exec_is_raw_and_one_without_is_framed(self, bench: Bench) -> None:
        name = bench.unique("term")
        bench.engine.create_container(name, sleeper(bench))
        bench.engine.primitives.start(name)
        exec_id, stream = bench.engine.exec_attached(name, ["echo", "ready"], tty=True)
        assert read_all(stream).replace(b"\r\n", b"\n") == b"ready\n"  # a TTY's CRLF
        assert bench.engine.exec_exit_code(exec_id) == 0
        # A finished exec has no terminal to resize. Docker's answer depends on how soon
        # it is asked: a 500 "cannot resize a stopped container", containerd's 404
        # "process does not exist" while the exec is being forgotten, then 404 "no such
        # exec" (all three seen on Docker 20.10 in CI).
        refused = r"no such exec|cannot resize|process does not exist"
        with pytest.raises(EngineError, match=refused):
            bench.engine.primitives.exec_resize(exec_id, 24, 80)
        _exec_id, stream = bench.engine.exec_attached(name, ["echo", "ready"], tty=False)
        assert read_all(stream) == b"\x01\x00\x00\x00\x00\x00\x00\x06ready\n"
        exec_id, chunks = bench.engine.exec_streamed(name, ["echo", "ready"])
        assert b"".join(out or b"" for out, _err in chunks) == b"ready\n"
        assert bench.engine.exec_exit_code(exec_id) == 0

    def test_an_attach_ends_with_the_container_and_resize_needs_it_running(
        self, bench: Bench
    ) -> None:
        name = bench.unique("attach")
        bench.engine.create_container(name, sleeper(bench))
        bench.engine.primitives.start(name)
        stream = bench.engine.primitives.attach(name)
        bench.engine.primitives.resize(name, 24, 80)
        bench.engine.primitives.kill(name, "SIGKILL")
        assert read_all(stream) == b""
        podman = bench.kind == "podman"  # P15: Podman's words
        refused = "can only resize created or running" if podman else "is not running"
        with pytest.raises(EngineConflict, match=refused):
            bench.engine.primitives.resize(name, 24, 80)

    def test_an_unnamed_container_is_named_by_the_engine(self, bench: Bench) -> None:
        label = bench.unique("unnamed")
        created = bench.engine.primitives.create_container(
            None, sleeper(bench, Labels={label: "1"})
        )
        (listed,) = bench.lookups.containers({"label": label})
        assert listed["Id"] == created and listed["Names"][0].lstrip("/")
        bench.engine.primitives.remove_container(created)
        assert bench.lookups.containers({"label": label}) == []

    def test_a_build_tags_an_image_with_its_labels(self, bench: Bench, tmp_path: Path) -> None:
        tag = f"booth-test/{bench.unique('built')}:latest"
        (tmp_path / "Dockerfile").write_text(f"FROM {bench.image}\n")
        request = BuildRequest(str(tmp_path), "Dockerfile", tag, {}, {"k": tag})
        built = bench.engine.primitives.build(request, lambda _line: None)
        bench.built(tag)
        assert bench.engine.image_id(tag) == built
        inspected = bench.lookups.inspect(Kind.IMAGE, tag)
        assert inspected is not None and inspected["Config"]["Labels"]["k"] == tag

    def test_a_pull_of_an_image_nobody_serves_fails(self, bench: Bench) -> None:
        # A registry on a closed port here: the engine fails without leaving the host.
        missing = f"127.0.0.1:1/booth-test/{bench.unique('absent')}:latest"
        with pytest.raises(EngineError):
            bench.engine.pull(missing, lambda _event: None)
        assert not bench.engine.image_present(missing)


def read_all(stream: Stream) -> bytes:
    """Everything a connection carries until the engine hangs up."""
    data = b""
    while chunk := stream.recv(4096):
        data += chunk
    stream.close()
    return data


def view(bench: Bench, instance: str, port: int) -> set[tuple[Any, ...]]:
    """The snapshot booth plans from, without the engine's IDs."""
    return {
        (o.kind.value, o.name, o.owned, o.role, o.spec_hash, o.state, o.ports)
        for o in bench.engine.observe(instance, port)
    }
