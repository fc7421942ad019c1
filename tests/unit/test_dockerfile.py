"""The base images of a Dockerfile, which ``pull = true`` pulls before planning."""

from __future__ import annotations

import pytest

from reconciler.image.dockerfile import base_images, reads_context, trigger_bases


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


@pytest.mark.parametrize(
    "text",
    [
        "FROM a\nCOPY . /code\n",
        "FROM a\ncopy --chown=1:1 x /x\n",
        "FROM a\nCOPY --link x /x\n",
        "FROM a\nADD https://example.invalid/f /f\n",  # cautious: ADD counts
        "FROM a\nRUN --mount=type=bind,target=/src make\n",
        "FROM a\nRUN --network=none --mount=type=cache,target=/c make\n",
        "FROM a\nONBUILD RUN true\n",  # a later stage FROM this one runs it
        "# syntax=docker/dockerfile:1\nFROM a\n",
        "# check=skip=all\n#SYNTAX = other/frontend\nFROM a\n",
        "FROM a\nRUN echo \\\n  && true\nCOPY \\\n  x /x\n",
    ],
)
def test_what_may_read_the_build_context(text: str) -> None:
    assert reads_context(text)
    assert trigger_bases(text, {}) is None


@pytest.mark.parametrize(
    ("text", "bases"),
    [
        ("FROM a\nRUN echo COPY --mount ADD\n", ("a",)),
        ("FROM a AS build\nRUN make\nFROM b\nCOPY --from=build /out /out\n", ("a", "b")),
        ("FROM a\nCOPY --from=other/image:1 /x /x\n", ("a",)),
        ("FROM scratch\n", ()),
        ("# a comment\n\n# syntax=ignored after a blank line\nFROM a\n", ("a",)),
        ("ARG V=1\nFROM a:${V}\nRUN echo $V\n", ("a:1",)),
    ],
)
def test_a_dockerfile_that_reads_nothing_names_the_bases_to_check(
    text: str, bases: tuple[str, ...]
) -> None:
    assert not reads_context(text)
    assert trigger_bases(text, {}) == bases


def test_a_base_not_known_here_cannot_be_checked() -> None:
    text = "ARG BASE\nFROM ${BASE}\nFROM b\n"
    assert trigger_bases(text, {}) is None
    assert trigger_bases(text, {"BASE": "a:2"}) == ("a:2", "b")
    assert trigger_bases("FROM $UNDECLARED\n", {"UNDECLARED": "x"}) is None
    assert trigger_bases("FROM --platform=linux/amd64\n", {}) is None


@pytest.mark.parametrize(
    ("text", "bases"),
    [
        ("\ufeffFROM a\n", ("a",)),  # a byte order mark before the first instruction
        ("FROM a\n# escape=`\nFROM b \\\n  AS c\nFROM c\n", ("a", "b")),  # first line only
        ("FROM a AS \\   \n  s\nFROM s\n", ("a",)),  # blanks after the escape: continued
        ("FROM \\\n  a \\\n  AS s\nFROM s\n", ("a",)),  # continued over three lines
        ("FROM busybox:\\\n1\n", ("busybox:1",)),  # the lines are joined as they are
        ("FROM ${UNDECLARED:-busybox}\n", ("busybox",)),  # a default needs no ARG
        ("FROM ${BASE-busybox}\n", ()),  # not a form this reads: not known here
        ("ARG BASE=Xbase\nFROM $BASE\n", ("Xbase",)),  # only quotes are stripped
        ("FROM --platform=linux/amd64\nFROM b\n", ("b",)),  # a FROM without image
    ],
)
def test_the_parser_edges_that_decide_a_base(text: str, bases: tuple[str, ...]) -> None:
    assert base_images(text, {}) == bases


def test_a_syntax_directive_after_a_byte_order_mark_and_a_file_of_comments() -> None:
    assert reads_context("\ufeff# syntax=docker/dockerfile:1\nFROM a\n")
    assert trigger_bases("# only a comment\n", {}) == ()
    assert trigger_bases("FROM ${BASE-busybox}\n", {}) is None
