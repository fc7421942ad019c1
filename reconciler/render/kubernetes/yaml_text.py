"""Kubernetes objects (plain data) → multi-document YAML, the same bytes for the same data."""

from __future__ import annotations

from typing import Any

import yaml


def dump_documents(documents: list[dict[str, Any]], *, header: str = "") -> str:
    """Multi-document YAML, keys sorted, no anchors: the same data gives the same bytes."""
    body = yaml.dump_all(
        documents,
        Dumper=_Dumper,
        sort_keys=True,
        default_flow_style=False,
        explicit_start=True,
        allow_unicode=False,
        width=1_000_000,
    )
    return header + body


class _Dumper(yaml.SafeDumper):
    """SafeDumper without aliases: a dict used twice is printed twice, not as ``*id001``."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


__all__ = ["dump_documents"]
