"""Endpoint resolution (as the docker CLI: --context, DOCKER_HOST, DOCKER_CONTEXT, the
current context) and what booth does differently on a remote engine. Pure: no engine."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from reconciler.apply.lock import lock_path
from reconciler.engine import remote
from reconciler.engine.address import DEFAULT_HOST, resolve
from reconciler.engine.seam import EngineInfo
from reconciler.errors import ConfigError


def make_context(config: Path, name: str, host: str, tls: bool = False, skip: bool = False) -> None:
    context_id = hashlib.sha256(name.encode()).hexdigest()
    meta = config / "contexts" / "meta" / context_id
    meta.mkdir(parents=True)
    endpoint = {"Host": host, "SkipTLSVerify": skip}
    (meta / "meta.json").write_text(json.dumps({"Name": name, "Endpoints": {"docker": endpoint}}))
    if tls:
        files = config / "contexts" / "tls" / context_id / "docker"
        files.mkdir(parents=True)
        for stem in ("ca", "cert", "key"):
            (files / f"{stem}.pem").write_text("x")


def test_default_is_the_local_socket(tmp_path: Path) -> None:
    found = resolve(environ={"DOCKER_CONFIG": str(tmp_path)})
    assert (found.url, found.source, found.is_local, found.tls) == (
        DEFAULT_HOST,
        "default",
        True,
        None,
    )


def test_docker_host_with_tls_variables(tmp_path: Path) -> None:
    for stem in ("ca", "cert", "key"):
        (tmp_path / f"{stem}.pem").write_text("x")
    env = {
        "DOCKER_HOST": "tcp://engine:2376",
        "DOCKER_TLS_VERIFY": "1",
        "DOCKER_CERT_PATH": str(tmp_path),
    }
    found = resolve(environ=env)
    assert found.transport == "tcp+tls" and not found.is_local
    assert found.tls is not None and found.tls.verify
    assert found.tls.cert == str(tmp_path / "cert.pem")
    assert found.host == "engine:2376"


def test_order_flag_then_docker_host_then_docker_context_then_current(tmp_path: Path) -> None:
    make_context(tmp_path, "flagged", "ssh://me@flag")
    make_context(tmp_path, "envctx", "ssh://me@env")
    make_context(tmp_path, "current", "tcp://current:2376", tls=True)
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": "current"}))
    env = {"DOCKER_CONFIG": str(tmp_path)}
    assert resolve(environ=env).url == "tcp://current:2376"
    assert resolve(environ=env).source == "context current"
    assert resolve(environ=env).tls is not None
    assert resolve(environ={**env, "DOCKER_CONTEXT": "envctx"}).url == "ssh://me@env"
    with_host = {**env, "DOCKER_CONTEXT": "envctx", "DOCKER_HOST": "unix:///x.sock"}
    assert resolve(environ=with_host).url == "unix:///x.sock"
    assert resolve("flagged", environ=with_host).url == "ssh://me@flag"
    assert resolve("default", environ=env).url == DEFAULT_HOST


def test_skip_tls_verify_context_encrypts_without_a_ca(tmp_path: Path) -> None:
    make_context(tmp_path, "lax", "tcp://h:2376", tls=True, skip=True)
    found = resolve("lax", environ={"DOCKER_CONFIG": str(tmp_path)})
    assert found.tls is not None and not found.tls.verify and found.tls.cert


def test_an_unknown_context_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="docker context 'nope' not found"):
        resolve("nope", environ={"DOCKER_CONFIG": str(tmp_path)})


def test_the_lock_follows_the_resolved_endpoint_not_the_context_name(tmp_path: Path) -> None:
    make_context(tmp_path, "a", "ssh://me@box")
    make_context(tmp_path, "b", "ssh://me@box")
    env = {"DOCKER_CONFIG": str(tmp_path)}
    first, second = resolve("a", environ=env), resolve("b", environ=env)
    assert lock_path(first.url, "x-1") == lock_path(second.url, "x-1")
    assert lock_path(first.url, "x-1") != lock_path(DEFAULT_HOST, "x-1")


CODE = "/home/me/code"


def test_only_the_code_dir_becomes_a_mount() -> None:
    config = {"HostConfig": {"Binds": [f"{CODE}:/home/coder/code", "/data:/data"]}}
    sent = remote.code_dir_as_mount(config)
    assert sent["HostConfig"]["Binds"] == ["/data:/data"]
    assert sent["HostConfig"]["Mounts"] == [
        {"Type": "bind", "Source": CODE, "Target": "/home/coder/code"}
    ]
    assert config["HostConfig"]["Binds"][0].startswith(CODE)  # the input is not changed


def test_the_engines_missing_bind_error_names_host_and_path() -> None:
    error = 'invalid mount config for type "bind": bind source path does not exist: /x/y'
    path = remote.missing_bind(error)
    assert path == "/x/y"
    message = remote.missing_bind_message(path, "me@box:22", local=False)
    assert "/x/y does not exist on the engine's host me@box:22" in message


def info(endpoint: str, transport: str, local: bool = False) -> EngineInfo:
    return EngineInfo("docker", "27.1", "1.46", endpoint, local, transport, "DOCKER_HOST")


def test_reach_hints_ssh_forwards_every_published_tcp_port() -> None:
    ports = ["127.0.0.1:10000:10000/tcp", "0.0.0.0:8080:80/tcp", "127.0.0.1:53:53/udp"]
    hints = remote.reach_hints(info("ssh://me@box:2222", "ssh"), ports)
    assert hints == [
        "Reach the published ports from here: "
        "ssh -N -L 8080:localhost:8080 -L 10000:127.0.0.1:10000 -p 2222 me@box"
    ]


def test_reach_hints_tcp_says_loopback_is_the_engines() -> None:
    hints = remote.reach_hints(info("tcp://box:2376", "tcp+tls"), ["127.0.0.1:10000:10000/tcp"])
    assert hints == [
        "Port 10000: bound to 127.0.0.1 on box, not reachable from here directly; "
        "tunnel it: ssh -N -L 10000:127.0.0.1:10000 box"
    ]
    assert remote.reach_hints(info("unix:///s", "unix", local=True), ["1:2:3/tcp"]) == []


def test_describe_names_kind_version_place_and_source() -> None:
    line = remote.describe(info("ssh://me@box", "ssh"))
    assert line == "Engine: docker 27.1 (API 1.46), remote over ssh, ssh://me@box, DOCKER_HOST"
