"""build_context: Docker's .dockerignore semantics, and the build fingerprint.

Each pattern row cites where Docker defines the behaviour: PM = moby/patternmatcher
patternmatcher.go (``New``, ``Pattern.compile``, ``MatchesUsingParentResults``), RA =
moby/patternmatcher ignorefile/ignorefile.go ``ReadAll``, FS = tonistiigi/fsutil filter.go
(BuildKit's walker), DOC = docs.docker.com "Build context" .dockerignore examples.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

from reconciler.errors import ConfigError
from reconciler.image.context import (
    BuildFingerprint,
    build_inputs,
    changed,
    fingerprint_context,
)
from reconciler.image.dockerignore import IgnoreMatcher, MatchType, dockerignore_patterns

ROOT = Path(__file__).resolve().parents[2]

# (ignore file text, path, excluded?, source of the behaviour)
PATTERN_ROWS = [
    ("*.log", "a.log", True, "PM: * is [^/]*"),
    ("*.log", "sub/a.log", False, "PM: * does not cross /; patterns are anchored at the root"),
    ("*.log\n!keep.log", "keep.log", False, "PM: a later ! exception re-includes"),
    ("*.log\n!keep.log", "other.log", True, "PM: the exception matches only keep.log"),
    ("**/node_modules", "node_modules", True, "PM: **/foo matches foo (suffix match)"),
    ("**/node_modules", "a/b/node_modules", True, "PM: ** spans any number of directories"),
    ("**/node_modules", "a/node_modules/x.js", True, "PM: a matched directory excludes below it"),
    ("**/node_modules", "a/my_node_modules", False, "PM: suffix keeps the / boundary"),
    ("/abs", "abs", True, "RA: a leading / is dropped"),
    ("/abs", "x/abs", False, "RA: /abs is the context root's abs only"),
    ("dir/", "dir/file", True, "RA: filepath.Clean drops the trailing /"),
    ("dir/", "dir", True, "RA: dir/ also matches the directory itself"),
    ("[a-c]x", "bx", True, "PM: [...] is a regexp class"),
    ("[a-c]x", "dx", False, "PM: outside the range"),
    ("[^a]x", "bx", True, "PM: [^...] negates, as in filepath.Match"),
    ("[^a]x", "ax", False, "PM: negated class"),
    ("[!a]", "b", False, "PM: ! is not negation in Go's globs: [!a] is { !, a }"),
    ("[!a]", "!", True, "PM: [!a] matches a literal !"),
    ("a\\*b", "a*b", True, "PM: \\ escapes the next character"),
    ("a\\*b", "axb", False, "PM: an escaped * is literal"),
    ("a?c", "abc", True, "PM: ? is [^/]"),
    ("a?c", "a/c", False, "PM: ? does not match /"),
    ("docs\n!docs/README.md", "docs/README.md", False, "FS: an exception inside an excluded dir"),
    ("docs\n!docs/README.md", "docs/other.md", True, "FS: the rest of the dir stays excluded"),
    ("*.md\n!README*.md\nREADME-secret.md", "README-secret.md", True, "DOC: the LAST match wins"),
    ("*.md\n!README*.md\nREADME-secret.md", "README.md", False, "DOC: exception for README*.md"),
    ("*/temp*", "somedir/temporary.txt", True, "DOC: */temp* one level down"),
    ("*/temp*", "temp", False, "DOC: */temp* not at the root"),
    ("*/*/temp*", "a/b/temp.txt", True, "DOC: two levels down"),
    ("temp?", "temp1", True, "DOC: temp? one character"),
    ("*", "a/b/c", True, "PM: * matches the top directory a, so everything below it"),
    ("foo/**", "foo/a/b", True, "PM: trailing ** is a prefix match"),
    ("foo/**", "foo", False, "PM: foo/** needs something below foo"),
    ("foo**", "foobar", True, "PM: **EOF right after text is a prefix match"),
    ("a/**/b", "a/b", True, "PM: ** may match zero directories"),
    ("a/**/b", "a/x/y/b", True, "PM: ** may match several directories"),
    ("**/*.txt", "x.txt", True, "PM: **/ matches at the root too"),
    ("a.b", "axb", False, "PM: . is escaped: a literal dot"),
    ("*+b", "a+b", True, "PM: + is escaped: a literal plus"),
    ("# comment\nfoo", "# comment", False, "RA: a line starting with # is a comment"),
    (" #foo", "#foo", True, "RA: # after leading space is not a comment"),
    ("  spaced  ", "spaced", True, "RA: lines are trimmed"),
    ("\ufefffoo", "foo", True, "RA: the UTF-8 BOM is dropped"),
    ("foo\r\nbar\r\n", "bar", True, "RA: bufio.ScanLines drops the \\r of CRLF"),
    ("a/../b", "b", True, "RA: filepath.Clean resolves .."),
    ("./x", "x", True, "RA: filepath.Clean drops ./"),
    ("! /inv", "inv", False, "RA: '! /inv' is the exception !inv"),
    ("[[:digit:]]x", "5x", True, "PM: Go's regexp POSIX class inside [...]"),
    ("\\d", "7", True, "PM: \\d reaches Go's regexp as a digit class (a Docker quirk)"),
    ("dir\n!dir/keep\ndir/keep/x", "dir/keep/x", True, "PM: last match wins below an exception"),
    ("dir\n!dir/keep\ndir/keep/x", "dir/keep/y", False, "PM: exception holds for the rest"),
]


@pytest.mark.parametrize(("text", "path", "excluded", "why"), PATTERN_ROWS)
def test_pattern_semantics_follow_docker(text: str, path: str, excluded: bool, why: str) -> None:
    assert IgnoreMatcher(dockerignore_patterns(text)).excludes(path) is excluded, why


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("foo", MatchType.EXACT),
        ("foo/**", MatchType.PREFIX),
        ("**/foo", MatchType.SUFFIX),
        ("**", MatchType.SUFFIX),
        ("**/foo*", MatchType.REGEXP),
        ("f[o]o", MatchType.REGEXP),
    ],
)
def test_match_types_are_patternmatchers(text: str, kind: MatchType) -> None:
    (pattern,) = dockerignore_patterns(text)
    assert pattern.match_type is kind


@pytest.mark.parametrize("bad", ["!", "! ", "[]", "[a-]", "[a", "foo\\", "a\\q"])
def test_patterns_docker_refuses_are_one_line_errors(bad: str) -> None:
    with pytest.raises(ConfigError) as err:
        dockerignore_patterns(f"ok\n{bad}\n", "ctx/.dockerignore")
    assert "ctx/.dockerignore: line 2: bad pattern" in str(err.value)
    assert "\n" not in str(err.value)


def test_comments_and_blank_lines_give_no_patterns() -> None:
    assert dockerignore_patterns("# a\n\n   \n#b\n") == ()


# --- walk and fingerprint ------------------------------------------------------------------


def make_tree(root: Path, files: dict[str, str], mtime_ns: int = 1_700_000_000_000_000_000) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        os.utime(path, ns=(mtime_ns, mtime_ns))


TREE = {
    "Dockerfile": "FROM scratch\n",
    ".dockerignore": "*.log\nbuild\n!build/keep.txt\n",
    "src/app.py": "print(1)\n",
    "debug.log": "noise\n",
    "build/out.bin": "x",
    "build/keep.txt": "kept",
}


def fingerprint(root: Path, args: dict[str, str] | None = None) -> BuildFingerprint:
    return fingerprint_context(root, root / "Dockerfile", args or {"A": "1"})


def test_same_tree_same_fingerprint(tmp_path: Path) -> None:
    make_tree(tmp_path / "one", TREE)
    make_tree(tmp_path / "two", dict(reversed(TREE.items())))
    first, second = fingerprint(tmp_path / "one"), fingerprint(tmp_path / "two")
    assert first == second
    assert changed(first, second) == []


def test_fingerprint_is_independent_of_pythonhashseed(tmp_path: Path) -> None:
    make_tree(tmp_path, TREE)
    code = (
        "import sys; from pathlib import Path; from reconciler.image.context import *;"
        "r = Path(sys.argv[1]); f = fingerprint_context(r, r / 'Dockerfile', {'B': '2', 'A': '1'});"
        "print(f.dockerfile, f.build_args, f.context)"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code, str(tmp_path)],
            env={**os.environ, "PYTHONHASHSEED": seed},
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("0", "1", "12345")
    }
    assert len(outputs) == 1


def edit(path: Path, content: str) -> None:
    path.write_text(content)
    os.utime(path, ns=(1_800_000_000_000_000_000,) * 2)


def test_editing_a_kept_file_changes_the_context(tmp_path: Path) -> None:
    make_tree(tmp_path, TREE)
    before = fingerprint(tmp_path)
    edit(tmp_path / "src/app.py", "print(2)\n")
    assert changed(before, fingerprint(tmp_path)) == ["build context changed"]


def test_a_kept_file_inside_an_excluded_dir_counts(tmp_path: Path) -> None:
    make_tree(tmp_path, TREE)
    before = fingerprint(tmp_path)
    edit(tmp_path / "build/keep.txt", "other")
    assert changed(before, fingerprint(tmp_path)) == ["build context changed"]


@pytest.mark.parametrize("ignored", ["debug.log", "build/out.bin", "build/new.o"])
def test_editing_an_ignored_file_changes_nothing(tmp_path: Path, ignored: str) -> None:
    make_tree(tmp_path, TREE)
    before = fingerprint(tmp_path)
    edit(tmp_path / ignored, "changed content, longer than before")
    assert fingerprint(tmp_path) == before


def test_dockerfile_and_args_are_their_own_hashes(tmp_path: Path) -> None:
    make_tree(tmp_path, {**TREE, ".dockerignore": "Dockerfile\n"})  # sent anyway: docker/cli
    before = fingerprint(tmp_path)
    assert fingerprint(tmp_path, {"A": "2"}).build_args != before.build_args
    assert changed(before, fingerprint(tmp_path, {"A": "2"})) == ["build args changed"]
    edit(tmp_path / "Dockerfile", "FROM busybox\n")
    assert changed(before, fingerprint(tmp_path)) == ["Dockerfile changed"]


@pytest.mark.parametrize("ignore", ["*.log\n", "Dockerfile\n"])  # kept or sent anyway
@pytest.mark.parametrize("where", ["Dockerfile", ".booth/Dockerfile"])
def test_each_input_is_the_only_reason_for_its_own_edit(
    tmp_path: Path, ignore: str, where: str
) -> None:
    make_tree(tmp_path, {**TREE, ".dockerignore": ignore, where: "FROM scratch\n"})

    def now(args: dict[str, str] | None = None) -> BuildFingerprint:
        return fingerprint_context(tmp_path, tmp_path / where, args or {"A": "1"})

    before = now()
    edit(tmp_path / where, "FROM busybox\n")  # content and mtime: not the context
    after_dockerfile = now()
    assert changed(before, after_dockerfile) == ["Dockerfile changed"]
    os.utime(tmp_path / where, ns=(1, 1))  # touched only: nothing to rebuild
    assert now() == after_dockerfile
    edit(tmp_path / "src/app.py", "print(3)\n")
    assert changed(after_dockerfile, now()) == ["build context changed"]
    assert changed(now(), now({"A": "2"})) == ["build args changed"]


def test_a_dockerfile_outside_the_context_is_hashed_on_its_own(tmp_path: Path) -> None:
    make_tree(tmp_path / "ctx", TREE)
    (tmp_path / "Dockerfile.outside").write_text("FROM scratch\n")
    before = fingerprint_context(tmp_path / "ctx", tmp_path / "Dockerfile.outside", {})
    edit(tmp_path / "Dockerfile.outside", "FROM busybox\n")
    after = fingerprint_context(tmp_path / "ctx", tmp_path / "Dockerfile.outside", {})
    assert changed(before, after) == ["Dockerfile changed"]


def test_a_dockerignore_edit_is_a_context_change(tmp_path: Path) -> None:
    # Docker sends .dockerignore with the context (COPY . copies it), and its rules decide
    # what else is sent: either way the context is what changed.
    make_tree(tmp_path, TREE)
    before = fingerprint(tmp_path)
    edit(tmp_path / ".dockerignore", "*.log\n")  # build/out.bin is sent now
    assert changed(before, fingerprint(tmp_path)) == ["build context changed"]


def test_build_args_hash_ignores_mapping_order(tmp_path: Path) -> None:
    make_tree(tmp_path, TREE)
    assert fingerprint(tmp_path, {"A": "1", "B": "2"}) == fingerprint(
        tmp_path, {"B": "2", "A": "1"}
    )


def test_excluded_dockerignore_is_still_part_of_the_context(tmp_path: Path) -> None:
    make_tree(tmp_path, {**TREE, ".dockerignore": ".dockerignore\n*.log\n"})
    before = fingerprint(tmp_path)
    edit(tmp_path / ".dockerignore", ".dockerignore\n*.log\n# edited\n")
    assert changed(before, fingerprint(tmp_path)) == ["build context changed"]


def test_dockerfile_specific_ignore_file_wins(tmp_path: Path) -> None:
    """BuildKit (frontend/dockerui/config.go) reads <Dockerfile>.dockerignore first."""
    make_tree(tmp_path, {**TREE, "Dockerfile.dockerignore": "src\n"})
    before = fingerprint(tmp_path)
    edit(tmp_path / "debug.log", "now kept: the context .dockerignore is not used")
    after = fingerprint(tmp_path)
    assert changed(before, after) == ["build context changed"]
    edit(tmp_path / "src/app.py", "ignored now")
    assert fingerprint(tmp_path) == after


def _refuse_to_open(monkeypatch: pytest.MonkeyPatch, name: str) -> list[str]:
    """Directory ``name`` cannot be opened, as one without read permission (root, which
    runs these tests in CI, could open it). Returns the list of refused attempts."""
    real = os.open
    refused: list[str] = []

    def refusing(path: str, flags: int, *args: object, **kwargs: object) -> int:
        if os.fspath(path).endswith(name) and flags & os.O_DIRECTORY:
            refused.append(os.fspath(path))
            raise PermissionError(13, "Permission denied")
        return real(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", refusing)
    return refused


@pytest.mark.parametrize(
    ("ignore", "walked"),
    [
        # Plainly excluded: never opened, so its permissions cannot matter.
        ("secret\n", False),
        # A later `!` pattern could keep something inside: it is walked (as fsutil does),
        # and, excluded, skipped when it cannot be read.
        ("secret\n!secret/keep\n", True),
    ],
)
def test_unreadable_excluded_dir_adds_nothing_and_is_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ignore: str, walked: bool
) -> None:
    make_tree(tmp_path / "with", {**TREE, "secret/x": "x", ".dockerignore": ignore})
    make_tree(tmp_path / "without", {**TREE, ".dockerignore": ignore})
    expected = fingerprint(tmp_path / "without")
    refused = _refuse_to_open(monkeypatch, "secret")
    assert fingerprint(tmp_path / "with") == expected
    assert refused == (["secret"] if walked else [])  # opened by name in its parent


def test_unreadable_kept_dir_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tree(tmp_path, TREE)
    _refuse_to_open(monkeypatch, "src")
    with pytest.raises(ConfigError) as err:
        fingerprint(tmp_path)
    assert str(err.value) == f"cannot read directory {tmp_path / 'src'}: Permission denied"


def test_unreadable_kept_file_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tree(tmp_path, TREE)
    (tmp_path / "src/app.py").chmod(0o600)
    monkeypatch.setattr(os, "geteuid", lambda: 4242)  # not the owner; root would read anything
    monkeypatch.setattr(os, "getgroups", lambda: [4242])
    monkeypatch.setattr(os, "getegid", lambda: 4242)
    with pytest.raises(ConfigError) as err:
        fingerprint(tmp_path)
    assert str(err.value) == f"cannot read {tmp_path / 'src/app.py'}: Permission denied"


def test_missing_dockerfile_and_context_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^cannot read Dockerfile .*nope: No such file"):
        fingerprint_context(tmp_path, tmp_path / "nope", {})
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    with pytest.raises(ConfigError, match=r"is not a directory$"):
        fingerprint_context(tmp_path / "missing", tmp_path / "Dockerfile", {})


def test_symlinks_are_not_followed(tmp_path: Path) -> None:
    make_tree(tmp_path, TREE)
    (tmp_path / "link").symlink_to(tmp_path / "src")
    before = fingerprint(tmp_path)
    edit(tmp_path / "src/app.py", "x" * 100)
    before_link = fingerprint(tmp_path)
    assert changed(before, before_link) == ["build context changed"]  # via src, not via link
    os.utime(tmp_path / "link", ns=(1, 1), follow_symlinks=False)
    assert fingerprint(tmp_path) != before_link  # the link's own lstat counts


def test_a_context_reached_through_a_symlink_is_walked_and_no_directory_stays_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tree(tmp_path / "real", TREE)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    before = len(os.listdir("/proc/self/fd"))
    direct = fingerprint(tmp_path / "real")
    assert (
        fingerprint_context(tmp_path / "link", tmp_path / "link" / "Dockerfile", {"A": "1"})
        == direct
    )
    _refuse_to_open(monkeypatch, "src")
    with pytest.raises(ConfigError):
        fingerprint(tmp_path / "real")
    assert len(os.listdir("/proc/self/fd")) == before


@pytest.mark.parametrize(
    ("bases", "triggers", "unread"),
    [
        ((), {}, True),  # FROM scratch: nothing can read it
        (("a", "b"), {"a": (), "b": ()}, True),
        (("a", "b"), {"a": ()}, False),  # b not on the engine: unknown
        (("a",), {"a": ("RUN true",)}, False),  # any trigger: walk
        (None, {}, False),  # the Dockerfile itself may read it
    ],
)
def test_a_build_reads_no_context_only_when_nothing_can(
    tmp_path: Path,
    bases: tuple[str, ...] | None,
    triggers: dict[str, tuple[str, ...]],
    unread: bool,
) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    inputs = build_inputs(tmp_path, tmp_path / "Dockerfile", {})
    assert attrs.evolve(inputs, trigger_bases=bases).context_unread(triggers) is unread
