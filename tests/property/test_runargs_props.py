"""Run-arg routing: every spelling docker accepts, every order, against a model of the flags."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.config.reader import GO_SPACE, split_semicolons
from reconciler.config.runargs.flags import ParseContext
from reconciler.config.runargs.routing import RoutedRunArgs, route, words_from

# Non-port flags, each a group of words; their relative order is kept (it matters for
# "last one wins" flags such as -w), only the port flags move around them.
OTHER_FLAGS = (
    ("-e", "A=1"),
    ("--env=B=2",),
    ("-eC=3",),
    ("-v", "/h:/c"),
    ("--volume=/anon",),
    ("--privileged",),
    ("-it",),
    ("-t=false",),
    ("-w", "/w1"),
    ("--workdir=/w2",),
    ("-l", "k=v"),
    ("--label=k=w",),
    ("--cap-add", "NET_ADMIN"),
    ("--init",),
    ("-u", "1000"),
    ("--dns", "1.1.1.1"),
    ("-h", "box"),
    ("--add-host=db:10.0.0.2",),
    ("--network", "host"),
    ("--net=other",),
    ("--tmpfs", "/run"),
    ("-m", "1g"),
    ("--entrypoint", "-p"),  # a value that looks like a port flag is still a value
)


def routed(groups: list[tuple[str, ...]], dind: bool) -> RoutedRunArgs:
    words = words_from([w for group in groups for w in group], "config run-args")
    return route(words, dind=dind, context=ParseContext(Path("/srv/demo-app"), {}))


# --- every spelling, every order, against a model ----------------------------------------
#
# A run-arg is drawn as what it means (flag, value) and written in one of the spellings
# pflag (docker's parser) accepts; all flags are permuted; a few are merged into short
# clusters (``-itp 80:80``). The expected routing comes from the model below, which reads
# the meanings in order and shares nothing with the tokenizer or the router.

# name -> (short letter or None, long names, route, field, merge); bool flags have value
# True/False.
MODEL_FLAGS: dict[str, tuple[str | None, tuple[str, ...], str, str, str]] = {
    "publish": ("p", ("publish",), "port", "", ""),
    "network": (None, ("network", "net"), "network", "HostConfig.NetworkMode", "set"),
    "env": ("e", ("env",), "booth", "Env", "append"),
    "workdir": ("w", ("workdir",), "booth", "WorkingDir", "set"),
    "label": ("l", ("label",), "booth", "Labels", "map"),
    "user": ("u", ("user",), "booth", "User", "set"),
    "entrypoint": (None, ("entrypoint",), "booth", "Entrypoint", "list"),
    "tty": ("t", ("tty",), "booth", "Tty", "set"),
    "interactive": ("i", ("interactive",), "booth", "OpenStdin", "set"),
    "privileged": (None, ("privileged",), "booth", "HostConfig.Privileged", "set"),
    "init": (None, ("init",), "booth", "HostConfig.Init", "set"),
    "hostname": ("h", ("hostname",), "namespace", "Hostname", "set"),
    "dns": (None, ("dns",), "namespace", "HostConfig.Dns", "append"),
    "add-host": (None, ("add-host",), "namespace", "HostConfig.ExtraHosts", "append"),
}
BOOLEAN = frozenset({"tty", "interactive", "privileged", "init"})
VALUES: dict[str, tuple[object, ...]] = {
    "publish": ("80:80", "127.0.0.1:8080:80/udp", "published=9000,target=90", "[::1]::81"),
    "network": ("host", "bridge", "other-net", "container:x"),
    "env": ("A=1", "B=two words", "C=", "D=-p"),
    "workdir": ("/w1", "/w2"),
    "label": ("k=v", "k=w", "other=x"),
    "user": ("1000", "coder:coder"),
    "entrypoint": ("-p", "/bin/sh", "--net"),
    "tty": (True, False),
    "interactive": (True, False),
    "privileged": (True, False),
    "init": (True, False),
    "hostname": ("box", "other"),
    "dns": ("1.1.1.1", "9.9.9.9"),
    "add-host": ("db:10.0.0.2", "cache:10.0.0.3"),
}
Meaning = tuple[str, object]


@st.composite
def meanings(draw: st.DrawFn) -> Meaning:
    # -i and -t twice as often: they are what short clusters are made of
    name = draw(st.sampled_from([*sorted(MODEL_FLAGS), "interactive", "tty"]))
    return name, draw(st.sampled_from(VALUES[name]))


@st.composite
def spelled(draw: st.DrawFn, meaning: Meaning, short_only: bool = False) -> list[str]:
    """``meaning`` written in one of the spellings pflag accepts for it (``short_only``:
    a short one, when the flag has a letter)."""
    name, value = meaning
    short, longs, *_ = MODEL_FLAGS[name]
    long = "--" + draw(st.sampled_from(longs))
    if name in BOOLEAN:
        forms = [f"{long}={str(value).lower()}", f"{long}={int(bool(value))}"]
        if value:
            forms.append(long)
        if short:
            forms += [f"-{short}={str(value).lower()}"] + ([f"-{short}"] if value else [])
        return [draw(st.sampled_from(forms))]
    text = str(value)
    forms_: list[list[str]] = [[long, text], [f"{long}={text}"]]
    if short:
        forms_ += [[f"-{short}", text], [f"-{short}={text}"]]
        if not text.startswith("="):
            forms_.append([f"-{short}{text}"])
        if short_only:
            forms_ = forms_[2:]
    return draw(st.sampled_from(forms_))


@st.composite
def written(draw: st.DrawFn, flags: list[Meaning]) -> list[list[str]]:
    """``flags`` in order, each in a drawn spelling; a bare ``-i``/``-t`` may be held back
    and joined to the next short flag as pflag reads clusters (``-i -t -p 80`` → ``-itp
    80``, ``-t -w/x`` → ``-tw/x``), or stand as a cluster of its own (``-it``)."""
    words: list[list[str]] = []
    pending = ""
    for name, value in flags:
        short = MODEL_FLAGS[name][0]
        if name in BOOLEAN and short and value is True and draw(st.booleans()):
            pending += short
            continue
        group = draw(spelled((name, value), short_only=bool(pending)))
        if pending and group[0].startswith("-") and not group[0].startswith("--"):
            group = ["-" + pending + group[0][1:], *group[1:]]
        elif pending:
            words.append(["-" + pending])
        pending = ""
        words.append(group)
    if pending:
        words.append(["-" + pending])
    return words


@attrs.frozen
class Expected:
    ports: list[str]
    booth: dict[str, object]
    namespace: dict[str, object]
    dropped_networks: list[str]


def model(flags: list[Meaning], dind: bool) -> Expected:
    """What the flags mean, read in order: the last of a setting wins, lists keep every
    value, a label is a key's last value; in DinD mode network flags are dropped."""
    ports: list[str] = []
    fields: dict[str, dict[str, object]] = {"booth": {}, "namespace": {}}
    dropped: list[str] = []
    for name, value in flags:
        _, _, where, field, merge = MODEL_FLAGS[name]
        if where == "port":
            ports.append(str(value))
            continue
        if where == "network":
            if dind:
                dropped.append(str(value))
                continue
            where = "booth"
        target = fields[where]
        if merge == "set":
            target[field] = value
        elif merge == "append":
            target.setdefault(field, []).append(value)  # type: ignore[attr-defined]
        elif merge == "list":
            target[field] = [value]
        else:
            key, _, label = str(value).partition("=")
            target.setdefault(field, {})[key] = label  # type: ignore[index]
    return Expected(ports, fields["booth"], fields["namespace"], dropped)


@settings(max_examples=300, deadline=None)
@given(flags=st.lists(meanings(), max_size=10), dind=st.booleans(), data=st.data())
def test_routing_matches_the_model_in_every_spelling_and_order(
    flags: list[Meaning], dind: bool, data: st.DataObject
) -> None:
    order = data.draw(st.permutations(flags))
    words = data.draw(written(order))
    result = routed([tuple(group) for group in words], dind)
    expected = model(list(order), dind)
    shown = [w for group in words for w in group]
    assert [p.spec for p in result.ports] == expected.ports, shown
    assert dict(result.booth.items()) == expected.booth, shown
    assert dict(result.namespace.items()) == expected.namespace, shown
    assert len(result.warnings) == len(expected.dropped_networks), shown
    for warning, network in zip(result.warnings, expected.dropped_networks, strict=True):
        assert "in DinD mode the booth shares the sidecar's network namespace" in warning
        assert network in warning


@pytest.mark.parametrize(
    ("words", "ports", "booth", "networks"),
    [
        (["-itp", "80:80"], ["80:80"], {"OpenStdin": True, "Tty": True}, 0),
        (["-itp80:80"], ["80:80"], {"OpenStdin": True, "Tty": True}, 0),
        (["-tp=80:80", "-i=false"], ["80:80"], {"OpenStdin": False, "Tty": True}, 0),
        (["-ie", "A=1", "-p=81:81"], ["81:81"], {"OpenStdin": True, "Env": ["A=1"]}, 0),
        (["--net", "x", "--network=y"], [], {"HostConfig.NetworkMode": "y"}, 2),
        (["--network", "y", "--net=x"], [], {"HostConfig.NetworkMode": "x"}, 2),
        (["--entrypoint", "-p", "-p", "--net"], ["--net"], {"Entrypoint": ["-p"]}, 0),
    ],
)
def test_spellings_docker_accepts(
    words: list[str], ports: list[str], booth: dict[str, object], networks: int
) -> None:
    result = routed([tuple(words)], dind=False)
    assert [p.spec for p in result.ports] == ports
    assert dict(result.booth.items()) == booth
    in_dind = routed([tuple(words)], dind=True)
    assert "HostConfig.NetworkMode" not in dict(in_dind.booth.items())
    assert len(in_dind.warnings) == networks


@settings(max_examples=100, deadline=None)
@given(others=st.lists(st.sampled_from(OTHER_FLAGS), max_size=8), dind=st.booleans())
def test_routing_without_ports_extracts_none(others: list[tuple[str, ...]], dind: bool) -> None:
    result = routed(others, dind)
    assert result.ports == ()
    assert ("HostConfig.NetworkMode" not in result.booth) == (
        dind or not any(g[0].startswith(("--network", "--net")) for g in others)
    )


# --- the `;` string form of run-args and cmds ---------------------------------------------

# Parts that survive CodingBooth's trimming as they are: no `;`, no edge whitespace.
PART = st.text(
    alphabet=st.characters(blacklist_characters=";", blacklist_categories=("Cs",)), min_size=1
).filter(lambda part: part == part.strip(GO_SPACE))
PADDING = st.text(alphabet=st.sampled_from(GO_SPACE), max_size=3)


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(PART | st.sampled_from(OTHER_FLAGS[0] + ("-p", "8080:80"))), data=st.data())
def test_the_semicolon_string_equals_the_array_form(parts: list[str], data: st.DataObject) -> None:
    """Split on `;`, trim each part (Go's TrimSpace), drop empty parts: CodingBooth's rule."""
    padded = [data.draw(PADDING) + part + data.draw(PADDING) for part in parts]
    empties = data.draw(st.lists(st.integers(0, len(padded)), max_size=3))
    for at in sorted(empties, reverse=True):
        padded.insert(at, data.draw(PADDING))  # empty (or blank) parts are dropped
    assert split_semicolons(";".join(padded)) == tuple(parts)


def test_the_semicolon_form_keeps_what_go_does_not_trim() -> None:
    # U+001F is whitespace to Python's str.strip, not to Go's strings.TrimSpace.
    assert split_semicolons(" -e ;\x1fA=1\x1f;; \u3000-it\t;") == ("-e", "\x1fA=1\x1f", "-it")
