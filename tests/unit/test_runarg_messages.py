"""Run-args: the exact lines a user reads, and the flags the tokenizer hands on.

An error is one line that names the run-arg as written, its value when that was a word of
its own, where it came from, and what to do instead; a warning says what was ignored and
why. ``test_runargs.py`` checks that errors name the flag; these check the whole line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.config.runargs.flags import DETACH_WHY, LONG, PLATFORM_WHY, ParseContext
from reconciler.config.runargs.routing import Flag, RoutedRunArgs, route, tokenize, words_from
from reconciler.errors import RunArgError

SOURCE = "config run-args"
NETWORK_WHY = "in DinD mode the booth shares the sidecar's network namespace"


def routed(*words: str, dind: bool = True) -> RoutedRunArgs:
    return route(words_from(words, SOURCE), dind=dind, context=ParseContext(Path("/c"), {}))


def error(*words: str, dind: bool = True) -> str:
    with pytest.raises(RunArgError) as caught:
        routed(*words, dind=dind)
    return str(caught.value)


@pytest.mark.parametrize(
    ("words", "shown"),
    [
        (("--network", "host"), "'--network' 'host'"),
        (("--network=host",), "'--network=host'"),
        (("--net", "host"), "'--net' 'host'"),
    ],
)
def test_a_dropped_network_is_a_warning_quoting_the_words(
    words: tuple[str, ...], shown: str
) -> None:
    result = routed(*words, "-e", "A=1")
    assert result.warnings == (f"ignoring run-arg {shown} ({SOURCE}): {NETWORK_WHY}",)
    assert result.booth.get("Env") == ["A=1"]


@pytest.mark.parametrize("dind", [True, False])
def test_a_refused_flag_says_what_to_do_instead(dind: bool) -> None:
    assert error("--platform=linux/arm64", dind=dind) == (
        f"run-arg '--platform=linux/arm64' ({SOURCE}) is not supported: {PLATFORM_WHY}"
    )


def test_detach_is_accepted_with_a_warning_saying_why() -> None:
    assert routed("-d").warnings == (f"run-arg '-d' ({SOURCE}) changes nothing: {DETACH_WHY}",)
    assert routed("--detach=false").warnings == ()


def test_a_refused_boolean_set_to_false_is_skipped_and_the_rest_still_read() -> None:
    result = routed("--publish-all=false", "-e", "A=1", "-P=0", "-w", "/w")
    assert result.booth.get("Env") == ["A=1"]
    assert result.booth.get("WorkingDir") == "/w"


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (("-e",), f"run-arg '-e' ({SOURCE}) is missing its value"),
        (("-ie",), f"run-arg '-ie' ({SOURCE}) is missing its value"),
        (
            ("--name", "x"),
            f"run-arg '--name' ({SOURCE}) is not allowed: "
            "the container name is derived from `name` and `port`",
        ),
        (
            ("-v", "/tmp:/x:bogus"),
            f"run-arg '-v' '/tmp:/x:bogus' ({SOURCE}): invalid mode 'bogus' (options: rw or "
            "ro, z or Z, nocopy, a propagation such as rshared, a consistency such as "
            "cached; each at most once)",
        ),
        (
            ("ubuntu",),
            f"unexpected run-arg 'ubuntu' ({SOURCE}): run-args are docker run flags; "
            "set the image with `image` and the command with `cmds`",
        ),
        (
            ("-",),
            f"unexpected run-arg '-' ({SOURCE}): run-args are docker run flags; "
            "set the image with `image` and the command with `cmds`",
        ),
        (
            ("--privileged=maybe",),
            f"run-arg '--privileged=maybe' ({SOURCE}): "
            "expected true or false (or 1, t, 0, f), not 'maybe'",
        ),
        (
            ("-m", "lots"),
            f"run-arg '-m' 'lots' ({SOURCE}): expected a size like 512m, 1.5g or 2GiB, not 'lots'",
        ),
        (
            ("-mlots",),
            f"run-arg '-mlots' ({SOURCE}): expected a size like 512m, 1.5g or 2GiB, not 'lots'",
        ),
    ],
)
def test_run_arg_errors_are_one_exact_line(words: tuple[str, ...], message: str) -> None:
    assert error(*words) == message


def test_an_unsupported_flag_lists_every_supported_one() -> None:
    message = error("--cidfile=id")
    head, _, listed = message.partition("; supported: ")
    assert head == f"unsupported run-arg '--cidfile=id' ({SOURCE})"
    assert listed.split(", ")[:3] == ["--env", "--env-file", "--volume"]
    assert listed.split(", ")[-1] == "--add-host"


# -- what the tokenizer hands on --------------------------------------------------------


def flag(name: str, value: str, raw: str) -> Flag:
    return Flag(LONG[name], value, raw, SOURCE)


def test_a_bare_boolean_reads_as_true_in_every_spelling() -> None:
    assert tokenize(words_from(["-it", "--tty", "-t=false"], SOURCE)) == [
        flag("interactive", "true", "-it"),
        flag("tty", "true", "-it"),
        flag("tty", "true", "--tty"),
        flag("tty", "false", "-t=false"),
    ]


def test_a_short_cluster_may_end_in_a_flag_with_a_value() -> None:
    assert tokenize(words_from(["-ip", "80:80", "-e", "A", "-eB", "-w=/w"], SOURCE)) == [
        flag("interactive", "true", "-ip"),
        flag("publish", "80:80", "-ip"),
        flag("env", "A", "-e"),
        flag("env", "B", "-eB"),
        flag("workdir", "/w", "-w=/w"),
    ]
