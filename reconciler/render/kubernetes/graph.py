"""What the Kubernetes renderer reads of the desired graph.

Protocols rather than ``reconciler.config.desired``'s classes, so that the renderer imports
neither Docker nor the config: it sees only the attributes named here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol


class ResourceLike(Protocol):
    """What the renderer reads of a desired resource (``reconciler.config.desired.Resource``)."""

    @property
    def role(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def spec(self) -> Mapping[str, Any]: ...
    def labels(self, instance: str) -> Mapping[str, str]: ...


class GraphLike(Protocol):
    """What the renderer reads of the desired graph (``reconciler.config.desired.DesiredGraph``)."""

    @property
    def instance(self) -> str: ...
    @property
    def dind(self) -> bool: ...
    def __iter__(self) -> Iterator[ResourceLike]: ...


__all__ = ["GraphLike", "ResourceLike"]
