"""The Engine API's multiplexed log stream, split back into the container's stdout and
stderr (``docker_calls.log_frames``): the frames ``booth logs`` and ``booth run`` read,
and the request ``docker_calls.demuxed_logs`` makes for them."""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

import docker
import pytest
from api_socket import API, unix_api

from reconciler.engine.docker.calls import demuxed_logs, log_frames
from reconciler.errors import EngineNotFound


def frame(stream: int, data: bytes) -> bytes:
    return struct.pack(">BxxxL", stream, len(data)) + data


def test_each_frame_goes_to_its_stream_in_order() -> None:
    raw = io.BytesIO(frame(1, b"out\n") + frame(2, b"err\n") + frame(1, b"") + frame(1, b"more\n"))
    assert list(log_frames(raw)) == [(b"out\n", None), (None, b"err\n"), (b"more\n", None)]


def test_a_cut_stream_ends_without_a_partial_frame() -> None:
    whole = frame(2, b"complete\n")
    assert list(log_frames(io.BytesIO(whole + frame(1, b"cut short")[:-3]))) == [
        (None, b"complete\n"),
        (b"cut sh", None),  # a payload the engine ended early is what arrived of it
    ]
    assert list(log_frames(io.BytesIO(whole + b"\x01\x00\x00"))) == [(None, b"complete\n")]
    assert list(log_frames(io.BytesIO(whole + frame(1, b"x")[:8]))) == [(None, b"complete\n")]


def test_a_log_is_asked_as_the_sdk_asks_it_and_read_split(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``demuxed_logs`` through the real SDK and requests, over a unix socket: the same
    request ``docker logs`` sends (versioned path, parameters, config.json's
    HttpHeaders), each frame on its own stream, and a followed log silent for longer
    than the client's timeout is still read (no read timeout on a log)."""
    (tmp_path / "config.json").write_text(json.dumps({"HttpHeaders": {"X-Booth-Test": "yes"}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    with unix_api() as (url, server):
        server.log = [(1, b"out\n", 0.0), (2, b"err\n", 0.0), (1, b"late\n", 1.5)]
        client = docker.APIClient(base_url=url, version=API, timeout=1)
        chunks = list(demuxed_logs(client, "box", follow=True, tail=None))
        assert chunks == [(b"out\n", None), (None, b"err\n"), (b"late\n", None)]
        method, path, headers = server.requests[-1]
        assert (method, path) == (
            "GET",
            f"/v{API}/containers/box/logs?stdout=1&stderr=1&timestamps=0&follow=1&tail=all",
        )
        assert headers.get("X-Booth-Test") == "yes"
        client.close()


def test_a_missing_containers_log_is_the_engines_not_found() -> None:
    with unix_api() as (url, server):
        client = docker.APIClient(base_url=url, version=API)
        # Inspected, then gone before its log is asked.
        with pytest.raises(EngineNotFound, match=r"^No such container: box-gone$"):
            next(iter(demuxed_logs(client, "box-gone", follow=False, tail=5)))
        assert [path.split("?")[0] for _, path, _ in server.requests] == [
            f"/v{API}/containers/box-gone/json",
            f"/v{API}/containers/box-gone/logs",
        ]
        client.close()
