"""Files in and out of a container as the Engine API carries them: tar archives.

Above the engine seam (``Engine.put_files``/``read_files``): every engine moves the same
bytes (``put_archive``/``get_archive``), and what is in them is built and read here once.
Imported only when a file is copied: ``tarfile`` (with ``shutil``, ``bz2``, ``lzma``) is a
few milliseconds no converged plan needs.
"""

from __future__ import annotations

import io
import posixpath
import tarfile
from collections.abc import Mapping


def tar(files: Mapping[str, bytes]) -> bytes:
    """A tar of ``files`` relative to ``/``, with entries for the directories below the
    first path component (which must exist: ``/etc``, ``/home`` …)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        directories: set[str] = set()
        for path in files:
            parts = path.strip("/").split("/")[:-1]
            directories.update("/".join(parts[:n]) for n in range(2, len(parts) + 1))
        for directory in sorted(directories):
            info = tarfile.TarInfo(directory)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            archive.addfile(info)
        for path, content in sorted(files.items()):
            info = tarfile.TarInfo(path.strip("/"))
            info.size, info.mode = len(content), 0o644
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def files_in(data: bytes) -> dict[str, bytes]:
    """The regular files directly in the directory a ``get_archive`` tar holds (its one
    top entry), by base name."""
    found = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        for member in archive.getmembers():
            content = archive.extractfile(member) if member.isfile() else None
            if content is not None and member.name.count("/") == 1:
                found[posixpath.basename(member.name)] = content.read()
    return found
