"""``docker run`` flags from config and command line: tokenised, parsed, routed.

Routing is what DinD mode needs: port flags go to the sidecar (it owns every host port),
``--network`` is dropped (the booth must share the sidecar's namespace), flags that
configure the shared namespace (hostname, DNS, extra hosts) go to the sidecar, where
Docker accepts them. What each flag means comes from the table in ``flags.py``; this
module only reads words. The same words give the same result, and the relative order of
port flags and other flags does not matter.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from reconciler import values
from reconciler.errors import RunArgError
from reconciler.flags import (
    LONG,
    MANAGED_FLAGS,
    SHORT,
    FlagSpec,
    Merge,
    ParseContext,
    Placed,
    Route,
    supported,
)
from reconciler.ports import SourcedSpec


@attrs.frozen
class Word:
    """One run-arg word and where it came from (for error messages)."""

    text: str
    source: str


@attrs.frozen
class Flag:
    """A tokenised flag: its table entry, its raw value, and the words it came from."""

    spec: FlagSpec
    value: str
    raw: str
    source: str

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def where(self) -> str:
        """The flag as written, its value when that was a word of its own, and its source."""
        separate = self.spec.takes_value and self.value not in self.raw
        value = f" {self.value!r}" if separate else ""
        return f"run-arg {self.raw!r}{value} ({self.source})"


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
            spec = _lookup(LONG.get(name), text, word.source)
            if spec.takes_value and not has_eq:
                value, index = _next_value(words, index, text, word.source)
            elif spec.boolean and not has_eq:
                value = "true"
            flags.append(Flag(spec, value, text, word.source))
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
        spec = _lookup(SHORT.get(text[position]), text, source)
        rest = text[position + 1 :]
        if spec.takes_value:
            if rest:
                return [*flags, Flag(spec, rest.removeprefix("="), text, source)], 0
            value, _ = _next_value(words, index, text, source)
            return [*flags, Flag(spec, value, text, source)], 1
        if rest.startswith("="):
            return [*flags, Flag(spec, rest[1:], text, source)], 0
        flags.append(Flag(spec, "true", text, source))
        position += 1
    return flags, 0


def _lookup(spec: FlagSpec | None, text: str, source: str) -> FlagSpec:
    if spec is None:
        raise RunArgError(f"unsupported run-arg {text!r} ({source}); supported: {supported()}")
    if spec in MANAGED_FLAGS:
        raise RunArgError(f"run-arg {text!r} ({source}) is not allowed: {spec.why}")
    return spec


def _next_value(words: Sequence[Word], index: int, text: str, source: str) -> tuple[str, int]:
    if index >= len(words):
        raise RunArgError(f"run-arg {text!r} ({source}) is missing its value")
    return words[index].text, index + 1


@attrs.frozen(eq=True, hash=False)
class ContainerFields:
    """Engine API fields filled by flags, ``HostConfig.X`` for host-config fields.

    Values are ready to send (lists, mappings, numbers); treat them as read-only.
    """

    fields: Mapping[str, Any] = attrs.field(factory=dict)

    def get(self, field: str, default: Any = None) -> Any:
        return self.fields.get(field, default)

    def __contains__(self, field: str) -> bool:
        return field in self.fields

    def items(self) -> Iterator[tuple[str, Any]]:
        return iter(self.fields.items())

    def with_values(self, **updates: Any) -> ContainerFields:
        return ContainerFields({**self.fields, **updates})


@attrs.frozen
class RoutedRunArgs:
    """Run-args split by where they belong."""

    ports: tuple[SourcedSpec, ...]
    booth: ContainerFields
    namespace: ContainerFields
    warnings: tuple[str, ...]


class _Fields:
    """Accumulates field values in linear time (a big config has many repeated flags)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.first: dict[str, list[Any]] = {}

    def add(self, field: str, merge: Merge, value: Any) -> None:
        if merge is Merge.SET:
            self.values[field] = value
        elif merge is Merge.APPEND:
            self.values.setdefault(field, []).append(value)
        elif merge is Merge.EXTEND:
            self.values.setdefault(field, []).extend(value)
        elif merge is Merge.EXTEND_FIRST:
            self.first.setdefault(field, []).extend(value)
        else:
            key, item = value
            self.values.setdefault(field, {})[key] = item

    def freeze(self) -> ContainerFields:
        merged = dict(self.values)
        for field, items in self.first.items():
            merged[field] = [*items, *merged.get(field, [])]
        return ContainerFields(merged)


def route(words: Sequence[Word], *, dind: bool, context: ParseContext) -> RoutedRunArgs:
    """Tokenise, parse and route run-args; DinD mode moves ports and namespace flags away."""
    ports: list[SourcedSpec] = []
    warnings: list[str] = []
    booth, namespace = _Fields(), _Fields()
    for flag in tokenize(words):
        spec = flag.spec
        if spec.boolean:
            enabled = values.parse_bool(flag.value, flag.where)
        if spec.route is Route.PORT:
            ports.append(SourcedSpec(flag.value, flag.source))
        elif spec.route is Route.REJECTED:
            if spec.boolean and not enabled:
                continue
            raise RunArgError(
                f"run-arg {flag.raw!r} ({flag.source}) is not supported: {spec.why}"
                + (" (the booth shares the sidecar's network namespace)" if dind else "")
            )
        elif spec.route is Route.BOOTH_UNLESS_DIND and dind:
            warnings.append(
                f"ignoring {flag.where}: in DinD mode the booth shares the sidecar's "
                "network namespace"
            )
        else:
            target = namespace if spec.route is Route.NAMESPACE else booth
            parsed = spec.parse(flag.value, flag.where, context)
            if isinstance(parsed, Placed):
                target.add(parsed.field, parsed.merge, parsed.value)
            else:
                target.add(spec.field, spec.merge, parsed)
    return RoutedRunArgs(tuple(ports), booth.freeze(), namespace.freeze(), tuple(warnings))


def words_from(texts: Iterable[str], source: str) -> tuple[Word, ...]:
    return tuple(Word(text, source) for text in texts)
