"""What every benchmark does before it measures a ``booth`` process."""

from __future__ import annotations

import compileall
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "reconciler"


def compile_package() -> None:
    """Write booth's bytecode, as ``pip install`` does for an installed package.

    An editable install under ``PYTHONDONTWRITEBYTECODE=1`` (set on these machines)
    compiles every module from source in every process: ~50 ms per ``booth`` command that
    no installed copy pays, and that would be counted against booth (or, in a ratio of two
    booth commands, would dilute the difference).
    """
    compileall.compile_dir(str(PACKAGE), quiet=1)
