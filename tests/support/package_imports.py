"""The package's modules and what each imports, read from their source (the AST): for the
tests that hold imports to a rule (``test_layering.py``, ``test_command_set.py``)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "reconciler"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports(module: str) -> Iterator[tuple[str, bool]]:
    """The reconciler modules ``module`` imports, and whether inside a function."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            inside.update(id(child) for child in ast.walk(node) if child is not node)
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] != "reconciler":
                continue
            for alias in node.names:
                whole = f"{node.module}.{alias.name}"
                targets.append(whole if whole in MODULES else node.module)
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names if a.name.split(".")[0] == "reconciler"]
        for target in targets:
            yield target, id(node) in inside
