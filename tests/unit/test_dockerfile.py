"""The base images of a Dockerfile, which ``pull = true`` pulls before planning."""

from __future__ import annotations

import pytest

from reconciler.dockerfile import base_images


def test_every_from_in_order_once_without_stages_or_scratch() -> None:
    text = """\
# syntax comment
from golang:1.22 AS build
RUN go build
FROM --platform=linux/amd64 debian:12 as runtime
FROM build AS again
FROM scratch
FROM Runtime
FROM golang:1.22
"""
    assert base_images(text, {}) == ("golang:1.22", "debian:12")


def test_global_args_and_build_args_are_substituted() -> None:
    text = """\
ARG BASE=team/base
ARG TAG
ARG ONLY_DEFAULT="x"
FROM ${BASE}:${TAG:-1} AS one
ARG LATE=ignored
FROM $BASE-$ONLY_DEFAULT
FROM ${LATE}
FROM ${UNDECLARED}/image
"""
    assert base_images(text, {}) == ("team/base:1", "team/base-x")
    assert base_images(text, {"TAG": "2", "BASE": "other"}) == ("other:2", "other-x")


def test_continuations_comments_and_the_escape_directive() -> None:
    assert base_images("FROM \\\n  # a comment between\n  busybox:1\n", {}) == ("busybox:1",)
    assert base_images("# escape=`\nFROM `\n  busybox:2\nRUN a \\\n", {}) == ("busybox:2",)


@pytest.mark.parametrize("text", ["", "\n\n", "RUN x\n", "FROM\n", "FROM --platform=x\n"])
def test_no_base_image(text: str) -> None:
    assert base_images(text, {}) == ()
