"""The build-context hash begun from the config file's first read, before the modules
that validate the config are even imported (:func:`prefetch`).

Its own module, in the config package: it reads the config's table (which image, which
Dockerfile) and starts the image package's walk, and the image package knows nothing
of configs.
"""

from __future__ import annotations

from reconciler.config.codingbooth import find_dockerfile
from reconciler.config.table import ConfigDocument
from reconciler.errors import ConfigError
from reconciler.image.context import context_walk
from reconciler.image.dockerfile import reads_context
from reconciler.image.hashing import ContextHashing


def prefetch(document: ConfigDocument) -> ContextHashing | None:
    """Begin hashing the build context that a ``plan`` or ``apply`` of the config read
    (``document``) will most likely need, before the modules that validate the config
    are imported.

    Why so early: the walk has to overlap the parent's work to cost nothing, and on a
    local engine the work after the config is read is short (a converged plan asks the
    engine in ~15 ms); importing the config's modules takes longer than the walk. So the
    little that decides the walk is read here from the table (``image`` and
    ``dockerfile``, CodingBooth's default ``.booth/Dockerfile`` and whether it reads the
    context (``dockerfile.reads_context``: if not, there is no walk to begin), the
    ignore file), with no validation: the workspace uses the result only for a walk
    equal to the one the validated config asks for (``ContextWalk`` equality: directory,
    ignore rules, the path left out) and walks anew otherwise. Anything unclear here (a
    Dockerfile that cannot be read, say) is left to the real load, which reports it: None.
    """
    raw = document.raw
    if raw.get("image"):
        return None
    named = raw.get("dockerfile")
    try:
        dockerfile = find_dockerfile(
            document.code, named if isinstance(named, str) and named else None, document.where
        )
        if dockerfile is None or not reads_context(dockerfile.read_text("utf-8", "replace")):
            return None  # no build, or most likely no walk (``Loading.result``)
        walk = context_walk(document.code, dockerfile)
    except (ConfigError, OSError, ValueError):
        return None
    return ContextHashing(walk)
