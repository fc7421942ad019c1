"""``~`` and ``$VAR`` expansion: Go's ``os.ExpandEnv`` after CodingBooth's ``~`` rule.

Each row is what CodingBooth 0.13 (``ilist/semicolon_string_list.go`` ``expandEnv``, i.e.
``os.ExpandEnv`` of Go's ``os/env.go`` ``Expand``/``getShellName``) makes of the text.
"""

from __future__ import annotations

import pytest

from reconciler.config.expand import expand

ENV = {"HOME": "/home/me", "A": "1", "EMPTY": "", "_x9": "u"}


@pytest.mark.parametrize(
    ("text", "value", "unset"),
    [
        ("plain", "plain", ()),
        ("$A", "1", ()),
        ("${A}b", "1b", ()),
        ("$A-b", "1-b", ()),  # a name is letters, digits and _
        ("$_x9.", "u.", ()),
        ("$EMPTY|", "|", ()),  # set but empty: not reported
        ("$NOPE/x", "/x", ("NOPE",)),
        ("${NOPE}${NOPE}", "", ("NOPE",)),  # reported once
        ("~/code", "/home/me/code", ()),
        ("~", "/home/me", ()),
        ("~user/code", "~user/code", ()),  # only ~ and ~/ (not ~user)
        ("a~/b", "a~/b", ()),
        ("$", "$", ()),  # a trailing dollar is kept
        ("a$ b", "a$ b", ()),  # a dollar before no name is kept
        ("cost: 5$", "cost: 5$", ()),
        ("${}", "", ()),  # bad syntax: eaten
        ("${A", "A", ()),  # "${" without "}": the "${" is eaten
        ("${A:-x}", "", ("A:-x",)),  # no shell defaults in Go: the whole name is looked up
        ("$1", "", ("1",)),  # one-character shell specials
        ("${@}", "", ("@",)),
        ("$$", "", ("$",)),
        ("=$A=", "=1=", ()),
    ],
)
def test_expansion_follows_go_os_expandenv(text: str, value: str, unset: tuple[str, ...]) -> None:
    result = expand(text, ENV)
    assert (result.value, result.unset) == (value, unset)


def test_home_comes_from_the_given_environment() -> None:
    assert expand("~/x", {}).value == "/x"
    assert expand("~/x", {}).unset == ("HOME",)
