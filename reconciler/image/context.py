"""Fingerprint of a Docker build, so a booth image is rebuilt only when its inputs change. Only
the Dockerfile and the ignore file are read; other paths are ``lstat``-ed (mode, size, mtime).
Which paths the context holds follows ``.dockerignore`` as Docker applies it
(``image/dockerignore.py``).
"""

from __future__ import annotations

import hashlib
import json
import operator
import os
import stat
from collections.abc import Mapping
from pathlib import Path

import attrs

from reconciler.errors import ConfigError
from reconciler.image.dockerignore import (
    DOCKERIGNORE,
    IgnoreMatcher,
    MatchInfo,
    compile_pattern,
    dockerignore_patterns,
)


@attrs.frozen
class BuildFingerprint:
    """Three SHA-256 hex digests: what a booth image was built from."""

    dockerfile: str
    build_args: str
    context: str


def changed(old: BuildFingerprint, new: BuildFingerprint) -> list[str]:
    """Why ``new`` needs a rebuild after ``old``, in a fixed order (empty: up to date)."""
    reasons = [
        (old.dockerfile != new.dockerfile, "Dockerfile changed"),
        (old.context != new.context, "build context changed"),
        (old.build_args != new.build_args, "build args changed"),
    ]
    return [reason for differs, reason in reasons if differs]


def _show(path: os.PathLike[str] | str) -> str:
    """A path on one line, whatever its name holds."""
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in os.fspath(path))


def _read_bytes(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise ConfigError(f"cannot read {what} {_show(path)}: {err.strerror}") from None


def hash_build_args(build_args: Mapping[str, str]) -> str:
    """SHA-256 of the args as canonical JSON pairs, sorted by name."""
    pairs = sorted((str(k), str(v)) for k, v in build_args.items())
    return hashlib.sha256(json.dumps(pairs, ensure_ascii=False).encode()).hexdigest()


def context_matcher(context_dir: Path, dockerfile: Path) -> IgnoreMatcher:
    """The matcher ``docker build`` applies; BuildKit reads ``<Dockerfile>.dockerignore``
    first, then the context's ``.dockerignore``."""
    beside = dockerfile.with_name(dockerfile.name + DOCKERIGNORE)
    source = next((f for f in (beside, context_dir / DOCKERIGNORE) if os.path.lexists(f)), None)
    if source is None:
        return IgnoreMatcher(())
    text = _read_bytes(source, "ignore file").decode("utf-8", "surrogateescape")
    matcher = IgnoreMatcher(dockerignore_patterns(text, _show(source)))
    relative = dockerfile_in_context(context_dir, dockerfile)
    always = [DOCKERIGNORE, *([relative] if relative else [])]
    try:
        extra = tuple(compile_pattern("!" + name) for name in always if matcher.excludes(name))
    except ValueError:
        raise ConfigError(
            f"cannot keep {_show(relative or DOCKERIGNORE)} in the build context"
        ) from None
    return IgnoreMatcher(matcher.patterns + extra) if extra else matcher


def dockerfile_in_context(context_dir: Path, dockerfile: Path) -> str | None:
    """The Dockerfile's path in the context (None: it lies outside)."""
    relative = os.path.relpath(os.path.abspath(dockerfile), os.path.abspath(context_dir))
    return None if relative == ".." or relative.startswith("../") else relative


_BY_NAME = operator.attrgetter("name")
_KEPT: tuple[bool, MatchInfo] = (False, ())
# A directory of the context, opened to be listed (below the context: O_NOFOLLOW too).
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC


@attrs.define
class _Walk:
    """One walk of a context: appends a line per kept path to ``lines``, but none for
    ``skip`` (the Dockerfile, which has its own hash: an edit of it is "Dockerfile
    changed", not also "build context changed")."""

    matcher: IgnoreMatcher
    skip: str | None = None
    lines: list[str] = attrs.Factory(list)
    euid: int = attrs.Factory(lambda: os.geteuid())  # noqa: PLW0108 (looked up per walk)
    groups: frozenset[int] = attrs.Factory(lambda: frozenset((os.getegid(), *os.getgroups())))

    def directory(
        self, path: str, rel: str, info: MatchInfo, required: bool, at: int | None = None
    ) -> None:
        """Walk ``path`` (``rel`` in the context; ``at``: the open directory that holds it,
        None for the context itself); fsutil skips an excluded directory it cannot read.

        The loop is the fingerprint's whole cost besides one ``lstat`` per kept file, so
        each is cheap: the directory is open, and an entry's ``lstat`` looks up its bare
        name there (``fstatat``), not its whole path again; a kept file is handled inline;
        root skips the read check."""
        try:
            name = path if at is None else os.path.basename(path)
            fd = os.open(name, _DIR if at is None else _DIR | os.O_NOFOLLOW, dir_fd=at)
        except OSError as err:
            self._unreadable(path, required, err)
            return
        try:
            with os.scandir(fd) as it:
                entries = sorted(it, key=_BY_NAME)
        except OSError as err:
            self._unreadable(path, required, err)
        else:
            self._entries(fd, path, rel, info, entries)
        finally:
            os.close(fd)

    @staticmethod
    def _unreadable(path: str, required: bool, err: OSError) -> None:
        if required:
            raise ConfigError(f"cannot read directory {_show(path)}: {err.strerror}") from None

    def _entries(
        self, fd: int, path: str, rel: str, info: MatchInfo, entries: list[os.DirEntry[str]]
    ) -> None:
        match = self.matcher.match if self.matcher.patterns else None
        lines, skip, check_read = self.lines, self.skip, self.euid != 0
        for entry in entries:
            child = rel + entry.name
            excluded, child_info = match(child, info) if match else _KEPT
            if entry.is_dir(follow_symlinks=False):
                self._subdir(fd, path, entry, child, child_info, excluded)
                continue
            if excluded or child == skip:
                continue
            st = self._lstat(entry, path)
            if check_read and stat.S_ISREG(st.st_mode) and not self._readable(st):
                shown = _show(os.path.join(path, entry.name))
                raise ConfigError(f"cannot read {shown}: Permission denied")
            lines.append(f"{child}\0{st.st_mode:o}\0{st.st_size}\0{st.st_mtime_ns}")

    def _subdir(
        self,
        fd: int,
        parent: str,
        entry: os.DirEntry[str],
        rel: str,
        info: MatchInfo,
        excluded: bool,
    ) -> None:
        if excluded and not self.matcher.walks_excluded_dir(rel):
            return
        mark = len(self.lines)
        self.directory(os.path.join(parent, entry.name), rel + "/", info, not excluded, at=fd)
        if not excluded or len(self.lines) > mark:  # fsutil sends an excluded parent of a kept path
            self.lines.insert(mark, f"{rel}/\0{self._lstat(entry, parent).st_mode:o}")

    @staticmethod
    def _lstat(entry: os.DirEntry[str], parent: str) -> os.stat_result:
        """``fstatat`` of the entry in its open directory (``parent`` names it in errors)."""
        try:
            return entry.stat(follow_symlinks=False)
        except OSError as err:
            shown = _show(os.path.join(parent, entry.name))
            raise ConfigError(f"cannot stat {shown}: {err.strerror}") from None

    def _readable(self, st: os.stat_result) -> bool:
        """Permission bits only (no ACLs), so a kept file costs no extra system call."""
        owner, group = st.st_uid == self.euid, st.st_gid in self.groups
        bit = stat.S_IRUSR if owner else stat.S_IRGRP if group else stat.S_IROTH
        return bool(st.st_mode & bit)


def hash_context(context_dir: Path, matcher: IgnoreMatcher, skip: str | None = None) -> str:
    """SHA-256 over path, mode, size and mtime (ns) of every path the matcher keeps but
    ``skip``. The ignore file is one of them: an edit of it is a change of the context."""
    if not context_dir.is_dir():
        raise ConfigError(f"build context {_show(context_dir)} is not a directory")
    walk = _Walk(matcher, skip)
    walk.directory(os.fspath(context_dir), "", (), required=True)
    return hashlib.sha256("\n".join(walk.lines).encode("utf-8", "surrogateescape")).hexdigest()


def read_dockerfile(dockerfile: Path) -> bytes:
    """The Dockerfile's bytes; an unreadable one is a one-line error."""
    return _read_bytes(dockerfile, "Dockerfile")


@attrs.frozen
class ContextWalk:
    """What the context's hash walks: the directory, the ignore rules Docker applies to
    it, and the path left out (the Dockerfile). Reading the ignore file is done; the walk
    itself (the fingerprint's whole cost) is :meth:`digest`, so a caller can run it
    where it overlaps other work (``image/hashing.py``)."""

    context_dir: Path
    matcher: IgnoreMatcher
    skip: str | None

    def digest(self) -> str:
        return hash_context(self.context_dir, self.matcher, self.skip)


@attrs.frozen
class BuildInputs:
    """A build's fingerprint but the context's hash, which :attr:`walk` gives.

    ``trigger_bases``: when the Dockerfile itself reads no file of the context
    (``dockerfile.trigger_bases``), the base images whose ``ONBUILD`` triggers could
    still read it; None when it may read the context itself."""

    dockerfile: str
    build_args: str
    walk: ContextWalk
    trigger_bases: tuple[str, ...] | None = None

    def fingerprint(self, context: str) -> BuildFingerprint:
        return BuildFingerprint(self.dockerfile, self.build_args, context)

    def context_unread(self, triggers: Mapping[str, tuple[str, ...]]) -> bool:
        """Whether the build reads no file of the context, given the ``ONBUILD`` triggers
        of the base images the engine has (``triggers``: base → its triggers): the
        Dockerfile does not, and every base is there and has none. A base the engine
        lacks is unknown, and unknown means read."""
        bases = self.trigger_bases
        return bases is not None and all(triggers.get(base, ("?",)) == () for base in bases)


def build_inputs(
    context_dir: Path,
    dockerfile: Path,
    build_args: Mapping[str, str],
    *,
    content: bytes | None = None,
) -> BuildInputs:
    """Everything of ``docker build -f dockerfile --build-arg ... context_dir`` read but
    the context's tree (a relative ``dockerfile`` is taken from the current directory, as
    ``docker build -f``). ``content``: the Dockerfile's bytes, if read already."""
    if content is None:
        content = read_dockerfile(dockerfile)
    walk = context_walk(context_dir, dockerfile)
    return BuildInputs(hashlib.sha256(content).hexdigest(), hash_build_args(build_args), walk)


def context_walk(context_dir: Path, dockerfile: Path) -> ContextWalk:
    """The walk of ``context_dir`` that a build with ``dockerfile`` needs (reads the
    ignore file; one-line errors)."""
    return ContextWalk(
        context_dir,
        context_matcher(context_dir, dockerfile),
        dockerfile_in_context(context_dir, dockerfile),
    )


def fingerprint_context(
    context_dir: Path,
    dockerfile: Path,
    build_args: Mapping[str, str],
    *,
    content: bytes | None = None,
) -> BuildFingerprint:
    """The whole fingerprint of a build, its context walked here and now."""
    inputs = build_inputs(context_dir, dockerfile, build_args, content=content)
    return inputs.fingerprint(inputs.walk.digest())
