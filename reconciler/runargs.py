"""``docker run`` flags from config and command line: tokenised, routed, translated.

Routing is what DinD mode needs: port flags go to the sidecar (it owns every host port),
``--network`` is dropped (the booth must share the sidecar's namespace), flags that
configure the shared namespace (hostname, DNS, extra hosts) go to the sidecar, where
Docker accepts them. Everything here is pure: the same words give the same result, and
the relative order of port flags and other flags does not matter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import attrs

from reconciler.errors import RunArgError
from reconciler.ports import SourcedSpec


@attrs.frozen
class Word:
    """One run-arg word and where it came from (for error messages)."""

    text: str
    source: str


@attrs.frozen
class FlagDef:
    name: str
    short: str | None = None
    takes_value: bool = True


_FLAG_DEFS = (
    FlagDef("env", "e"),
    FlagDef("env-file"),
    FlagDef("volume", "v"),
    FlagDef("mount"),
    FlagDef("workdir", "w"),
    FlagDef("user", "u"),
    FlagDef("label", "l"),
    FlagDef("cap-add"),
    FlagDef("cap-drop"),
    FlagDef("device"),
    FlagDef("privileged", takes_value=False),
    FlagDef("security-opt"),
    FlagDef("tmpfs"),
    FlagDef("shm-size"),
    FlagDef("memory", "m"),
    FlagDef("cpus"),
    FlagDef("init", takes_value=False),
    FlagDef("entrypoint"),
    FlagDef("tty", "t", takes_value=False),
    FlagDef("interactive", "i", takes_value=False),
    FlagDef("publish", "p"),
    FlagDef("publish-all", "P", takes_value=False),
    FlagDef("expose"),
    FlagDef("network"),
    FlagDef("hostname", "h"),
    FlagDef("dns"),
    FlagDef("dns-search"),
    FlagDef("dns-option"),
    FlagDef("add-host"),
)
_LONG = {f.name: f for f in _FLAG_DEFS} | {
    "net": FlagDef("network"),
    "dns-opt": FlagDef("dns-option"),
}
_SHORT = {f.short: f for f in _FLAG_DEFS if f.short}
_NAMESPACE_FLAGS = frozenset({"hostname", "dns", "dns-search", "dns-option", "add-host"})
_MANAGED_FLAGS = {
    "name": "the container name is derived from `name` and `port`",
    "rm": "booth manages the container's lifetime",
    "detach": "booth manages the container's lifetime",
    "d": "booth manages the container's lifetime",
}
_RESERVED_LABEL_PREFIX = "io.codingbooth."


@attrs.frozen
class Flag:
    """A tokenised flag: canonical long name, its value, and the words it came from."""

    name: str
    value: str
    raw: str
    source: str


def tokenize(words: Sequence[Word]) -> list[Flag]:
    """Split words into flags, accepting every spelling pflag (docker's parser) accepts."""
    flags: list[Flag] = []
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        text = word.text
        if text.startswith("--") and len(text) > 2:
            name, has_eq, value = text[2:].partition("=")
            definition = _lookup(_LONG.get(name), text, word.source, name)
            if definition.takes_value and not has_eq:
                value, index = _next_value(words, index, text, word.source)
            elif not definition.takes_value:
                value = _bool_value(value if has_eq else "true", text, word.source)
            flags.append(Flag(definition.name, value, text, word.source))
        elif text.startswith("-") and len(text) > 1:
            cluster, used_next = _short_cluster(words, index, word)
            flags.extend(cluster)
            index += used_next
        else:
            raise RunArgError(
                f"unexpected run-arg {text!r} ({word.source}): run-args are docker run flags; "
                "set the image with `image` and the command with `cmds`"
            )
    return flags


def _short_cluster(words: Sequence[Word], index: int, word: Word) -> tuple[list[Flag], int]:
    """``-p8080:80``, ``-p=8080:80``, ``-p 8080:80``, ``-it``, ``-ip 80:80``, ``-t=false``.

    Returns the flags and how many following words were consumed as a value (0 or 1).
    """
    text, source = word.text, word.source
    flags: list[Flag] = []
    position = 1
    while position < len(text):
        definition = _lookup(_SHORT.get(text[position]), text, source, text[position])
        rest = text[position + 1 :]
        if definition.takes_value:
            if rest:
                return [*flags, Flag(definition.name, rest.removeprefix("="), text, source)], 0
            value, _ = _next_value(words, index, text, source)
            return [*flags, Flag(definition.name, value, text, source)], 1
        if rest.startswith("="):
            value = _bool_value(rest[1:], text, source)
            return [*flags, Flag(definition.name, value, text, source)], 0
        flags.append(Flag(definition.name, "true", text, source))
        position += 1
    return flags, 0


def _lookup(definition: FlagDef | None, text: str, source: str, name: str) -> FlagDef:
    if definition is not None:
        return definition
    why = _MANAGED_FLAGS.get(name)
    if why:
        raise RunArgError(f"run-arg {text!r} ({source}) is not allowed: {why}")
    raise RunArgError(f"unsupported run-arg {text!r} ({source}); supported: {_supported()}")


def _supported() -> str:
    return ", ".join(f"--{f.name}" for f in _FLAG_DEFS)


def _next_value(words: Sequence[Word], index: int, text: str, source: str) -> tuple[str, int]:
    if index >= len(words):
        raise RunArgError(f"run-arg {text!r} ({source}) is missing its value")
    return words[index].text, index + 1


def _bool_value(value: str, text: str, source: str) -> str:
    lowered = value.lower()
    if lowered in ("true", "1"):
        return "true"
    if lowered in ("false", "0"):
        return "false"
    raise RunArgError(f"run-arg {text!r} ({source}): expected true or false, not {value!r}")


@attrs.frozen
class NamespaceOptions:
    """Settings of a network namespace: the sidecar's in DinD mode, else the booth's."""

    hostname: str | None = None
    dns: tuple[str, ...] = ()
    dns_search: tuple[str, ...] = ()
    dns_options: tuple[str, ...] = ()
    extra_hosts: tuple[str, ...] = ()


@attrs.frozen
class BoothOptions:
    """Translated booth flags, still free of Docker types; ``desired.py`` maps them."""

    env: tuple[str, ...] = ()
    env_files: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()
    mounts: tuple[str, ...] = ()
    working_dir: str | None = None
    user: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    cap_add: tuple[str, ...] = ()
    cap_drop: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()
    privileged: bool = False
    security_opt: tuple[str, ...] = ()
    tmpfs: tuple[str, ...] = ()
    shm_size: int | None = None
    memory: int | None = None
    nano_cpus: int | None = None
    init: bool | None = None
    entrypoint: str | None = None
    tty: bool = False
    stdin_open: bool = False
    network: str | None = None


@attrs.frozen
class RoutedRunArgs:
    """Run-args split by where they belong."""

    ports: tuple[SourcedSpec, ...]
    booth: BoothOptions
    namespace: NamespaceOptions
    warnings: tuple[str, ...]


_LIST_FIELDS = {
    "env": "env",
    "env-file": "env_files",
    "volume": "volumes",
    "mount": "mounts",
    "cap-add": "cap_add",
    "cap-drop": "cap_drop",
    "device": "devices",
    "security-opt": "security_opt",
    "tmpfs": "tmpfs",
}
_NAMESPACE_LIST_FIELDS = {
    "dns": "dns",
    "dns-search": "dns_search",
    "dns-option": "dns_options",
    "add-host": "extra_hosts",
}


def route(words: Sequence[Word], *, dind: bool) -> RoutedRunArgs:
    """Tokenise and route run-args; DinD mode moves ports and namespace flags away."""
    ports: list[SourcedSpec] = []
    warnings: list[str] = []
    booth: dict[str, object] = {}
    namespace: dict[str, object] = {}
    for flag in tokenize(words):
        if flag.name == "publish":
            ports.append(SourcedSpec(flag.value, flag.source))
        elif flag.name in ("publish-all", "expose"):
            if flag.name == "publish-all" and flag.value == "false":
                continue
            raise RunArgError(
                f"run-arg {flag.raw!r} ({flag.source}) is not supported: declare each "
                "host port with -p/--publish so it is explicit"
                + (" (the booth shares the sidecar's network namespace)" if dind else "")
            )
        elif flag.name == "network":
            if dind:
                warnings.append(
                    f"ignoring run-arg {flag.raw!r} ({flag.source}): in DinD mode the booth "
                    "shares the sidecar's network namespace"
                )
            else:
                booth["network"] = flag.value
        elif flag.name in _NAMESPACE_FLAGS:
            _set_namespace_flag(namespace, flag)
        else:
            _set_booth_flag(booth, flag)
    return RoutedRunArgs(
        ports=tuple(ports),
        booth=BoothOptions(**booth),  # type: ignore[arg-type]
        namespace=NamespaceOptions(**namespace),  # type: ignore[arg-type]
        warnings=tuple(warnings),
    )


def _set_namespace_flag(target: dict[str, object], flag: Flag) -> None:
    if flag.name == "hostname":
        target["hostname"] = flag.value
        return
    key = _NAMESPACE_LIST_FIELDS[flag.name]
    target[key] = (*_as_tuple(target.get(key)), flag.value)


def _set_booth_flag(target: dict[str, object], flag: Flag) -> None:
    name, value = flag.name, flag.value
    if name in _LIST_FIELDS:
        key = _LIST_FIELDS[name]
        target[key] = (*_as_tuple(target.get(key)), value)
    elif name == "label":
        key_text, _, label_value = value.partition("=")
        if key_text.startswith(_RESERVED_LABEL_PREFIX):
            raise RunArgError(
                f"run-arg {flag.raw!r} ({flag.source}): labels under "
                f"{_RESERVED_LABEL_PREFIX}* are reserved for booth's ownership tracking"
            )
        labels: dict[str, str] = {}
        for pair in _as_tuple(target.get("labels")):
            assert isinstance(pair, tuple)
            labels[pair[0]] = pair[1]
        labels[key_text] = label_value
        target["labels"] = tuple(labels.items())
    elif name in ("workdir", "user", "entrypoint"):
        target["working_dir" if name == "workdir" else name] = value
    elif name in ("privileged", "init", "tty", "interactive"):
        target["stdin_open" if name == "interactive" else name] = value == "true"
    elif name in ("shm-size", "memory"):
        target[name.replace("-", "_")] = parse_bytes(value, flag)
    elif name == "cpus":
        target["nano_cpus"] = parse_cpus(value, flag)
    else:  # pragma: no cover - every FlagDef is routed above
        raise AssertionError(name)


def _as_tuple(value: object) -> tuple[object, ...]:
    return value if isinstance(value, tuple) else ()


_BYTES = re.compile(r"^(\d+(?:\.\d+)?)\s*([bkmg]?)b?$", re.IGNORECASE)
_UNIT = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def parse_bytes(value: str, flag: Flag) -> int:
    """Docker's RAMInBytes: ``512m``, ``1g``, ``64mb``, plain bytes."""
    match = _BYTES.match(value.strip())
    if not match or len(value) > 32:
        raise RunArgError(
            f"run-arg {flag.raw!r} ({flag.source}): expected a size like 512m or 2g, not {value!r}"
        )
    size = int(float(match.group(1)) * _UNIT[match.group(2).lower()])
    if size <= 0 or size > 2**62:
        raise RunArgError(f"run-arg {flag.raw!r} ({flag.source}): size {value!r} is out of range")
    return size


def parse_cpus(value: str, flag: Flag) -> int:
    try:
        cpus = float(value)
    except ValueError:
        cpus = -1.0
    if not 0 < cpus <= 4096:
        raise RunArgError(
            f"run-arg {flag.raw!r} ({flag.source}): expected a CPU count like 1.5, not {value!r}"
        )
    return int(cpus * 1e9)


def words_from(texts: Iterable[str], source: str) -> tuple[Word, ...]:
    return tuple(Word(text, source) for text in texts)
