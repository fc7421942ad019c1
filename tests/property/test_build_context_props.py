"""The build-context fingerprint does not depend on the order files were created in."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.image.context import fingerprint_context

NAMES = st.sampled_from(["a", "b", "c.log", "node_modules", "keep.txt", "Z", "é"])
PATHS = st.lists(NAMES, min_size=1, max_size=3).map("/".join)
IGNORE = "*.log\n**/node_modules\n!**/node_modules/keep.txt\n"
MTIME_NS = 1_700_000_000_123_456_789


def build(root: Path, files: list[tuple[str, str]]) -> None:
    for rel, content in files:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        os.utime(path, ns=(MTIME_NS, MTIME_NS))


@settings(max_examples=60, deadline=None)
@given(
    files=st.dictionaries(PATHS, st.text(max_size=5), min_size=1, max_size=8),
    data=st.data(),
)
def test_fingerprint_is_independent_of_creation_order(
    files: dict[str, str], data: st.DataObject
) -> None:
    # a path that is also a prefix directory of another path cannot be both: keep the files
    leaves = {p: c for p, c in files.items() if not any(q.startswith(p + "/") for q in files)}
    items = sorted(leaves.items())
    shuffled = data.draw(st.permutations(items))
    with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as two:
        fingerprints = []
        for root, order in ((Path(one), items), (Path(two), shuffled)):
            build(root, [("Dockerfile", "FROM scratch\n"), (".dockerignore", IGNORE), *order])
            fingerprints.append(fingerprint_context(root, root / "Dockerfile", {"X": "1"}))
        assert fingerprints[0] == fingerprints[1]
