"""A booth in a dead network namespace: the one fault both containers' states hide.

The booth joins its sidecar's namespace when it starts, and keeps that namespace: if
the sidecar's process is started again afterwards (a ``docker restart`` of it, or an
apply stopped between the sidecar's start and the booth's restart), the booth still
runs, in the namespace of a process that is gone (only ``lo``, no inner daemon). Both
look running; their ``State.StartedAt`` tell. Pure, as the rest of the diff."""

from __future__ import annotations

import re
from datetime import datetime

from reconciler.core.model import Observed

_INSTANT = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


def in_dead_namespace(booth: Observed | None, sidecar: Observed | None) -> bool:
    """Whether the running ``booth`` started before the running ``sidecar`` whose
    namespace it joined did (so it joined an earlier process's)."""
    if booth is None or sidecar is None or not (booth.running and sidecar.running):
        return False
    joined, owner = started(booth.started_at), started(sidecar.started_at)
    return joined is not None and owner is not None and joined < owner


def started(text: str | None) -> datetime | None:
    """An engine's ``StartedAt`` (RFC 3339 with up to nanoseconds), to the microsecond;
    None for Docker's zero time (never started) or anything else."""
    match = _INSTANT.match(text or "")
    if match is None or match.group(1).startswith("0001-"):
        return None
    whole, fraction, zone = match.groups()
    micro = (fraction or "0")[:6].ljust(6, "0")
    return datetime.fromisoformat(f"{whole}.{micro}{'+00:00' if zone == 'Z' else zone}")
