"""The ``-v SOURCE:TARGET[:OPTIONS]`` grammar and the rules every mount target obeys.

``-v`` is read twice by Docker: the CLI splits it (internal/volumespec ``Parse``) and
the daemon parses it again (moby volume/mounts/linux_parser.go ``ParseMountRaw``) when
the container is created. What the daemon refuses then would leave a half-created
instance behind, so booth applies both readings here, before anything exists.

The one reading of such a string, anywhere in booth: :func:`split_volume` gives a
:class:`VolumeSpec`, and ``str()`` of one is the string again. A spec's
``HostConfig.Binds`` entries are written that way and read back the same way (the plan's
summary, the Kubernetes rendering, the preflight, the in-memory engine). Imports nothing
but the errors, so every layer may use it.
"""

from __future__ import annotations

import posixpath
import re

import attrs

from reconciler.errors import fail

# linux_parser.go linuxValidMountMode: each group at most once.
_MODE_GROUPS = (
    frozenset({"rw", "ro"}),
    frozenset({"z", "Z"}),
    frozenset({"private", "rprivate", "shared", "rshared", "slave", "rslave"}),
    frozenset({"nocopy"}),
    frozenset({"consistent", "cached", "delegated"}),
)
_PROPAGATION, _NOCOPY = _MODE_GROUPS[2], _MODE_GROUPS[3]
# moby daemon/names RestrictedNamePattern: the local driver's volume names.
VOLUME_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]+")


# Where a spec's own entries come from, for the (never expected) error of reading one.
BINDS = "HostConfig.Binds"


@attrs.frozen
class VolumeSpec:
    """One ``-v``: ``source`` is None for an anonymous volume."""

    source: str | None
    target: str
    mode: str = ""

    def __str__(self) -> str:
        """As ``-v`` and ``HostConfig.Binds`` write it."""
        parts = [self.target] if self.source is None else [self.source, self.target]
        return ":".join([*parts, self.mode] if self.mode else parts)

    @property
    def options(self) -> frozenset[str]:
        return frozenset(self.mode.split(",")) if self.mode else frozenset()

    @property
    def read_only(self) -> bool:
        return "ro" in self.options

    @property
    def is_bind(self) -> bool:
        """The daemon's rule: an absolute source is a host path, any other a volume name."""
        return self.source is not None and self.source.startswith("/")


def valid_mode(mode: str) -> bool:
    """linux_parser.go ``linuxValidMountMode``: comma-separated options, each known, at
    most one of each group (``ro,rw`` and ``shared,slave`` are refused)."""
    if not mode:
        return True
    counts = [0] * len(_MODE_GROUPS)
    for option in mode.split(","):
        group = next((i for i, g in enumerate(_MODE_GROUPS) if option in g), None)
        if group is None:
            return False
        counts[group] += 1
    return max(counts) <= 1


def split_volume(value: str, where: str) -> VolumeSpec:
    """``-v`` into its parts, with the CLI's and the daemon's structural checks: not
    empty, no empty part, at most two colons, a known mode, a target that is absolute
    and not ``/``. ``-v /data`` is an anonymous volume; ``-v /data:ro`` is refused (the
    daemon reads a lone mode after one path as an error)."""
    expected = "expected [SOURCE:]TARGET[:OPTIONS], e.g. ./src:/src:ro or /data"
    if not value:
        raise fail(where, f"{expected}, not an empty value")
    parts = value.split(":")
    if "" in parts:
        raise fail(where, f"{expected}; {value!r} has an empty part between colons")
    if len(parts) > 3:
        raise fail(where, f"{expected}; {value!r} has too many colons")
    if len(parts) == 2 and valid_mode(parts[1]):
        raise fail(where, f"{expected}; {parts[1]!r} is a mode, so {value!r} has no target")
    mode = parts[2] if len(parts) == 3 else ""
    if not valid_mode(mode):
        raise fail(
            where,
            f"invalid mode {mode!r} (options: rw or ro, z or Z, nocopy, a propagation such "
            "as rshared, a consistency such as cached; each at most once)",
        )
    validate_target(parts[-1] if len(parts) == 1 else parts[1], where)
    return VolumeSpec(
        None if len(parts) == 1 else parts[0], parts[-1] if len(parts) == 1 else parts[1], mode
    )


def check_source(spec: VolumeSpec, where: str) -> None:
    """The daemon's checks of a resolved source: an absolute path is a bind and takes
    no ``nocopy``; anything else is a volume name of the local driver and takes no
    propagation."""
    if spec.source is None:
        return
    options = spec.options
    if spec.is_bind:
        if options & _NOCOPY:
            raise fail(
                where, "nocopy is for volumes; a bind mount (an absolute source) cannot take it"
            )
        return
    if not VOLUME_NAME.fullmatch(spec.source):
        raise fail(
            where,
            f"{spec.source!r} is neither an absolute path nor a volume name (2 or more of "
            "a-z A-Z 0-9 _ . -, starting with a letter or digit); a host directory needs "
            "an absolute path or ./",
        )
    if options & _PROPAGATION:
        raise fail(where, "a propagation mode is for bind mounts; a named volume cannot take it")


def validate_target(target: str, where: str) -> None:
    """linux_parser.go: a mount target is absolute and not ``/`` (``\\`` read as ``/``)."""
    path = target.replace("\\", "/")
    if not posixpath.isabs(path):
        raise fail(where, f"mount target {target!r} must be an absolute path")
    if clean(path) == "/":
        raise fail(where, "a mount target cannot be /")


def clean(path: str) -> str:
    """Go's ``path.Clean`` of an absolute path (``posixpath.normpath`` keeps ``//``)."""
    normal = posixpath.normpath(path.replace("\\", "/"))
    return "/" + normal.lstrip("/") if normal.startswith("/") else normal


class Targets:
    """Mount targets seen so far and who set them: two mounts on one target are refused
    (the daemon refuses some pairs, ``Duplicate mount point``, and silently drops one
    of others). A field that is a map in Docker (``--tmpfs``, anonymous ``-v``) may name
    its own path again: the later value wins there, as in the docker CLI."""

    def __init__(self, reserved: dict[str, str]) -> None:
        self.owners = {path: (where, "") for path, where in reserved.items()}

    def claim(self, target: str, where: str, field: str, keyed: bool) -> None:
        key = clean(target)
        owner = self.owners.get(key)
        if owner is not None and not (keyed and owner[1] == field):
            raise fail(
                where,
                f"{key} is already a mount target of {owner[0]}; two mounts cannot share "
                "one target",
            )
        self.owners[key] = (where, field)
