"""Values of ``docker run`` flags, parsed with Docker's own grammar.

Booth promises to accept exactly what ``docker run`` accepts and to reject what it rejects,
so every parser here follows a named piece of Docker's source (cited next to it) rather
than a reading of the docs. Where Docker silently drops part of the input, booth refuses
instead: a dropped option is a surprise in the running container (see ``parse_mount``).

Every function is pure and takes ``where``, a phrase naming the input and its origin
(``"run-arg '-m 1x' (command line --run-arg)"``), which starts every error message.
"""

from __future__ import annotations

import posixpath
import re
from fractions import Fraction
from typing import Any

from reconciler.errors import RunArgError

# Go strconv.ParseBool (what pflag uses for boolean flags such as --init=...).
_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})

# docker CLI opts/mount_utils.go parseBoolValue: --mount booleans take only these four.
_MOUNT_TRUE = frozenset({"1", "true"})
_MOUNT_FALSE = frozenset({"0", "false"})

# Go strconv.ParseFloat syntax for the part of a size before its unit. go-units cuts the
# number at the last digit or dot, so the number always ends in one: "inf"/"nan" cannot
# occur. Hex floats need a p exponent in Go.
_GO_DECIMAL = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_GO_HEX = r"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?[0-9]+"
_GO_FLOAT = re.compile(rf"(?:{_GO_DECIMAL}|{_GO_HEX})")
_BINARY_UNITS = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}
_MAX_SIZE = (1 << 63) - 1  # Go's int64: a larger float converts to garbage in Docker

# big.Rat.SetString, restricted to decimal digits (Docker also takes 0x/0o/0b fractions).
_RATIONAL = re.compile(
    r"[+-]?[0-9]+/[0-9]+|[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]{1,4})?"
)
_MAX_CPUS = 1 << 20


def _fail(where: str, why: str) -> RunArgError:
    return RunArgError(f"{where}: {why}")


def parse_bool(value: str, where: str) -> bool:
    """A boolean flag value, exactly as Go's ``strconv.ParseBool`` reads it.

    Docker's boolean flags go through pflag, which calls ParseBool: ``t`` and ``True``
    are true, ``yes`` and ``TrUe`` are errors, and so they are here.
    """
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise _fail(where, f"expected true or false (or 1, t, 0, f), not {value!r}")


def parse_size(value: str, where: str) -> int:
    """Bytes from a size such as ``512m``, ``1.5g``, ``2 GiB`` or ``1024``.

    Follows go-units ``RAMInBytes`` (size.go ``parseSize``, v0.5.0 as vendored by the docker
    CLI): the number ends at its last digit, dot or space; units are binary and
    case-insensitive, b/k/m/g/t/p with an optional ``b`` or ``ib``; one space may separate
    number and unit; no other space is allowed. Docker truncates fractions of a byte, so
    does this. Negative sizes and sizes beyond int64 are refused.
    """
    expected = "expected a size like 512m, 1.5g or 2GiB"
    cut = max(value.rfind(ch) for ch in "0123456789. ")
    if cut < 0:
        raise _fail(where, f"{expected}, not {value!r}")
    number = value[:cut] if value[cut] == " " else value[: cut + 1]
    suffix = value[cut + 1 :]
    if not _GO_FLOAT.fullmatch(number):
        raise _fail(where, f"{expected}, not {value!r}")
    size = float.fromhex(number) if "x" in number.lower() else float(number)
    if size < 0:
        raise _fail(where, f"size {value!r} is negative")
    size *= _unit_multiplier(suffix, value, where, expected)
    if size > _MAX_SIZE:
        raise _fail(where, f"size {value!r} is too large")
    return int(size)


def _unit_multiplier(suffix: str, value: str, where: str, expected: str) -> int:
    unit = suffix.lower()
    if unit in ("", "b"):
        return 1
    if unit[0] in _BINARY_UNITS and unit[1:] in ("", "b", "ib"):
        return _BINARY_UNITS[unit[0]]
    raise _fail(where, f"{expected}; {suffix!r} in {value!r} is not a unit")


def parse_cpus(value: str, where: str) -> int:
    """NanoCPUs from a CPU count such as ``1.5`` or ``3/2`` (``--cpus``).

    docker CLI opts/opts.go ``ParseCPUs`` reads a ``big.Rat`` and refuses a value that is
    not a whole number of nano CPUs ("too precise"). ``0`` means no limit. Negative counts
    are refused here (the daemon refuses them too); fractions written with 0x/0o/0b
    prefixes, which big.Rat also takes, are not accepted.
    """
    if not _RATIONAL.fullmatch(value):
        raise _fail(where, f"expected a CPU count like 1.5, not {value!r}")
    nano = Fraction(value) * 1_000_000_000
    if nano.denominator != 1:
        raise _fail(where, f"CPU count {value!r} is too precise (at most 9 decimals)")
    if nano < 0:
        raise _fail(where, f"CPU count {value!r} is negative")
    if nano > _MAX_CPUS * 1_000_000_000:
        raise _fail(where, f"CPU count {value!r} is too large")
    return int(nano)


def parse_device(value: str, where: str) -> dict[str, str]:
    """``HOST[:CONTAINER][:PERMISSIONS]`` into an Engine API ``DeviceMapping``.

    Two steps of docker CLI cli/command/container/opts.go: ``validateLinuxPath`` (at most
    two colons, a host path, an absolute container path, a valid mode) and then
    ``parseLinuxDevice``: a second field that is a valid mode is the permissions, and the
    container path defaults to the host path. ``validDeviceMode``: non-empty, only r, w
    and m, each at most once.
    """
    expected = "expected HOST[:CONTAINER][:PERMISSIONS], e.g. /dev/fuse or /dev/sda:/dev/xvda:rw"
    parts = value.split(":")
    if len(parts) > 3 or not parts[0]:
        raise _fail(where, f"{expected}, not {value!r}")
    host, container, permissions = parts[0], parts[0], "rwm"
    if len(parts) == 2:
        if valid_device_mode(parts[1]):
            permissions = parts[1]
        else:
            container = parts[1]
    elif len(parts) == 3:
        container, permissions = parts[1], parts[2]
        if not valid_device_mode(permissions):
            raise _fail(where, f"device permissions {permissions!r} must be made of r, w and m")
    if not posixpath.isabs(container):
        raise _fail(where, f"device path {container!r} in the container must be absolute")
    return {"PathOnHost": host, "PathInContainer": container, "CgroupPermissions": permissions}


def valid_device_mode(mode: str) -> bool:
    """docker CLI ``validDeviceMode``: a non-empty set of r, w, m, none repeated."""
    return bool(mode) and set(mode) <= set("rwm") and len(set(mode)) == len(mode)


def parse_tmpfs(value: str, where: str) -> tuple[str, str]:
    """``--tmpfs /path[:options]`` into (path, options).

    The docker CLI only cuts at the first colon (cli/command/container/opts.go); the daemon
    then requires an absolute destination other than ``/`` (volume/mounts linux_parser.go
    ``ValidateTmpfsMountDestination``). Options go to the kernel as they are.
    """
    path, _, options = value.partition(":")
    if not posixpath.isabs(path):
        raise _fail(where, f"expected an absolute container path, not {path!r}")
    if posixpath.normpath(path) == "/":
        raise _fail(where, "a tmpfs cannot be mounted on /")
    return path, options


def parse_env(value: str, where: str) -> tuple[str, str | None]:
    """``-e NAME=value`` or ``-e NAME`` into (name, value or None).

    docker CLI opts/env.go ``ValidateEnv``: the name before the first ``=`` must not be
    empty, so ``-e ''`` and ``-e =x`` are errors. A bare name takes its value from the
    caller's environment (None here: the caller looks it up, as the CLI does).
    """
    name, has_value, text = value.partition("=")
    if not name:
        raise _fail(where, f"expected NAME=value or NAME, not {value!r}")
    return name, text if has_value else None


def parse_env_file(text: str, where: str) -> list[tuple[str, str | None]]:
    """An ``--env-file``, as docker CLI pkg/kvfile/kvfile.go ``parseKeyValueFile`` reads it.

    A leading BOM and leading whitespace are dropped, blank lines and ``#`` lines skipped;
    the name must be non-empty and hold no space or tab; the value is kept verbatim
    (trailing spaces and quotes included). A bare name is looked up by the caller.
    """
    entries: list[tuple[str, str | None]] = []
    for number, raw in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        line = raw.lstrip()
        if not line or line.startswith("#"):
            continue
        name, has_value, value = line.partition("=")
        if not name:
            raise _fail(where, f"line {number} has no variable name")
        if " " in name or "\t" in name:
            raise _fail(where, f"line {number}: variable {name!r} contains whitespace")
        entries.append((name, value if has_value else None))
    return entries


# --- --mount ---------------------------------------------------------------------------

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
                raise _fail(where, f'bare " in field {field!r} (quote the whole field)')
            pos = stop
        fields.append(field)
        if pos >= end:
            return fields
        if value[pos] == "\n":
            raise _fail(where, "a line break outside quotes would end the value there")
        pos += 1  # the comma


def _quoted_field(value: str, pos: int, where: str) -> tuple[str, int]:
    chunks: list[str] = []
    while True:
        close = value.find('"', pos)
        if close < 0:
            raise _fail(where, 'a quoted field has no closing "')
        chunks.append(value[pos:close])
        after = value[close + 1 : close + 2]
        if after == '"':
            chunks.append('"')
            pos = close + 2
        elif after in ("", ",", "\n"):
            return "".join(chunks), close + 1
        else:
            raise _fail(where, f'unexpected {after!r} after a closing " (write "" for a quote)')


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
        raise _fail(where, "expected type=...,target=..., not an empty value")
    mount: dict[str, Any] = {"Type": "volume"}
    for field in split_csv_record(text, where):
        _apply_mount_field(mount, field, where)
    _validate_mount(mount, where)
    return mount


def _apply_mount_field(mount: dict[str, Any], field: str, where: str) -> None:
    raw_key, separator, val = field.partition("=")
    has_value = bool(separator)
    if raw_key.strip() != raw_key:
        raise _fail(where, f"option {raw_key.strip()!r} in {field!r} has whitespace around it")
    if has_value and not val.strip():
        raise _fail(where, f"option {raw_key!r} has an empty value")
    if has_value and val.strip() != val:
        raise _fail(where, f"value of {raw_key!r} in {field!r} has whitespace around it")
    key = raw_key.lower()
    if not has_value and key not in _BARE_MOUNT_KEYS:
        raise _fail(where, f"option {field!r} must be a key=value pair")
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
        raise _fail(where, f"unknown option {key!r} in {field!r}")


def _mount_bool(key: str, val: str, has_value: bool, where: str) -> bool:
    """opts/mount_utils.go ``parseBoolValue``: bare means true; else only 1/true/0/false."""
    if not has_value or val in _MOUNT_TRUE:
        return True
    if val in _MOUNT_FALSE:
        return False
    raise _fail(where, f"{key}={val} is not a boolean (expected true, 1, false or 0)")


def _apply_bind_option(
    mount: dict[str, Any], key: str, val: str, has_value: bool, where: str
) -> None:
    if key == "bind-propagation":
        mount.setdefault("BindOptions", {})["Propagation"] = val.lower()
    elif key == "bind-recursive":
        if val not in _BIND_RECURSIVE:
            raise _fail(
                where, f"bind-recursive={val} (expected enabled, disabled, writable or readonly)"
            )
        flag = _BIND_RECURSIVE[val]
        if flag is not None:  # "enabled" is the default and creates no BindOptions
            mount.setdefault("BindOptions", {})[flag] = True
    elif key == "bind-create-src":
        created = _mount_bool(key, val, has_value, where)
        mount.setdefault("BindOptions", {})["CreateMountpoint"] = created
    elif key == "bind-nonrecursive":
        raise _fail(where, "bind-nonrecursive is deprecated, use bind-recursive=disabled")
    else:
        raise _fail(where, f"unknown option {key!r}")


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
        raise _fail(where, f"unknown option {key!r}")


def _key_value(key: str, val: str, where: str) -> tuple[str, str]:
    """opts/mount_utils.go ``setValueOnMap``, except that an empty name is an error, not dropped."""
    name, _, text = val.partition("=")
    if not name:
        raise _fail(where, f"{key}={val} has no name before '='")
    return name, text


def _apply_tmpfs_option(mount: dict[str, Any], key: str, val: str, where: str) -> None:
    options = mount.setdefault("TmpfsOptions", {})
    if key == "tmpfs-size":
        options["SizeBytes"] = parse_size(val, f"{where}: tmpfs-size")
    elif key == "tmpfs-mode":
        # strconv.ParseUint(val, 8, 32): octal digits only, no sign, no 0o prefix.
        if not re.fullmatch(r"[0-7]+", val) or int(val, 8) >= 1 << 32:
            raise _fail(where, f"tmpfs-mode={val} is not an octal file mode like 1777")
        options["Mode"] = int(val, 8)
    else:
        raise _fail(where, f"unknown option {key!r}")


def _validate_mount(mount: dict[str, Any], where: str) -> None:
    kind = mount["Type"]
    if kind not in MOUNT_TYPES:
        raise _fail(where, f"mount type {kind!r} is not one of {', '.join(MOUNT_TYPES)}")
    for prefix, group, owner in _OPTION_GROUPS:
        if group in mount and kind != owner:
            raise _fail(where, f"{prefix}* options cannot be used with type={kind}")
    _validate_bind_recursion(mount, where)
    _validate_target(mount.get("Target", ""), where)
    source = mount.get("Source", "")
    if kind == "bind":
        if not source:
            raise _fail(where, "a bind mount needs a source")
        propagation = mount.get("BindOptions", {}).get("Propagation")
        if propagation is not None and propagation not in PROPAGATIONS:
            raise _fail(
                where, f"bind-propagation={propagation} is not one of {', '.join(PROPAGATIONS)}"
            )
        if not source.startswith(".") and not posixpath.isabs(source):
            raise _fail(where, f"bind source {source!r} must be an absolute path")
    elif kind == "tmpfs" and source:
        raise _fail(where, "a tmpfs mount takes no source")
    elif kind == "volume" and not source and mount.get("ReadOnly"):
        raise _fail(where, "an anonymous volume (no source) cannot be read-only")


def _validate_bind_recursion(mount: dict[str, Any], where: str) -> None:
    """opts/mount_utils.go: the read-only recursion modes need readonly (and rprivate)."""
    options = mount.get("BindOptions", {})
    if options.get("ReadOnlyNonRecursive") and not mount.get("ReadOnly"):
        raise _fail(where, "bind-recursive=writable needs readonly as well")
    if options.get("ReadOnlyForceRecursive"):
        if not mount.get("ReadOnly"):
            raise _fail(where, "bind-recursive=readonly needs readonly as well")
        if options.get("Propagation") != "rprivate":
            raise _fail(where, "bind-recursive=readonly needs bind-propagation=rprivate as well")


def _validate_target(target: str, where: str) -> None:
    if not target:
        raise _fail(where, "target is required (target=/path/in/container)")
    if not posixpath.isabs(target.replace("\\", "/")):
        raise _fail(where, f"target {target!r} must be an absolute path")
    if posixpath.normpath(target.replace("\\", "/")) == "/":
        raise _fail(where, "target cannot be /")
