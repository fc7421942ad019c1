"""The dependencies' insides booth leans on (``sdk_private``, ``argparse_private``), checked
against the installed libraries on real objects and sockets.

Each use has a test here that fails when the library changes under it: the private
attribute or method gone or reshaped, or the library's behaviour that made the use
necessary gone (then the use can go too: the assertion's message says so). The list,
with the reasons, is in docs/design.md ("Private APIs we use").
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
import requests
import shtab
from api_socket import VERSION, tls_api, unix_api

from reconciler.apply.certificates import issue
from reconciler.cli import completion
from reconciler.cli.argparse_private import DashDashValueParser
from reconciler.core.inner_daemon import SERVER_TLS_DIR
from reconciler.engine.docker.private import APIClient, hijacked_socket

# -- sdk_private.hijacked_socket ------------------------------------------------------------


def test_a_socketio_keeps_its_socket_as_sock() -> None:
    left, right = socket.socketpair()
    with left, right:
        assert socket.SocketIO(left, "rwb")._sock is left  # type: ignore[attr-defined]


def test_an_exec_socket_over_unix_is_unwrapped_to_a_socket_that_half_closes() -> None:
    with unix_api() as (url, _server):
        client = docker.APIClient(base_url=url, version="1.41")
        handle = client.exec_start("run", socket=True)
        # What the SDK hands back over unix:// (docker 7.2.0): if this changes, so must
        # hijacked_socket (a socket or an SSLSocket needs no unwrapping).
        assert isinstance(handle, socket.SocketIO)
        stream = hijacked_socket(handle)
        assert isinstance(stream, socket.socket)
        stream.sendall(b"ping")
        assert _read(stream, 4) == b"ping"
        stream.shutdown(socket.SHUT_WR)  # booth exec -i's end of stdin
        assert _read(stream, 10) == b"bye"
        stream.close()
        client.close()


def test_anything_but_a_socketio_is_used_as_it_is() -> None:
    left, right = socket.socketpair()
    with left, right:
        assert hijacked_socket(left) is left


def _read(stream: socket.socket, most: int) -> bytes:
    data = b""
    while len(data) < most and (chunk := stream.recv(most - len(data))):
        data += chunk
    return data


# -- sdk_private.APIClient.version ----------------------------------------------------------


def test_the_sdk_asks_the_engine_version_once_through_version() -> None:
    with unix_api() as (url, server):
        client = APIClient(base_url=url)  # the SDK asks /version for the API version
        assert client.api_version == VERSION["ApiVersion"]
        assert client.version(api_version=False) == VERSION  # booth's ask: the same answer
        assert [path for _, path, _ in server.requests] == ["/version"]
        client.close()


def test_a_seeded_client_asks_no_version() -> None:
    with unix_api() as (url, server):
        client = APIClient(base_url=url, version="1.41")
        client.seed_version(VERSION)
        assert client.version(api_version=False) == VERSION
        assert server.requests == []
        client.close()


# -- sdk_private.APIClient.merge_environment_settings -----------------------------------------


@pytest.fixture
def certificates(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """(the server's directory: ca.pem, cert.pem, key.pem; another CA's file)."""
    for name, instance in (("engine", "private-apis"), ("other", "another")):
        for path, content in issue(instance).items():
            local = tmp_path / name / path.lstrip("/")
            local.parent.mkdir(parents=True, exist_ok=True)
            local.write_bytes(content)
    yield (
        tmp_path / "engine" / SERVER_TLS_DIR.lstrip("/"),
        (tmp_path / "other" / SERVER_TLS_DIR.lstrip("/") / "ca.pem"),
    )


def test_the_engines_ca_wins_over_requests_ca_bundle(
    certificates: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    server_dir, other_ca = certificates
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other_ca))
    tls = docker.tls.TLSConfig(ca_cert=str(server_dir / "ca.pem"), verify=True)
    with tls_api(server_dir / "cert.pem", server_dir / "key.pem") as (url, _server):
        client = APIClient(base_url=url, version="1.41", tls=tls)
        assert client.version(api_version=False) == VERSION
        client.close()
        # psf/requests#3829: the variable replaces a session's CA file. When requests
        # stops doing that, the override in sdk_private.APIClient can go.
        plain = docker.APIClient(base_url=url, version="1.41", tls=tls)
        with pytest.raises(requests.exceptions.SSLError):
            plain.version(api_version=False)
        plain.close()


def test_requests_still_merges_through_merge_environment_settings() -> None:
    parameters = list(inspect.signature(requests.Session.merge_environment_settings).parameters)
    assert parameters == ["self", "url", "proxies", "stream", "verify", "cert"]
    assert "self.merge_environment_settings(" in inspect.getsource(requests.Session.request)


# -- sdk_private.quieten_ssh_close -------------------------------------------------------------


@contextlib.contextmanager
def _ssh_socket(command: list[str]) -> Iterator[object]:
    """The SDK's shell-out SSH socket with ``command`` as its ssh process."""
    from docker.transport.sshconn import SSHSocket

    sock = SSHSocket("booth@127.0.0.1:22")
    sock.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        yield sock
    finally:
        sock.proc.kill()
        sock.proc.wait()
        for pipe in (sock.proc.stdin, sock.proc.stdout):
            with contextlib.suppress(OSError):
                pipe.close()
        socket.socket.close(sock)


# ssh still running but gone from its stdin: what the SDK's close meets after a stream.
_DEAF = ["sh", "-c", "exec 0<&-; exec sleep 30"]


def test_the_sdks_ssh_close_still_raises_when_ssh_is_gone() -> None:
    from docker.transport.sshconn import SSHSocket

    original = SSHSocket.close.__wrapped__  # type: ignore[attr-defined]
    assert list(inspect.signature(original).parameters) == ["self"]
    with _ssh_socket(_DEAF) as sock:
        _wait_for_closed_stdin(sock)
        # When this stops raising, quieten_ssh_close can go.
        with pytest.raises(BrokenPipeError):
            original(sock)


def test_the_patched_ssh_close_is_quiet_and_ends_ssh() -> None:
    from docker.transport.sshconn import SSHSocket

    assert SSHSocket.close.__qualname__ == "quiet_close.<locals>.close"
    with _ssh_socket(_DEAF) as sock:
        _wait_for_closed_stdin(sock)
        sock.close()  # type: ignore[attr-defined]
        assert sock.proc.wait(5) == -signal.SIGTERM  # type: ignore[attr-defined]


def _wait_for_closed_stdin(sock: object) -> None:
    """Until the shell has closed its stdin (it does so first thing)."""
    proc = sock.proc  # type: ignore[attr-defined]
    target = f"/proc/{proc.pid}/fd/0"
    for _ in range(500):
        if not os.path.exists(target) and os.path.exists(f"/proc/{proc.pid}/fd"):
            return
        time.sleep(0.01)
    pytest.fail("the stand-in ssh never closed its stdin")


# -- docker_sdk's deferred paramiko ----------------------------------------------------------


def test_the_sdk_imports_paramiko_without_reading_it_until_ssh_is_used() -> None:
    """``docker_sdk`` counts on the SDK reading paramiko only inside its SSH adapter's
    methods (docker 7.2.0): else every booth command pays paramiko's import again."""
    probe = (
        "import sys, reconciler.engine.docker.sdk\n"
        "print(type(sys.modules['paramiko']).__name__)\n"
        "import docker.transport.sshconn as ssh\n"
        "print(ssh.paramiko.SSHClient.__module__, type(sys.modules['paramiko']).__name__)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split("\n")[:2] == ["_Deferred", "paramiko.client module"]


# -- argparse_private.DashDashValueParser ---------------------------------------------------


@pytest.mark.parametrize(
    ("name", "parameters"),
    [
        ("_get_values", ["self", "action", "arg_strings"]),
        ("_get_value", ["self", "action", "arg_string"]),
        ("_check_value", ["self", "action", "value"]),
    ],
)
def test_argparse_still_has_the_methods_the_override_uses(name: str, parameters: list[str]) -> None:
    method = getattr(argparse.ArgumentParser, name)
    assert list(inspect.signature(method).parameters) == parameters


def _parser(cls: type[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    parser = cls(prog="t", exit_on_error=False)
    parser.add_argument("-p", type=lambda value: f"<{value}>")
    parser.add_argument("--mode", choices=("a", "b"))
    return parser


def test_dash_dash_after_equals_reaches_type_and_choices() -> None:
    assert _parser(DashDashValueParser).parse_args(["-p=--"]).p == "<-->"
    assert _parser(DashDashValueParser).parse_args(["-p=x"]).p == "<x>"
    with pytest.raises(argparse.ArgumentError, match="invalid choice: '--'"):
        _parser(DashDashValueParser).parse_args(["--mode=--"])


def test_plain_argparse_still_drops_dash_dash_after_equals() -> None:
    # When argparse keeps it, DashDashValueParser can go.
    assert _parser(argparse.ArgumentParser).parse_args(["-p=--"]).p == []


# -- completion's copy of shtab's hints -------------------------------------------------------


def test_completion_spells_shtabs_hints_as_shtab_does() -> None:
    # Copied so that the parser carries them without importing shtab; shtab's bash
    # functions they name are shtab's own.
    for ours, shtabs in ((completion.FILE, shtab.FILE), (completion.DIRECTORY, shtab.DIRECTORY)):
        assert ours == {shell: shtabs[shell] for shell in completion.SHELLS}
