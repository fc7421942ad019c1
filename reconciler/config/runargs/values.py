"""Values of ``docker run`` flags, parsed with Docker's own grammar.

Booth promises to accept exactly what ``docker run`` accepts and to reject what it rejects,
so every parser here follows a named piece of Docker's source (cited next to it) rather
than a reading of the docs. Where Docker silently drops part of the input, booth refuses
instead: a dropped option is a surprise in the running container (see ``parse_mount``).

Every function is pure and takes ``where``, a phrase naming the input and its origin
(``"run-arg '-m 1x' (command line --run-arg)"``), which starts every error message.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re

from reconciler.config.reader import GO_SPACE
from reconciler.errors import fail

# Go strconv.ParseBool (what pflag uses for boolean flags such as --init=...).
TRUE_WORDS = frozenset({"1", "t", "T", "TRUE", "true", "True"})
FALSE_WORDS = frozenset({"0", "f", "F", "FALSE", "false", "False"})

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


def parse_bool(value: str, where: str) -> bool:
    """A boolean flag value, exactly as Go's ``strconv.ParseBool`` reads it.

    Docker's boolean flags go through pflag, which calls ParseBool: ``t`` and ``True``
    are true, ``yes`` and ``TrUe`` are errors, and so they are here.
    """
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise fail(where, f"expected true or false (or 1, t, 0, f), not {value!r}")


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
        raise fail(where, f"{expected}, not {value!r}")
    number = value[:cut] if value[cut] == " " else value[: cut + 1]
    suffix = value[cut + 1 :]
    if not _GO_FLOAT.fullmatch(number):
        raise fail(where, f"{expected}, not {value!r}")
    size = float.fromhex(number) if "x" in number.lower() else float(number)
    if size < 0:
        raise fail(where, f"size {value!r} is negative")
    size *= _unit_multiplier(suffix, value, where, expected)
    if size > _MAX_SIZE:
        raise fail(where, f"size {value!r} is too large")
    return int(size)


def _unit_multiplier(suffix: str, value: str, where: str, expected: str) -> int:
    unit = suffix.lower()
    if unit in ("", "b"):
        return 1
    if unit[0] in _BINARY_UNITS and unit[1:] in ("", "b", "ib"):
        return _BINARY_UNITS[unit[0]]
    raise fail(where, f"{expected}; {suffix!r} in {value!r} is not a unit")


def parse_cpus(value: str, where: str) -> int:
    """NanoCPUs from a CPU count such as ``1.5`` or ``3/2`` (``--cpus``).

    docker CLI opts/opts.go ``ParseCPUs`` reads a ``big.Rat`` and refuses a value that is
    not a whole number of nano CPUs ("too precise"). ``0`` means no limit. Negative counts
    are refused here (the daemon refuses them too); fractions written with 0x/0o/0b
    prefixes, which big.Rat also takes, are not accepted.
    """
    if not _RATIONAL.fullmatch(value):
        raise fail(where, f"expected a CPU count like 1.5, not {value!r}")
    from fractions import Fraction  # here: its decimal import costs every command ~3 ms

    nano = Fraction(value) * 1_000_000_000
    if nano.denominator != 1:
        raise fail(where, f"CPU count {value!r} is too precise (at most 9 decimals)")
    if nano < 0:
        raise fail(where, f"CPU count {value!r} is negative")
    if nano > _MAX_CPUS * 1_000_000_000:
        raise fail(where, f"CPU count {value!r} is too large")
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
        raise fail(where, f"{expected}, not {value!r}")
    host, container, permissions = parts[0], parts[0], "rwm"
    if len(parts) == 2:
        if valid_device_mode(parts[1]):
            permissions = parts[1]
        else:
            container = parts[1]
    elif len(parts) == 3:
        container, permissions = parts[1], parts[2]
        if not valid_device_mode(permissions):
            raise fail(where, f"device permissions {permissions!r} must be made of r, w and m")
    if not posixpath.isabs(container):
        raise fail(where, f"device path {container!r} in the container must be absolute")
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
        raise fail(where, f"expected an absolute container path, not {path!r}")
    if posixpath.normpath(path) == "/":
        raise fail(where, "a tmpfs cannot be mounted on /")
    return path, options


def parse_env(value: str, where: str) -> tuple[str, str | None]:
    """``-e NAME=value`` or ``-e NAME`` into (name, value or None).

    docker CLI opts/env.go ``ValidateEnv``: the name before the first ``=`` must not be
    empty, so ``-e ''`` and ``-e =x`` are errors. A bare name takes its value from the
    caller's environment (None here: the caller looks it up, as the CLI does).
    """
    name, has_value, text = value.partition("=")
    if not name:
        raise fail(where, f"expected NAME=value or NAME, not {value!r}")
    return name, text if has_value else None


def parse_env_file(text: str, where: str) -> list[tuple[str, str | None]]:
    """An ``--env-file``, as docker CLI pkg/kvfile/kvfile.go ``parseKeyValueFile`` reads it.

    A leading BOM and leading whitespace are dropped, blank lines and ``#`` lines skipped;
    the name must be non-empty and hold no space or tab; the value is kept verbatim
    (trailing spaces and quotes included). A bare name is looked up by the caller. Lines
    are Go's ``bufio.ScanLines`` lines: cut at ``\n`` only, one ``\r`` before it dropped
    (``str.splitlines`` would also cut at ``\r``, ``\f``, U+2028 … inside a value), and
    "whitespace" is Go's ``unicode.IsSpace`` (``str.lstrip`` also drops U+001C..U+001F).
    """
    entries: list[tuple[str, str | None]] = []
    for number, raw in enumerate(text.removeprefix("\ufeff").split("\n"), start=1):
        if "\0" in raw:
            raise fail(where, f"line {number} contains a NUL byte, which no variable can hold")
        line = raw.removesuffix("\r").lstrip(GO_SPACE)
        if not line or line.startswith("#"):
            continue
        name, has_value, value = line.partition("=")
        if not name:
            raise fail(where, f"line {number} has no variable name")
        if " " in name or "\t" in name:
            raise fail(where, f"line {number}: variable {name!r} contains whitespace")
        entries.append((name, value if has_value else None))
    return entries


def parse_label(value: str, where: str) -> tuple[str, str]:
    """``-l KEY[=VALUE]``, docker CLI opts/opts.go ``ValidateLabel``: the key, leading
    spaces and tabs dropped, must be non-empty and hold no space or tab."""
    key, _, label_value = value.partition("=")
    key = key.lstrip(" \t")
    if not key:
        raise fail(where, f"label {value!r} has an empty name (expected KEY=VALUE)")
    if " " in key or "\t" in key:
        raise fail(where, f"label name {key!r} contains whitespace")
    return key, label_value


def parse_ip(value: str, where: str) -> str:
    """``--dns IP``: docker CLI opts/opts.go ``ValidateIPAddress`` (Go's ``net.ParseIP``
    after trimming spaces: no zone, no brackets); sent in canonical form, as the CLI does."""
    text = value.strip()
    if "%" not in text:
        try:
            return str(ipaddress.ip_address(text))
        except ValueError:
            pass
    raise fail(where, f"expected an IP address such as 1.1.1.1 or 2606:4700::1111, not {value!r}")


def parse_extra_host(value: str, where: str) -> str:
    """``--add-host NAME:IP`` or ``NAME=IP``: docker CLI opts/hosts.go ``ValidateExtraHost``.

    The name must be non-empty and hold no ``:``; the address is an IP (brackets allowed)
    or ``host-gateway``. Sent as ``NAME:IP``, brackets removed, as the CLI sends it: the
    daemon knows neither ``=`` nor brackets.
    """
    name, has_eq, address = value.partition("=")
    if not has_eq:
        name, _, address = value.partition(":")
    if not name or ":" in name or (not has_eq and ":" not in value):
        raise fail(where, f"expected NAME:IP (or NAME=IP), not {value!r}")
    if address != "host-gateway":
        if len(address) > 2 and address.startswith("[") and address.endswith("]"):
            address = address[1:-1]
        try:
            if "%" in address:  # Go's net.ParseIP takes no zone
                raise ValueError(address)
            ipaddress.ip_address(address.strip())
        except ValueError:
            raise fail(
                where, f"{address!r} in {value!r} is not an IP address (or host-gateway)"
            ) from None
    return f"{name}:{address}"


# Linux capabilities by number (include/uapi/linux/capability.h, 0..40).
CAPABILITIES = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
]
_KNOWN_CAPABILITIES = frozenset(f"CAP_{name}" for name in CAPABILITIES)


def parse_capability(value: str, where: str) -> str:
    """``--cap-add``/``--cap-drop``: one capability, as the daemon's
    ``caps.NormalizeLegacyCapabilities`` reads it: case-insensitive, ``CAP_`` optional,
    or ``ALL``; nothing trimmed (``' NET_ADMIN'`` is refused by the daemon too)."""
    upper = value.upper()
    name = upper if upper.startswith("CAP_") else f"CAP_{upper}"
    if upper != "ALL" and name not in _KNOWN_CAPABILITIES:
        raise fail(
            where,
            f"{value!r} is not a Linux capability (expected one name such as NET_ADMIN or "
            "CAP_SYS_PTRACE, or ALL; repeat the flag for several)",
        )
    return value


def parse_workdir(value: str, where: str) -> str:
    """``-w``: the daemon refuses a relative working directory at create ("it needs to
    be an absolute path"); empty means the image's own."""
    if value and not posixpath.isabs(value):
        raise fail(where, f"the working directory {value!r} must be an absolute path")
    return value


_SECURITY_KEYS = ("label", "apparmor", "seccomp", "no-new-privileges")


def parse_security_opt(value: str, where: str) -> str:
    """``--security-opt``, as the daemon's ``parseSecurityOpt`` reads it at create:
    ``no-new-privileges``, ``disable``, or KEY=VALUE (KEY:VALUE, deprecated) with KEY one
    of label, apparmor, seccomp, no-new-privileges (a Go boolean). ``systempaths`` is
    handled by the docker CLI alone, which booth does not do: refused, not sent."""
    if value in ("no-new-privileges", "disable"):
        return value
    separator = "=" if "=" in value else ":"
    key, has_separator, setting = value.partition(separator)
    if not has_separator or key not in _SECURITY_KEYS:
        raise fail(
            where,
            f"expected no-new-privileges or KEY=VALUE with KEY one of "
            f"{', '.join(_SECURITY_KEYS)}, not {value!r}",
        )
    if key == "no-new-privileges" and setting not in TRUE_WORDS | FALSE_WORDS:
        raise fail(where, f"no-new-privileges takes true or false, not {setting!r}")
    return value
