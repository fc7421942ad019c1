"""``docker run`` flags from config and command line: tokenised, parsed, routed.

Routing is what DinD mode needs: port flags go to the sidecar (it owns every host port),
``--network`` is dropped (the booth must share the sidecar's namespace), flags that
configure the shared namespace (hostname, DNS, extra hosts) go to the sidecar, where
Docker accepts them. What each flag means comes from the table in ``config/runargs/flags.py``; this
module only reads words. The same words give the same result, and the relative order of
port flags and other flags does not matter.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from reconciler.config.runargs import values
from reconciler.config.runargs.flags import (
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
from reconciler.core.model import CODE_MOUNT
from reconciler.core.ports import SourcedSpec, parse_port
from reconciler.core.volumes import BINDS, Targets, split_volume
from reconciler.errors import PortError, RunArgError


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
    separate: bool = attrs.field(default=False, eq=False)  # the value was the next word

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def where(self) -> str:
        """The flag as written, its value when that was a word of its own, and its source."""
        value = f" {self.value!r}" if self.separate else ""
        return f"run-arg {self.raw!r}{value} ({self.source})"


def tokenize(words: Sequence[Word]) -> list[Flag]:
    """Split words into flags, accepting every spelling pflag (docker's parser) accepts."""
    for word in words:
        if "\0" in word.text:
            raise RunArgError(
                f"run-arg {word.text!r} ({word.source}) contains a NUL byte, which no "
                "docker run value can hold"
            )
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
            separate = spec.takes_value and not has_eq
            flags.append(Flag(spec, value, text, word.source, separate))
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
            return [*flags, Flag(spec, value, text, source, True)], 1
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
    # -P: the exposed ports to publish on ephemeral host ports, unless a -p publishes them
    publish_all: tuple[SourcedSpec, ...] = ()

    def with_published_exposed(self, explicit: Sequence[SourcedSpec]) -> list[SourcedSpec]:
        """``explicit`` and, for ``-P``, each exposed port no ``-p`` of ``explicit``
        publishes: Docker's ``PublishAllPorts`` leaves a published port as it is."""
        covered = []
        for sourced in explicit:
            try:
                covered.append(parse_port(sourced.spec))
            except PortError:  # build_port_set names it, in its place
                continue
        extra = [
            spec
            for spec in self.publish_all
            if not any(m.covers_container_port(*_port_proto(spec.spec)) for m in covered)
        ]
        return [*explicit, *extra]


def _port_proto(key: str) -> tuple[int, str]:
    port, _, proto = key.partition("/")
    return int(port), proto


class _Fields:
    """Accumulates field values in linear time (a big config has many repeated flags)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.first: dict[str, list[Any]] = {}
        self.keyed: set[str] = set()

    def add(self, field: str, merge: Merge, value: Any) -> None:
        if merge is Merge.SET:
            self.values[field] = value
        elif merge is Merge.APPEND:
            self.values.setdefault(field, []).append(value)
        elif merge is Merge.EXTEND:
            self.values.setdefault(field, []).extend(value)
        elif merge is Merge.EXTEND_FIRST:
            self.first.setdefault(field, []).extend(value)
        elif merge is Merge.UPDATE_MANY:
            self.values.setdefault(field, {}).update(value)
        else:
            if merge is Merge.KEYED:
                self.keyed.add(field)
            key, item = value
            self.values.setdefault(field, {})[key] = item

    def freeze(self) -> ContainerFields:
        merged = dict(self.values)
        for field, items in self.first.items():
            merged[field] = [*items, *merged.get(field, [])]
        for field in self.keyed:
            merged[field] = [item for _, item in sorted(merged[field].items())]
        return ContainerFields(merged)


class _Router:
    """One routing of run-args: the fields of each target, the ports, the mount
    targets seen, the warnings, and what only the whole set can decide (``-P``)."""

    def __init__(self, *, dind: bool, context: ParseContext) -> None:
        self.dind, self.context = dind, context
        self.ports: list[SourcedSpec] = []
        self.warnings: list[str] = []
        self.booth, self.namespace = _Fields(), _Fields()
        self.targets = Targets({CODE_MOUNT: "booth's code directory mount"})
        self.volumes: set[str] = set()
        self.publish_all: Flag | None = None
        self.exposed: list[SourcedSpec] = []
        self.last: dict[str, Flag] = {}  # the last use of each flag, for messages

    def take(self, flag: Flag) -> None:
        spec = flag.spec
        enabled = values.parse_bool(flag.value, flag.where) if spec.boolean else True
        if spec.route is Route.PORT:
            self._port(flag, enabled)
        elif spec.route is Route.REJECTED:
            if enabled:
                raise RunArgError(
                    f"run-arg {flag.raw!r} ({flag.source}) is not supported: {spec.why}"
                )
        elif spec.route is Route.IGNORED:
            if enabled:
                self.warnings.append(f"{flag.where} changes nothing: {spec.why}")
        elif spec.route is Route.BOOTH_UNLESS_DIND and self.dind:
            self.warnings.append(
                f"ignoring {flag.where}: in DinD mode the booth shares the sidecar's "
                "network namespace"
            )
        else:
            self._field(flag)

    def _port(self, flag: Flag, enabled: bool) -> None:
        if not flag.spec.boolean:
            self.ports.append(SourcedSpec(flag.value, flag.source))
        else:
            self.publish_all = flag if enabled else None

    def _field(self, flag: Flag) -> None:
        spec = flag.spec
        self.last[spec.name] = flag
        target = self.namespace if spec.route is Route.NAMESPACE else self.booth
        parsed = spec.parse(flag.value, flag.where, self.context)
        field, merge = spec.field, spec.merge
        if isinstance(parsed, Placed):
            target = self.namespace if parsed.namespace else target
            field, merge, parsed = parsed.field, parsed.merge, parsed.value
        if spec.name == "volume":
            if repr(parsed) in self.volumes:  # the docker CLI keeps each -v once, too
                return
            self.volumes.add(repr(parsed))
        for path in mount_targets(field, parsed):
            self.targets.claim(path, flag.where, field, keyed=merge is Merge.UPDATE)
        target.add(field, merge, parsed)

    def finish(self) -> RoutedRunArgs:
        booth, namespace = self.booth.freeze(), self.namespace.freeze()
        if self.publish_all is not None:
            self._publish_exposed(namespace, self.publish_all)
        policy = booth.get("HostConfig.RestartPolicy") or {}
        if booth.get("HostConfig.AutoRemove") and policy.get("Name", "no") != "no":
            raise RunArgError(
                f"{self.last['restart'].where} conflicts with {self.last['rm'].where}: the "
                "engine cannot both remove and restart a container that ends (Docker "
                "refuses it too)"
            )
        return RoutedRunArgs(
            tuple(self.ports), booth, namespace, tuple(self.warnings), tuple(self.exposed)
        )

    def _publish_exposed(self, namespace: ContainerFields, flag: Flag) -> None:
        """``-P``: every ``--expose`` port on an ephemeral host port of the port set."""
        for key in namespace.get("ExposedPorts", {}):
            self.exposed.append(SourcedSpec(key, flag.source))
        self.warnings.append(
            f"{flag.where} publishes the --expose ports on ephemeral host ports; the "
            "image's own EXPOSE ports are not known before it runs and are not published: "
            "name each with --expose"
        )


def mount_targets(field: str, value: Any) -> list[str]:
    """The container paths a parsed mount value occupies."""
    if field == BINDS:
        return [split_volume(str(value), BINDS).target]
    if field == "HostConfig.Mounts":
        return [str(value["Target"])]
    if field in ("Volumes", "HostConfig.Tmpfs"):
        return [str(value[0])]
    return []


def route(words: Sequence[Word], *, dind: bool, context: ParseContext) -> RoutedRunArgs:
    """Tokenise, parse and route run-args; DinD mode moves ports and namespace flags away."""
    router = _Router(dind=dind, context=context)
    for flag in tokenize(words):
        router.take(flag)
    return router.finish()


def words_from(texts: Iterable[str], source: str) -> tuple[Word, ...]:
    return tuple(Word(text, source) for text in texts)
