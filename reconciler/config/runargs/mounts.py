"""The ``--mount`` grammar, as docker CLI ``opts/mount.go`` and ``opts/mount_utils.go``
implement it, with the daemon's own checks (moby ``volume/mounts/linux_parser.go``).

Its own module because it is a small language of its own: a CSV record of key=value
options, typed per mount type. Never drops an option: what Docker silently ignores,
booth refuses, so a reviewer never approves a mount that runs differently.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

from reconciler.config.runargs.values import FALSE_WORDS, TRUE_WORDS, parse_size
from reconciler.core.volumes import VOLUME_NAME, validate_target
from reconciler.errors import fail

MOUNT_TYPES = ("bind", "volume", "tmpfs", "image")
PROPAGATIONS = ("private", "rprivate", "shared", "rshared", "slave", "rslave")
_BARE_MOUNT_KEYS = frozenset(
    {"readonly", "ro", "volume-nocopy", "bind-nonrecursive", "bind-create-src"}
)
_OPTION_GROUPS = (
    ("bind-", "BindOptions", "bind"),
    ("volume-", "VolumeOptions", "volume"),
    ("image-", "ImageOptions", "image"),
    ("tmpfs-", "TmpfsOptions", "tmpfs"),
)
_BIND_RECURSIVE = {
    "enabled": None,
    "disabled": "NonRecursive",
    "writable": "ReadOnlyNonRecursive",
    "readonly": "ReadOnlyForceRecursive",
}


def split_csv_record(value: str, where: str) -> list[str]:
    """The fields of one line of CSV, as Go's encoding/csv ``Reader.Read`` returns them.

    A quoted field may hold commas, newlines and doubled quotes; a quote inside an
    unquoted field, or text after a closing quote, is an error (Go's ErrBareQuote and
    ErrQuote). Go reads only the first record and ignores anything after a newline; booth
    refuses that instead of dropping it.
    """
    fields: list[str] = []
    pos, end = 0, len(value)
    while True:
        if value.startswith('"', pos):
            field, pos = _quoted_field(value, pos + 1, where)
        else:
            stop = min(
                (i for i in (value.find(",", pos), value.find("\n", pos)) if i >= 0), default=end
            )
            field = value[pos:stop]
            if '"' in field:
                raise fail(where, f'bare " in field {field!r} (quote the whole field)')
            pos = stop
        fields.append(field)
        if pos >= end:
            return fields
        if value[pos] == "\n":
            raise fail(where, "a line break outside quotes would end the value there")
        pos += 1  # the comma


def _quoted_field(value: str, pos: int, where: str) -> tuple[str, int]:
    chunks: list[str] = []
    while True:
        close = value.find('"', pos)
        if close < 0:
            raise fail(where, 'a quoted field has no closing "')
        chunks.append(value[pos:close])
        after = value[close + 1 : close + 2]
        if after == '"':
            chunks.append('"')
            pos = close + 2
        elif after in ("", ",", "\n"):
            return "".join(chunks), close + 1
        else:
            raise fail(where, f'unexpected {after!r} after a closing " (write "" for a quote)')


def parse_mount(value: str, where: str) -> dict[str, Any]:
    """A ``--mount`` value into the Engine API ``Mount`` object.

    docker CLI opts/mount.go ``MountOpt.Set`` and opts/mount_utils.go
    ``validateMountOptions``, then the daemon's checks in volume/mounts/linux_parser.go
    ``validateMountConfigImpl``: an absolute target other than ``/``; a bind needs a
    source, absolute (a relative ``./x`` is left to the caller, which resolves it as the
    CLI resolves it against its working directory), and a valid propagation; a tmpfs
    takes no source; an anonymous volume cannot be read-only; options of one type cannot
    be given to another. Keys are case-insensitive, values may not be empty or padded, and
    later keys override earlier ones, as in Docker.

    Stricter than Docker, never looser: ``volume-label==x`` and ``volume-opt==x`` (an empty
    name, which Docker drops) and a line break (which ends Docker's CSV record and drops
    the rest) are errors.
    """
    text = value.strip()
    if not text:
        raise fail(where, "expected type=...,target=..., not an empty value")
    mount: dict[str, Any] = {"Type": "volume"}
    for field in split_csv_record(text, where):
        _apply_mount_field(mount, field, where)
    _validate_mount(mount, where)
    return mount


def _apply_mount_field(mount: dict[str, Any], field: str, where: str) -> None:
    raw_key, separator, val = field.partition("=")
    has_value = bool(separator)
    if raw_key.strip() != raw_key:
        raise fail(where, f"option {raw_key.strip()!r} in {field!r} has whitespace around it")
    if has_value and not val.strip():
        raise fail(where, f"option {raw_key!r} has an empty value")
    if has_value and val.strip() != val:
        raise fail(where, f"value of {raw_key!r} in {field!r} has whitespace around it")
    key = raw_key.lower()
    if not has_value and key not in _BARE_MOUNT_KEYS:
        raise fail(where, f"option {field!r} must be a key=value pair")
    if key == "type":
        mount["Type"] = val.lower()
    elif key in ("source", "src"):
        mount["Source"] = val
    elif key in ("target", "dst", "destination"):
        mount["Target"] = val
    elif key in ("readonly", "ro"):
        mount["ReadOnly"] = _mount_bool(key, val, has_value, where)
    elif key == "consistency":
        mount["Consistency"] = val.lower()
    elif key.startswith("bind-"):
        _apply_bind_option(mount, key, val, has_value, where)
    elif key.startswith("volume-"):
        _apply_volume_option(mount, key, val, has_value, where)
    elif key == "image-subpath":
        mount.setdefault("ImageOptions", {})["Subpath"] = val
    elif key.startswith("tmpfs-"):
        _apply_tmpfs_option(mount, key, val, where)
    else:
        raise fail(where, f"unknown option {key!r} in {field!r}")


def _mount_bool(key: str, val: str, has_value: bool, where: str) -> bool:
    """Bare means true; a value is read as Go's ``strconv.ParseBool`` reads it, as the
    docker CLI did up to 24 (``readonly=True``, ``ro=t``, ``readonly=F``). Newer CLIs
    take only 1/true/0/false; every spelling here means one thing, so accepting the
    wider set runs nothing differently."""
    if not has_value or val in TRUE_WORDS:
        return True
    if val in FALSE_WORDS:
        return False
    raise fail(where, f"{key}={val} is not a boolean (expected true or false, 1 or 0, t or f)")


def _apply_bind_option(
    mount: dict[str, Any], key: str, val: str, has_value: bool, where: str
) -> None:
    if key == "bind-propagation":
        mount.setdefault("BindOptions", {})["Propagation"] = val.lower()
    elif key == "bind-recursive":
        if val not in _BIND_RECURSIVE:
            raise fail(
                where, f"bind-recursive={val} (expected enabled, disabled, writable or readonly)"
            )
        flag = _BIND_RECURSIVE[val]
        if flag is not None:  # "enabled" is the default and creates no BindOptions
            mount.setdefault("BindOptions", {})[flag] = True
    elif key == "bind-create-src":
        created = _mount_bool(key, val, has_value, where)
        mount.setdefault("BindOptions", {})["CreateMountpoint"] = created
    elif key == "bind-nonrecursive":
        raise fail(where, "bind-nonrecursive is deprecated, use bind-recursive=disabled")
    else:
        raise fail(where, f"unknown option {key!r}")


def _apply_volume_option(
    mount: dict[str, Any], key: str, val: str, has_value: bool, where: str
) -> None:
    options = mount.setdefault("VolumeOptions", {})
    if key == "volume-nocopy":
        options["NoCopy"] = _mount_bool(key, val, has_value, where)
    elif key == "volume-subpath":
        options["Subpath"] = val
    elif key == "volume-label":
        name, label = _key_value(key, val, where)
        options.setdefault("Labels", {})[name] = label
    elif key == "volume-driver":
        options.setdefault("DriverConfig", {})["Name"] = val
    elif key == "volume-opt":
        name, option = _key_value(key, val, where)
        options.setdefault("DriverConfig", {}).setdefault("Options", {})[name] = option
    else:
        raise fail(where, f"unknown option {key!r}")


def _key_value(key: str, val: str, where: str) -> tuple[str, str]:
    """opts/mount_utils.go ``setValueOnMap``, except that an empty name is an error, not dropped."""
    name, _, text = val.partition("=")
    if not name:
        raise fail(where, f"{key}={val} has no name before '='")
    return name, text


def _apply_tmpfs_option(mount: dict[str, Any], key: str, val: str, where: str) -> None:
    options = mount.setdefault("TmpfsOptions", {})
    if key == "tmpfs-size":
        options["SizeBytes"] = parse_size(val, f"{where}: tmpfs-size")
    elif key == "tmpfs-mode":
        # strconv.ParseUint(val, 8, 32): octal digits only, no sign, no 0o prefix.
        if not re.fullmatch(r"[0-7]+", val) or int(val, 8) >= 1 << 32:
            raise fail(where, f"tmpfs-mode={val} is not an octal file mode like 1777")
        options["Mode"] = int(val, 8)
    else:
        raise fail(where, f"unknown option {key!r}")


def _validate_mount(mount: dict[str, Any], where: str) -> None:
    kind = mount["Type"]
    if kind not in MOUNT_TYPES:
        raise fail(where, f"mount type {kind!r} is not one of {', '.join(MOUNT_TYPES)}")
    for prefix, group, owner in _OPTION_GROUPS:
        if group in mount and kind != owner:
            raise fail(where, f"{prefix}* options cannot be used with type={kind}")
    _validate_bind_recursion(mount, where)
    _validate_target(mount.get("Target", ""), where)
    source = mount.get("Source", "")
    if kind == "bind":
        if not source:
            raise fail(where, "a bind mount needs a source")
        propagation = mount.get("BindOptions", {}).get("Propagation")
        if propagation is not None and propagation not in PROPAGATIONS:
            raise fail(
                where, f"bind-propagation={propagation} is not one of {', '.join(PROPAGATIONS)}"
            )
        if not source.startswith(".") and not posixpath.isabs(source):
            raise fail(where, f"bind source {source!r} must be an absolute path")
    elif kind == "tmpfs" and source:
        raise fail(where, "a tmpfs mount takes no source")
    elif kind == "image" and not source:
        raise fail(where, "an image mount needs a source (the image)")
    elif kind == "volume":
        _validate_volume(mount, source, where)


def _validate_volume(mount: dict[str, Any], source: str, where: str) -> None:
    """An anonymous volume cannot be read-only; a named one of the local driver (no
    ``volume-driver``) has the local driver's name grammar (an absolute path is a
    bind, not a volume)."""
    if not source and mount.get("ReadOnly"):
        raise fail(where, "an anonymous volume (no source) cannot be read-only")
    driver = mount.get("VolumeOptions", {}).get("DriverConfig", {}).get("Name", "local")
    if source and driver == "local" and not VOLUME_NAME.fullmatch(source):
        raise fail(
            where,
            f"volume name {source!r} may hold only a-z A-Z 0-9 _ . - (2 or more, starting "
            "with a letter or digit); for a host directory use type=bind",
        )


def _validate_bind_recursion(mount: dict[str, Any], where: str) -> None:
    """opts/mount_utils.go: the read-only recursion modes need readonly (and rprivate)."""
    options = mount.get("BindOptions", {})
    if options.get("ReadOnlyNonRecursive") and not mount.get("ReadOnly"):
        raise fail(where, "bind-recursive=writable needs readonly as well")
    if options.get("ReadOnlyForceRecursive"):
        if not mount.get("ReadOnly"):
            raise fail(where, "bind-recursive=readonly needs readonly as well")
        if options.get("Propagation") != "rprivate":
            raise fail(where, "bind-recursive=readonly needs bind-propagation=rprivate as well")


def _validate_target(target: str, where: str) -> None:
    if not target:
        raise fail(where, "target is required (target=/path/in/container)")
    validate_target(target, where)
