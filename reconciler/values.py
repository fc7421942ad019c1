"""Value grammars of ``docker run`` flags: booleans, sizes, CPUs, devices, tmpfs, mounts.

Pure functions of the text. ``where`` names the flag and its source in error messages.
"""

from __future__ import annotations

import re
from typing import Any

from reconciler.errors import RunArgError


def parse_bool(value: str, where: str) -> bool:
    lowered = value.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise RunArgError(f"{where}: expected true or false, not {value!r}")


_BYTES = re.compile(r"^(\d+(?:\.\d+)?)\s*([bkmg]?)b?$", re.IGNORECASE)
_UNIT = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def parse_size(value: str, where: str) -> int:
    """Docker's RAMInBytes: ``512m``, ``1g``, ``64mb``, plain bytes."""
    match = _BYTES.match(value.strip())
    if not match or len(value) > 32:
        raise RunArgError(f"{where}: expected a size like 512m or 2g, not {value!r}")
    size = int(float(match.group(1)) * _UNIT[match.group(2).lower()])
    if size <= 0 or size > 2**62:
        raise RunArgError(f"{where}: size {value!r} is out of range")
    return size


def parse_cpus(value: str, where: str) -> int:
    try:
        cpus = float(value)
    except ValueError:
        cpus = -1.0
    if not 0 < cpus <= 4096:
        raise RunArgError(f"{where}: expected a CPU count like 1.5, not {value!r}")
    return int(cpus * 1e9)


def parse_device(value: str, where: str) -> dict[str, str]:
    parts = value.split(":")
    if len(parts) > 3 or not parts[0]:
        raise RunArgError(f"{where}: expected HOST[:CONTAINER[:PERMISSIONS]], not {value!r}")
    host = parts[0]
    container = parts[1] if len(parts) > 1 and parts[1] else host
    permissions = parts[2] if len(parts) > 2 else "rwm"
    return {"PathOnHost": host, "PathInContainer": container, "CgroupPermissions": permissions}


def parse_tmpfs(value: str, where: str) -> tuple[str, str]:
    path, _, options = value.partition(":")
    if not path.startswith("/"):
        raise RunArgError(f"{where}: expected an absolute container path, not {value!r}")
    return path, options


_MOUNT_KEYS = {
    "type": "Type",
    "source": "Source",
    "src": "Source",
    "target": "Target",
    "destination": "Target",
    "dst": "Target",
    "readonly": "ReadOnly",
    "ro": "ReadOnly",
}


def parse_mount(value: str, where: str) -> dict[str, Any]:
    mount: dict[str, Any] = {"Type": "volume"}
    for item in value.split(","):
        key, has_value, text = item.partition("=")
        field = _MOUNT_KEYS.get(key.strip().lower())
        if field is None:
            raise RunArgError(
                f"{where}: unsupported key {key!r} (supported: type, source, target, readonly)"
            )
        if field == "ReadOnly":
            mount[field] = not has_value or text.lower() in ("1", "true")
        else:
            mount[field] = text
    if "Target" not in mount:
        raise RunArgError(f"{where}: target is required")
    if mount["Type"] not in ("bind", "volume", "tmpfs"):
        raise RunArgError(f"{where}: type must be bind, volume or tmpfs")
    return mount
