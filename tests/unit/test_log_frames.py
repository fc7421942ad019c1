"""The Engine API's multiplexed log stream, split back into the container's stdout and
stderr (``docker_calls.log_frames``): the frames ``booth logs`` and ``booth run`` read."""

from __future__ import annotations

import io
import struct

from reconciler.docker_calls import log_frames


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
