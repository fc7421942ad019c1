"""The in-memory engine beyond the contract: what only it does (its test controls, an
engine restart) and the corners of Docker it models that no real engine here can be
made to show on demand (port ranges, the ephemeral range, ambiguous ID prefixes)."""

from __future__ import annotations

import pytest

from reconciler.core.model import Kind
from reconciler.engine.memory.engine import MemoryEngine
from reconciler.errors import EngineConflict, EngineError, EngineNotFound

IMAGE = "img:1"


def sleeper(**host: object) -> dict[str, object]:
    exposed = {key: {} for key in host.get("PortBindings", {})}  # type: ignore[attr-defined]
    return {"Image": IMAGE, "ExposedPorts": exposed, "HostConfig": host}


def test_an_engine_restart_stops_what_runs_and_auto_removes() -> None:
    engine = MemoryEngine(images=[IMAGE])
    for name, auto in (("kept", False), ("gone", True), ("idle", False)):
        engine.create_container(name, sleeper(AutoRemove=auto))
    engine.primitives.start("kept")
    engine.primitives.start("gone")
    engine.memory.restart_engine()
    state = dict(engine.container_state("kept"))
    assert state.pop("StartedAt").startswith("2026-")  # when it last started, as Docker's
    assert state == {
        "Status": "exited",
        "Running": False,
        "Paused": False,
        "Restarting": False,
        "Dead": False,
        "ExitCode": 255,
    }
    assert engine.lookups.inspect(Kind.CONTAINER, "gone") is None
    assert engine.container_state("idle")["Status"] == "created"


def test_a_container_that_exits_by_itself_keeps_its_code_and_frees_its_ports() -> None:
    engine = MemoryEngine(images=[IMAGE])
    binding = {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]}
    engine.create_container("job", sleeper(PortBindings=binding))
    engine.primitives.start("job")
    assert engine.published_ports() == {8080: "container job"}
    engine.memory.exit("job", 3)
    assert engine.primitives.wait("job") == 3
    assert engine.published_ports() == {}


def test_port_ranges_and_ephemeral_ports_take_what_is_free() -> None:
    engine = MemoryEngine(images=[IMAGE])
    ranged = {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "9000-9001"}]}
    anywhere = {"81/udp": [{"HostIp": "", "HostPort": ""}]}
    for name in ("ca", "cb", "cc"):
        engine.create_container(name, sleeper(PortBindings=ranged))
    engine.primitives.start("ca")
    engine.primitives.start("cb")
    assert sorted(engine.published_ports()) == [9000, 9001]
    with pytest.raises(EngineError, match="no free port"):
        engine.primitives.start("cc")
    engine.create_container("cd", sleeper(PortBindings=anywhere))
    engine.primitives.start("cd")
    document = engine.lookups.inspect(Kind.CONTAINER, "cd")
    assert document is not None
    assert document["NetworkSettings"]["Ports"] == {
        "81/udp": [{"HostIp": "0.0.0.0", "HostPort": "49153"}]
    }


def test_a_wildcard_binding_clashes_with_a_specific_one_as_the_proxy_says() -> None:
    engine = MemoryEngine(images=[IMAGE])
    specific = {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]}
    wildcard = {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}
    other = {"80/tcp": [{"HostIp": "127.0.0.2", "HostPort": "8080"}]}
    for name, binding in (("sp", specific), ("wi", wildcard), ("ot", other)):
        engine.create_container(name, sleeper(PortBindings=binding))
    engine.primitives.start("sp")
    with pytest.raises(EngineError, match=r"listen tcp4 0\.0\.0\.0:8080: bind: address already"):
        engine.primitives.start("wi")
    engine.primitives.start("ot")  # another address: no clash


def test_references_names_and_filters_are_checked_as_docker_checks_them() -> None:
    engine = MemoryEngine(images=[IMAGE])
    for bad in ("-bad", "a"):  # Docker's rule: at least two characters
        with pytest.raises(EngineError, match="Invalid container name"):
            engine.create_container(bad, sleeper())
    with pytest.raises(EngineNotFound, match="No such image"):
        engine.create_container("xx", {"Image": "absent:1"})
    ids = [engine.create_container(f"c{n}", sleeper()) for n in range(17)]
    firsts = [i[0] for i in ids]
    common = next(f for f in firsts if firsts.count(f) > 1)  # 17 IDs, 16 hex digits
    with pytest.raises(EngineError, match="multiple IDs"):
        engine.container(common)
    assert engine.container(f"/{'c1'}")[0] == ids[1]
    with pytest.raises(EngineError, match="invalid filter 'status'"):
        engine.lookups.containers({"status": "running"})
    with pytest.raises(EngineNotFound):
        engine.volume_labels("nothing")


def test_pause_unpause_and_states_set_by_hand() -> None:
    engine = MemoryEngine(images=[IMAGE])
    engine.create_container("pp", sleeper())
    with pytest.raises(EngineConflict, match="is not running"):
        engine.memory.pause("pp")
    with pytest.raises(EngineConflict, match="is not paused"):
        engine.memory.unpause("pp")
    engine.primitives.start("pp")
    engine.primitives.start("pp")  # already running: nothing to do, as Docker's 304
    engine.memory.pause("pp")
    engine.memory.unpause("pp")
    engine.memory.set_status("pp", "dead", 137)
    assert engine.container_state("pp")["Dead"] is True
    engine.memory.set_status("pp", "running")
    with pytest.raises(EngineError, match="cannot wait"):
        engine.primitives.wait("pp")
    with pytest.raises(EngineError, match="timed out after 5s"):
        engine.primitives.wait("pp", 5)


def test_execs_logs_and_terminals() -> None:
    engine = MemoryEngine(images=[IMAGE], exec_result=lambda _c, cmd: (4, " ".join(cmd)))
    engine.create_container("ee", sleeper())
    engine.primitives.start("ee")
    exec_id, chunks = engine.exec_streamed("ee", ["echo", "hi"])
    assert list(chunks) == [(b"echo hi", None)]
    assert engine.exec_exit_code(exec_id) == 4
    with pytest.raises(EngineNotFound):
        engine.exec_exit_code("unknown")
    engine.memory.write_log("ee", "one", "two", "three")
    assert engine.logs("ee", 2) == "two\nthree\n"
    assert engine.logs("ee", 0) == ""
    assert len(list(engine.primitives.log_stream("ee", follow=False, tail=None))) == 3
    assert list(engine.primitives.log_stream("ee", follow=True, tail=1)) == [(b"three\n", None)]
    # A TTY exec's connection carries its output raw; without TTY, in the API's frames.
    exec_id, stream = engine.exec_attached("ee", ["echo", "tty"], tty=True)
    assert stream.recv(100) == b"echo tty"
    with pytest.raises(EngineNotFound, match="no such exec"):  # it ran: gone, as Docker's
        engine.primitives.exec_resize(exec_id, 24, 80)
    _exec_id, stream = engine.exec_attached("ee", ["echo", "-i"], tty=False)
    assert stream.recv(100) == b"\x01\x00\x00\x00\x00\x00\x00\x07echo -i"
    assert engine.primitives.attach("ee").recv(10) == b""  # nothing runs, nothing written
    engine.primitives.resize("ee", 24, 80)
    engine.primitives.stop("ee", 0)
    with pytest.raises(EngineConflict, match="is not running"):
        engine.primitives.resize("ee", 24, 80)


def test_who_the_engine_says_it_is() -> None:
    engine = MemoryEngine()
    assert engine.identity().kind == "docker"
    assert engine.address == "memory://" and not engine.is_local
    assert engine.primitives.info()["SecurityOptions"] == []
    assert engine.privileged_allowed() is None
    assert engine.missing_bind_source(IMAGE, "/anywhere") is None
    engine.close()
    assert engine.memory.closed
    with pytest.raises(EngineError, match="pull access denied"):
        engine.pull("absent:1", lambda _event: None)
