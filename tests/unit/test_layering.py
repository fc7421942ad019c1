"""The package map of docs/design.md, held against the code's own imports.

Read statically (the AST of every module), so a forbidden import fails here even on a path
no test runs. Three rules:

* each package imports only the packages below it (:data:`MAY_IMPORT`, the same table as
  the design's package map, which a test keeps in step);
* no two modules import each other, however long the loop;
* an import inside a function defers a heavy dependency and says which: the only ones
  allowed are listed in :data:`DEFERRED`, each with its reason.
"""

from __future__ import annotations

import re

import pytest
from package_imports import MODULES, ROOT, imports

# Package (first level under reconciler/; a top-level module is its own) -> what it may
# import besides itself. ``errors`` and ``files`` are the ground floor.
GROUND = {"errors", "files"}
MAY_IMPORT: dict[str, set[str]] = {
    "errors": set(),
    "files": {"errors"},
    "ui": GROUND,
    "core": GROUND,
    "image": GROUND | {"ui"},
    "config": GROUND | {"ui", "core", "image"},
    "engine": GROUND | {"ui", "core"},
    "apply": GROUND | {"ui", "core", "image", "config", "engine"},
    "render": GROUND | {"ui", "core", "config", "engine"},
    "app": GROUND | {"ui", "core", "image", "config", "engine", "apply", "render"},
    "cli": GROUND | {"ui", "core", "image", "config", "engine", "apply", "render", "app", ""},
    "__main__": {"cli"},
}

# (importing module, imported module) -> why the import waits until a function runs.
R = "reconciler."
DEFERRED: dict[tuple[str, str], str] = {
    (R + "app.flow", R + "apply.execute"): "certificates, readiness, undo: ~12 ms a converged "
    "apply never needs",
    (R + "app.flow", R + "apply.lock"): "tempfile (shutil, random, bz2, lzma): ~5 ms a plan "
    "never needs",
    (R + "app.workspace", R + "app.session"): "terminal (termios, tty) and piping: only a "
    "session needs them",
    (R + "cli.commands", R + "app.booth_exec"): "termios, tty, the terminal: exec and logs only",
    (R + "cli.commands", R + "app.doctor"): "its probes: doctor only",
    (R + "cli.commands", R + "app.session"): "terminal (termios, tty) and piping: run and a "
    "session only",
    (R + "cli.commands", R + "render.docker"): "docker_args and shlex: --format docker only",
    (R + "cli.commands", R + "render.kubernetes.manifests"): "yaml: render only",
    (R + "cli.commands", R + "render.session"): "docker_args and shlex: --dryrun only",
    (R + "cli.main", R + "cli.commands"): "the pipeline: ~90 ms --help, completion and a "
    "usage error never need",
    (R + "cli.main", R + "config.table"): "attrs and the TOML reader: --help never needs them",
    (R + "cli.main", R + "config.prefetch"): "the config and the image packages: --help "
    "never needs them",
    (R + "cli.main", R + "engine.connect"): "the docker CLI's config (json, hashlib): --help "
    "never needs it",
    (R + "engine.connect", R + "engine.docker.engine"): "the Docker SDK (requests, urllib3): "
    "only a tcp or TLS engine",
    (R + "engine.connect", R + "engine.unix.engine"): "only the engine the address names is loaded",
    (R + "engine.connect", R + "engine.ssh_tunnel"): "subprocess plumbing: only an ssh:// engine",
    (R + "engine.engine", R + "engine.archives"): "tarfile (bz2, lzma): a converged plan "
    "copies no file",
    (R + "engine.unix.engine", R + "engine.docker.engine"): "the Docker SDK: loaded on the "
    "first write, which a converged plan never makes",
}


def package_of(module: str) -> str:
    """``reconciler.core.model`` -> ``core``; ``reconciler.errors`` -> ``errors``;
    ``reconciler`` (its ``__version__``) -> ``""``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_every_package_is_in_the_table() -> None:
    packages = {package_of(module) for module in MODULES} - {""}
    assert packages == set(MAY_IMPORT)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_module_imports_only_the_packages_below_its_own(module: str) -> None:
    own = package_of(module)
    allowed = MAY_IMPORT.get(own, set()) | {own}
    wrong = sorted({t for t, _ in imports(module) if package_of(t) not in allowed})
    assert not wrong, f"{module} ({own}) may import only {sorted(allowed)}; it imports {wrong}"


def test_no_import_cycle() -> None:
    graph = {m: {t for t, _ in imports(m) if t in MODULES and t != m} for m in MODULES}
    # A package's face imports nothing it is part of; ``reconciler`` itself is only a name.
    graph = {m: {t for t in ts if t != "reconciler"} for m, ts in graph.items()}
    seen: dict[str, int] = {}  # 1 on the path, 2 done
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        seen[node] = 1
        for nxt in sorted(graph[node]):
            if seen.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in seen:
                visit(nxt, [*path, nxt])
        seen[node] = 2

    for module in sorted(graph):
        if module not in seen:
            visit(module, [module])
    assert not cycles, " ; ".join(" -> ".join(c) for c in cycles)


def test_imports_inside_functions_only_defer_a_heavy_dependency() -> None:
    found = {(m, t) for m in MODULES for t, inner in imports(m) if inner}
    assert found <= set(DEFERRED), sorted(found - set(DEFERRED))


def test_the_deferred_imports_are_still_there() -> None:
    """An entry of :data:`DEFERRED` that the code no longer has is removed with it."""
    found = {(m, t) for m in MODULES for t, inner in imports(m) if inner}
    assert set(DEFERRED) <= found, sorted(set(DEFERRED) - found)


MAP_LINE = re.compile(r"^[-*] `(?:reconciler/)?([a-z_]+)(?:/|\.py)?` .*?May import: ([^.]*)\.")


def test_the_design_map_states_the_same_rules() -> None:
    """docs/design.md opens with the package map: one line per package and what it may
    import, as ``- `name/` ... May import: a, b.``; it must say what this test enforces."""
    design = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    stated: dict[str, set[str]] = {}
    for line in design.splitlines():
        match = re.match(
            r"^[-*] `(?:reconciler/)?([a-z_]+)(?:/|\.py)?` .*?May import: ([^.]*)\.", line
        )
        if match:
            names = {n.strip(" `/") for n in match.group(2).split(",")}
            stated[match.group(1)] = {n.removesuffix(".py") for n in names} - {"nothing"}
    expected = {
        p: {i for i in allowed if i} for p, allowed in MAY_IMPORT.items() if p != "__main__"
    }
    assert stated == expected


# Inside a package: (modules under this prefix) -> (prefixes they must not import), why.
INNER_RULES = [
    (
        "reconciler.engine.memory",
        ("reconciler.engine.docker", "reconciler.engine.unix"),
        "the in-memory engine stands beside the real ones, never on them",
    ),
    (
        "reconciler.engine.docker",
        ("reconciler.engine.unix", "reconciler.engine.memory"),
        "the SDK engine knows no other engine",
    ),
    (
        "reconciler.config.runargs",
        (
            "reconciler.config.booth_config",
            "reconciler.config.desired",
            "reconciler.config.parity",
            "reconciler.config.table",
        ),
        "docker run's grammar is the config's part, not its reader",
    ),
]


@pytest.mark.parametrize(("inside", "never", "why"), INNER_RULES)
def test_what_a_subpackage_never_imports(inside: str, never: tuple[str, ...], why: str) -> None:
    wrong = sorted(
        f"{m} -> {t}"
        for m in MODULES
        if m.startswith(inside + ".")
        for t, _ in imports(m)
        if t.startswith(never)
    )
    assert not wrong, f"{why}: {wrong}"


def test_only_tests_use_the_memory_engine() -> None:
    """The package never runs on the in-memory engine: only tests (and the contract
    suite) plug it in."""
    wrong = sorted(
        f"{m} -> {t}"
        for m in MODULES
        if not m.startswith("reconciler.engine.memory")
        for t, _ in imports(m)
        if t.startswith("reconciler.engine.memory")
    )
    assert not wrong, wrong


def test_an_engine_is_chosen_in_one_place() -> None:
    """Above the engines, only ``engine.connect`` names one (docker, unix): everything
    else sees the seam."""
    engines = ("reconciler.engine.docker", "reconciler.engine.unix")
    wrong = sorted(
        f"{m} -> {t}"
        for m in MODULES
        if not m.startswith(engines) and m != "reconciler.engine.connect"
        for t, _ in imports(m)
        if t.startswith(engines)
    )
    assert not wrong, wrong
